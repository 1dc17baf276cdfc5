using System.Text;
using System.Text.RegularExpressions;

namespace Meshgate.Demo;

/// <summary>One command of the document, with what the document shows it prints.</summary>
/// <param name="Section">The <c>##</c> heading it is under, and the <c>###</c> one if any ("Egress gateway for HTTP traffic / Cleanup HTTP gateway").</param>
/// <param name="Line">Its line in the document (1-based), to name it when it fails.</param>
/// <param name="Command">The command as written (heredocs and continued lines included), without the <c>$ </c>.</param>
/// <param name="Output">The lines the document shows after it (<c>...</c> stands for lines left out); empty when none.</param>
/// <param name="SimilarLine">A line the document shows separately ("a line similar to the following"), from the
/// <c>text plain</c> block after the command; null when none.</param>
/// <param name="Include">For "Follow the steps in the [X](#x) section": the section whose steps run here; the other fields are empty then.</param>
public sealed record SeedStep(string Section, int Line, string Command, IReadOnlyList<string> Output, string? SimilarLine = null, string? Include = null);

/// <summary>
/// Reads Istio's documentation page (Hugo markdown with <c>{{&lt; text bash &gt;}}</c> blocks and
/// <c>{{&lt; tabset &gt;}}</c> tabs) into the commands a reader runs for one tab, in order: what the document-as-a-test
/// and <c>meshgate demo --cluster</c> execute. Blocks of the other tab and blocks not meant to be run
/// (<c>snip_id=none</c>, YAML shown for reading) are left out; "Follow the steps in the [X](#x) section" becomes an
/// include of that section.
/// </summary>
public static partial class SeedDocument
{
    public const string IstioApis = "istio-apis";
    public const string GatewayApi = "gateway-api";

    /// <summary>The Egress Gateways page, as embedded in this program (<c>samples/istio/egress-gateways.md</c>).</summary>
    public static string Text()
    {
        using var stream = typeof(SeedDocument).Assembly.GetManifestResourceStream("egress-gateways.md")
            ?? throw new InvalidOperationException("the Egress Gateways page is not embedded in this program");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    /// <summary>The steps of <paramref name="tab"/> (<see cref="IstioApis"/> or <see cref="GatewayApi"/>), by section.</summary>
    public static IReadOnlyList<SeedStep> Parse(string text, string tab)
    {
        var lines = text.Replace("\r", "", StringComparison.Ordinal).Split('\n');
        var steps = new List<SeedStep>();
        string section = "", subsection = "";
        string? currentTab = null;
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i];
            var trimmed = line.Trim();
            if (line.StartsWith("## ", StringComparison.Ordinal))
            {
                section = line[3..].Trim();
                subsection = "";
                continue;
            }

            if (line.StartsWith("### ", StringComparison.Ordinal))
            {
                subsection = line[4..].Trim();
                continue;
            }

            if (TabStart().Match(trimmed) is { Success: true } tabMatch)
            {
                currentTab = tabMatch.Groups[1].Value;
                continue;
            }

            if (trimmed == "{{< /tab >}}")
            {
                currentTab = null;
                continue;
            }

            var where = subsection.Length == 0 ? section : section + " / " + subsection;
            if (currentTab is not null && currentTab != tab)
            {
                continue;
            }

            // The sentence may wrap: "Follow the steps in the\n    [Egress gateway for HTTPS traffic](#...) section."
            if (FollowSteps().Match(i + 1 < lines.Length ? trimmed + " " + lines[i + 1].Trim() : trimmed) is { Success: true } follow
                && trimmed.Contains("Follow the steps in the", StringComparison.Ordinal))
            {
                steps.Add(new SeedStep(where, i + 1, "", [], Include: follow.Groups[1].Value));
                i += trimmed.EndsWith("section.", StringComparison.Ordinal) ? 0 : 1;
                continue;
            }

            // "bask" is the page's own typo for the access-log step; snip_id=none marks examples not to be run.
            if (trimmed is "{{< text bash >}}" or "{{< text bask >}}")
            {
                var end = Array.FindIndex(lines, i + 1, l => l.Trim() == "{{< /text >}}");
                ReadBlock(lines[(i + 1)..end], where, i + 2, steps);
                i = end;
                continue;
            }

            if (trimmed == "{{< text plain >}}" && steps.Count > 0 && steps[^1].Include is null)
            {
                var end = Array.FindIndex(lines, i + 1, l => l.Trim() == "{{< /text >}}");
                var similar = string.Join('\n', lines[(i + 1)..end].Select(l => l.Trim()).Where(l => l.Length > 0));
                steps[^1] = steps[^1] with { SimilarLine = similar };
                i = end;
            }
        }

        return steps;
    }

    /// <summary>The commands of one bash block (<c>$ </c> lines, continued by heredocs or a trailing backslash) and their output.</summary>
    private static void ReadBlock(string[] block, string section, int firstLine, List<SeedStep> steps)
    {
        var indent = block.Where(l => l.Trim().Length > 0).Select(l => l.Length - l.TrimStart().Length).DefaultIfEmpty(0).Min();
        StringBuilder? command = null;
        var output = new List<string>();
        var commandLine = 0;
        string? heredoc = null;
        for (var j = 0; j < block.Length; j++)
        {
            var line = block[j].Length >= indent ? block[j][indent..] : block[j].TrimStart();
            if (heredoc is not null)
            {
                command!.Append('\n').Append(line);
                if (line.Trim() == heredoc)
                {
                    heredoc = null;
                }

                continue;
            }

            if (command is not null && output.Count == 0 && command.ToString().EndsWith('\\'))
            {
                command.Append('\n').Append(line);
                continue;
            }

            if (line.StartsWith("$ ", StringComparison.Ordinal))
            {
                Flush();
                command = new StringBuilder(line[2..]);
                commandLine = firstLine + j;
                heredoc = Heredoc().Match(line) is { Success: true } h ? h.Groups[1].Value : null;
                continue;
            }

            if (command is not null && line.Trim().Length > 0)
            {
                output.Add(line.TrimEnd());
            }
        }

        Flush();

        void Flush()
        {
            if (command is not null)
            {
                steps.Add(new SeedStep(section, commandLine, command.ToString(), [.. output]));
            }

            command = null;
            output = [];
        }
    }

    [GeneratedRegex("""^\{\{< tab name="[^"]*" category-value="([^"]+)" >\}\}$""")]
    private static partial Regex TabStart();

    [GeneratedRegex("""Follow the steps in the \[([^\]]+)\]\(#[^)]*\) section""")]
    private static partial Regex FollowSteps();

    [GeneratedRegex("""<<-?\s*'?([A-Z]+)'?""")]
    private static partial Regex Heredoc();
}

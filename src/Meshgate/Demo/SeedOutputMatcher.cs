using System.Text.RegularExpressions;

namespace Meshgate.Demo;

/// <summary>
/// Whether what a command printed is what the document shows. The document's outputs come from another cluster on
/// another day, so what must differ is normalised away: pod name hashes, ages, addresses, times, ids, spacing, and
/// header case (curl prints HTTP/2 headers lower-case). <c>...</c> in the document stands for lines left out. A log line
/// "similar to" the document's must have its request (or <c>"- - -"</c>), response code and cluster. One output is
/// read for what it means rather than letter by letter: the blocked request's <c>curl -v</c> is from an older curl that
/// also tried IPv6 addresses; what it shows is that the connection timed out.
/// </summary>
public static partial class SeedOutputMatcher
{
    /// <returns>Null when it matches; otherwise what is missing, for the failure message.</returns>
    public static string? Check(SeedStep step, int exitCode, string output)
    {
        var lines = output.Replace("\r", "", StringComparison.Ordinal).Split('\n');
        if (step.Output.Any(l => l.Contains("Connection timed out", StringComparison.Ordinal)))
        {
            return exitCode != 0 && output.Contains("Connection timed out", StringComparison.Ordinal)
                ? null
                : $"expected the connection to time out (exit status not 0, \"Connection timed out\"), got exit {exitCode}";
        }

        if (exitCode != 0)
        {
            return $"exit status {exitCode}";
        }

        var position = 0;
        foreach (var expected in step.Output.Where(l => l.Trim() != "..."))
        {
            var want = Normalize(expected);
            var found = Array.FindIndex(lines, position, l => Normalize(l) == want);
            if (found < 0)
            {
                return $"the document shows \"{expected.Trim()}\"" + (position > 0 ? " after what matched before" : "");
            }

            position = found + 1;
        }

        if (step.SimilarLine is { } similar)
        {
            foreach (var documentLine in similar.Split('\n'))
            {
                if (LogLine().Match(documentLine) is not { Success: true } shape)
                {
                    continue;
                }

                var request = shape.Groups["request"].Value;
                var code = shape.Groups["code"].Value;
                var cluster = Cluster().Match(documentLine).Value;
                if (!lines.Any(l => l.Contains(request + " " + code + " ", StringComparison.Ordinal) && l.Contains(" " + cluster + " ", StringComparison.Ordinal)))
                {
                    return $"no log line like the document's: {request} {code} ... {cluster}";
                }
            }
        }

        return null;
    }

    /// <summary>Spacing collapsed, case folded, and what differs between clusters replaced by placeholders.</summary>
    public static string Normalize(string line)
    {
        var text = Spaces().Replace(line.Trim(), " ").ToLowerInvariant();
        text = PodName().Replace(text, "$1-POD");
        text = Age().Replace(text, " AGE");
        return text;
    }

    [GeneratedRegex(@"\s+")]
    private static partial Regex Spaces();

    /// <summary>Deployment pod names: <c>sleep-776b7bcdcd-z7mc4</c>.</summary>
    [GeneratedRegex(@"\b([a-z][a-z0-9-]*?)-[a-z0-9]{8,10}-[a-z0-9]{5}\b")]
    private static partial Regex PodName();

    [GeneratedRegex(@" \d+(s|m|h|d)$")]
    private static partial Regex Age();

    /// <summary>An Envoy access-log line: <c>[time] "REQUEST" CODE ...</c>.</summary>
    [GeneratedRegex("""^\[[^\]]+\] (?<request>"[^"]*") (?<code>\d+) """)]
    private static partial Regex LogLine();

    [GeneratedRegex(@"outbound\|\d+\|[^|\s]*\|[^\s]+")]
    private static partial Regex Cluster();
}

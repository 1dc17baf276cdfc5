using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Meshgate.Core.Analysis;
using Meshgate.Core.Yaml;

namespace Meshgate.Writers;

/// <summary>Prints analysis findings as istioctl analyze does: one line each (<c>log</c>), or a JSON/YAML list.</summary>
public static class FindingWriter
{
    private static readonly JsonSerializerOptions Indented = new()
    {
        WriteIndented = true,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static string Text(IReadOnlyList<Finding> findings)
    {
        var text = new StringBuilder();
        foreach (var finding in findings)
        {
            text.Append(finding).Append('\n');
        }

        return text.ToString();
    }

    public static string Json(IReadOnlyList<Finding> findings) => JsonSerializer.Serialize(Document(findings), Indented) + "\n";

    public static string Yaml(IReadOnlyList<Finding> findings) => findings.Count == 0 ? "[]\n" : YamlWriter.Write(Document(findings));

    /// <summary>istioctl's fields (code, level, origin, message, documentationUrl) plus the field path and the fix.</summary>
    private static JsonArray Document(IReadOnlyList<Finding> findings) =>
        new(findings.Select(f => (JsonNode)new JsonObject
        {
            ["code"] = f.Code.Code,
            ["level"] = f.Severity.ToString(),
            ["origin"] = f.Resource.ToString(),
            ["field"] = f.Field,
            ["message"] = f.Message,
            ["fix"] = f.Fix,
            ["documentationUrl"] = f.Code.Documentation,
        }).ToArray());

    /// <summary><c>1 error, 2 warnings</c>: the counts by severity, worst first, for the closing line.</summary>
    public static string Counts(IReadOnlyList<Finding> findings)
    {
        var parts = new List<string>();
        foreach (var (severity, one, many) in new[] { (Severity.Error, "error", "errors"), (Severity.Warning, "warning", "warnings"), (Severity.Info, "info", "info") })
        {
            var count = findings.Count(f => f.Severity == severity);
            if (count > 0)
            {
                parts.Add($"{count} {(count == 1 ? one : many)}");
            }
        }

        return string.Join(", ", parts);
    }
}

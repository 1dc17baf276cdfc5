using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Meshgate.Writers;

/// <summary>
/// kubectl describe's layout for any object (its generic describer, <c>printUnstructuredContent</c> in
/// k8s.io/kubectl/pkg/describe/describe.go): Name, Namespace, Labels and Annotations first, then every other field,
/// sorted, with camelCase keys spelled as words ("gatewayClassName" → "Gateway Class Name"), nested fields indented
/// and the values of each run of sibling fields aligned. Lists of conditions are tables (Type, Status, Reason, Message,
/// Last Transition Time), as kubectl shows a Pod's.
/// </summary>
public static class ObjectDescriber
{
    private const string Indent = "  ";

    /// <summary>golint's common initialisms, which kubectl's <c>smartLabelFor</c> keeps upper-case.</summary>
    private static readonly HashSet<string> Initialisms = new(StringComparer.Ordinal)
    {
        "API", "ASCII", "CPU", "CSS", "DNS", "EOF", "GUID", "HTML", "HTTP", "HTTPS", "ID", "IP", "JSON", "LHS", "QPS", "RAM",
        "RHS", "RPC", "SLA", "SMTP", "SQL", "SSH", "TCP", "TLS", "TTL", "UDP", "UI", "UID", "UUID", "URI", "URL", "UTF8", "VM",
        "XML", "XSRF", "XSS",
    };

    private static readonly string[] ConditionColumns = ["Type", "Status", "Reason", "Message", "Last Transition Time"];

    public static string Describe(JsonObject obj)
    {
        var text = new StringBuilder();
        var metadata = obj["metadata"] as JsonObject ?? [];
        var header = new List<(string Key, string Value)> { ("Name", Scalar(metadata["name"])) };
        if (metadata["namespace"] is { } ns)
        {
            header.Add(("Namespace", Scalar(ns)));
        }

        header.Add(("Labels", Map(metadata["labels"] as JsonObject, "=")));
        header.Add(("Annotations", Map(metadata["annotations"] as JsonObject, ": ")));
        var rest = new JsonObject();
        foreach (var (key, value) in obj)
        {
            if (key != "metadata")
            {
                rest[key] = value?.DeepClone();
            }
        }

        var metadataRest = new JsonObject();
        foreach (var (key, value) in metadata)
        {
            if (key is not ("name" or "namespace" or "labels" or "annotations" or "managedFields"))
            {
                metadataRest[key] = value?.DeepClone();
            }
        }

        rest["metadata"] = metadataRest;

        // The header and the top-level scalars (API Version, Kind) are one aligned run, as in kubectl's output.
        var lines = new List<(string Key, string Value)>(header);
        var nested = new List<(string Key, JsonNode Value)>();
        foreach (var (key, value) in Sorted(rest))
        {
            if (value is JsonObject or JsonArray)
            {
                nested.Add((key, value));
            }
            else if (value is not null)
            {
                lines.Add((Label(key), Scalar(value)));
            }
        }

        WriteRun(text, 0, lines);
        foreach (var (key, value) in nested)
        {
            WriteField(text, 0, key, value);
        }

        text.Append("Events:").Append(Indent).Append("<none>\n");
        return text.ToString();
    }

    /// <summary>kubectl's <c>smartLabelFor</c>: <c>apiVersion</c> → <c>API Version</c>, <c>podIP</c> → <c>Pod IP</c>.</summary>
    public static string Label(string field)
    {
        var words = new List<string>();
        var start = 0;
        for (var i = 1; i <= field.Length; i++)
        {
            var boundary = i == field.Length
                || (char.IsUpper(field[i]) && !char.IsUpper(field[i - 1]))
                || (char.IsUpper(field[i]) && i + 1 < field.Length && char.IsLower(field[i + 1]) && char.IsUpper(field[i - 1]))
                || field[i] is '_' or '-' or '.' or '/';
            if (!boundary)
            {
                continue;
            }

            var word = field[start..i].Trim('_', '-', '.', '/');
            if (word.Length > 0)
            {
                var upper = word.ToUpperInvariant();
                words.Add(Initialisms.Contains(upper) ? upper : char.ToUpperInvariant(word[0]) + word[1..]);
            }

            start = i;
        }

        return string.Join(' ', words);
    }

    private static void WriteField(StringBuilder text, int level, string key, JsonNode value)
    {
        Line(text, level, Label(key) + ":");
        switch (value)
        {
            case JsonArray conditions when key == "conditions" && IsConditionList(conditions):
                WriteConditions(text, level + 1, conditions);
                break;
            case JsonObject child:
                WriteObject(text, level + 1, child);
                break;
            case JsonArray items:
                foreach (var item in items)
                {
                    if (item is JsonObject element)
                    {
                        WriteObject(text, level + 1, element);
                    }
                    else if (item is JsonArray inner)
                    {
                        WriteField(text, level + 1, "-", inner);
                    }
                    else
                    {
                        Line(text, level + 1, Scalar(item));
                    }
                }

                break;
        }
    }

    /// <summary>Scalars as one aligned run, each nested field as its own block, in key order.</summary>
    private static void WriteObject(StringBuilder text, int level, JsonObject obj)
    {
        var run = new List<(string Key, string Value)>();
        foreach (var (key, value) in Sorted(obj))
        {
            if (value is JsonObject or JsonArray)
            {
                WriteRun(text, level, run);
                run.Clear();
                WriteField(text, level, key, value);
            }
            else if (value is not null)
            {
                run.Add((Label(key), Scalar(value)));
            }
        }

        WriteRun(text, level, run);
    }

    private static void WriteRun(StringBuilder text, int level, List<(string Key, string Value)> run)
    {
        var width = 0;
        foreach (var (key, _) in run)
        {
            width = Math.Max(width, key.Length + 1);
        }

        foreach (var (key, value) in run)
        {
            var prefix = (key + ":").PadRight(width) + Indent;
            var continuation = new string(' ', prefix.Length);
            var valueLines = value.Split('\n');
            Line(text, level, prefix + valueLines[0]);
            for (var i = 1; i < valueLines.Length; i++)
            {
                Line(text, level, continuation + valueLines[i]);
            }
        }
    }

    private static void WriteConditions(StringBuilder text, int level, JsonArray conditions)
    {
        List<string[]> rows = [ConditionColumns, [.. ConditionColumns.Select(c => new string('-', c.Length))]];
        foreach (var node in conditions)
        {
            var condition = (JsonObject)node!;
            string[] row = [Scalar(condition["type"]), Scalar(condition["status"]), Scalar(condition["reason"]), Scalar(condition["message"]), Scalar(condition["lastTransitionTime"])];
            rows.Add(row);
        }

        var widths = new int[ConditionColumns.Length];
        foreach (var row in rows)
        {
            for (var i = 0; i < row.Length; i++)
            {
                widths[i] = Math.Max(widths[i], row[i].Length);
            }
        }

        foreach (var row in rows)
        {
            var line = new StringBuilder();
            for (var i = 0; i < row.Length; i++)
            {
                line.Append(i == row.Length - 1 ? row[i] : row[i].PadRight(widths[i] + 2));
            }

            Line(text, level, line.ToString().TrimEnd());
        }
    }

    private static bool IsConditionList(JsonArray items)
    {
        foreach (var item in items)
        {
            if (item is not JsonObject condition || condition["type"] is null || condition["status"] is null)
            {
                return false;
            }
        }

        return items.Count > 0;
    }

    private static void Line(StringBuilder text, int level, string line)
    {
        for (var i = 0; i < level; i++)
        {
            text.Append(Indent);
        }

        text.Append(line).Append('\n');
    }

    private static IEnumerable<KeyValuePair<string, JsonNode?>> Sorted(JsonObject obj) =>
        obj.OrderBy(p => Label(p.Key), StringComparer.Ordinal);

    /// <summary>Labels as <c>k=v</c>, annotations as <c>k: v</c>, one per line; <c>&lt;none&gt;</c> when there are none.</summary>
    private static string Map(JsonObject? map, string separator)
    {
        if (map is not { Count: > 0 })
        {
            return "<none>";
        }

        var entries = new List<string>();
        foreach (var (key, value) in map.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            entries.Add(key + separator + Scalar(value));
        }

        return string.Join('\n', entries);
    }

    private static string Scalar(JsonNode? node) => node switch
    {
        null => "",
        JsonValue value when value.GetValueKind() == JsonValueKind.String => value.GetValue<string>(),
        _ => node.ToJsonString(),
    };
}

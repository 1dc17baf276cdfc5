using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Meshgate.Writers;

/// <summary>
/// A parsed kubectl-style JSONPath template (<c>-o jsonpath=...</c>): literal text mixed with
/// <c>{path}</c>, <c>{"literal"}</c> and <c>{range path}...{end}</c> actions.
/// </summary>
/// <remarks>
/// Evaluation follows kubectl: missing fields print nothing, several results of one action are
/// joined by a single space, strings print raw, other scalars as JSON text, objects and arrays as
/// compact JSON. As in kubectl, a leading <c>$</c> or <c>@</c> refers to the current object
/// (the element being ranged over inside <c>{range}</c>). Instances are immutable and thread-safe.
/// </remarks>
public sealed class JsonPathTemplate
{
    private static readonly JsonSerializerOptions CompactJson = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        WriteIndented = false,
    };

    private readonly List<TemplateNode> _nodes;

    private JsonPathTemplate(List<TemplateNode> nodes)
    {
        _nodes = nodes;
    }

    /// <summary>Parses <paramref name="template"/>.</summary>
    /// <param name="template">The template text, e.g. <c>{range .items[*]}{.metadata.name}{"\n"}{end}</c>.</param>
    /// <param name="result">The parsed template, or null on failure.</param>
    /// <param name="error">
    /// On failure, a one-line message naming the zero-based character position and what was
    /// expected, e.g. <c>jsonpath: unclosed '{' at position 7</c>; otherwise null.
    /// </param>
    /// <returns>True when the template is valid.</returns>
    public static bool TryParse(
        string template,
        [NotNullWhen(true)] out JsonPathTemplate? result,
        [NotNullWhen(false)] out string? error)
    {
        ArgumentNullException.ThrowIfNull(template);
        try
        {
            result = new JsonPathTemplate(JsonPathParser.Parse(template));
            error = null;
            return true;
        }
        catch (JsonPathSyntaxException ex)
        {
            result = null;
            error = ex.Message;
            return false;
        }
    }

    /// <summary>Renders the template against <paramref name="root"/>; never throws for missing data.</summary>
    public string Evaluate(JsonNode? root)
    {
        var output = new StringBuilder();
        Render(_nodes, root, output);
        return output.ToString();
    }

    private static void Render(List<TemplateNode> nodes, JsonNode? current, StringBuilder output)
    {
        foreach (var node in nodes)
        {
            switch (node)
            {
                case TextNode text:
                    output.Append(text.Text);
                    break;
                case PathNode path:
                    var results = Select(path.Path, current);
                    for (var i = 0; i < results.Count; i++)
                    {
                        if (i > 0)
                        {
                            output.Append(' ');
                        }

                        output.Append(Format(results[i]));
                    }

                    break;
                case RangeNode range:
                    foreach (var item in Select(range.Path, current))
                    {
                        Render(range.Body, item, output);
                    }

                    break;
            }
        }
    }

    private static List<JsonNode?> Select(IReadOnlyList<Segment> path, JsonNode? start)
    {
        var current = new List<JsonNode?> { start };
        foreach (var segment in path)
        {
            var next = new List<JsonNode?>();
            foreach (var node in current)
            {
                Apply(segment, node, next);
            }

            current = next;
        }

        return current;
    }

    private static void Apply(Segment segment, JsonNode? node, List<JsonNode?> output)
    {
        switch (segment)
        {
            case FieldSegment field:
                if (node is JsonObject obj && obj.TryGetPropertyValue(field.Name, out var value))
                {
                    output.Add(value);
                }
                else if (field.DottedPath is not null)
                {
                    output.AddRange(Select(field.DottedPath, node));
                }

                break;
            case WildcardSegment:
                AddChildren(node, output);
                break;
            case RecursiveSegment:
                AddContainers(node, output);
                break;
            case IndexSegment index when node is JsonArray array:
                var i = index.Index < 0 ? index.Index + array.Count : index.Index;
                if (i >= 0 && i < array.Count)
                {
                    output.Add(array[i]);
                }

                break;
            case SliceSegment slice when node is JsonArray array:
                var from = Clamp(slice.Start ?? 0, array.Count);
                var to = Clamp(slice.End ?? array.Count, array.Count);
                for (var j = from; j < to; j += slice.Step)
                {
                    output.Add(array[j]);
                }

                break;
            case UnionSegment union:
                foreach (var member in union.Members)
                {
                    Apply(member, node, output);
                }

                break;
            case FilterSegment filter:
                var children = new List<JsonNode?>();
                AddChildren(node, children);
                foreach (var child in children)
                {
                    if (Matches(filter, child))
                    {
                        output.Add(child);
                    }
                }

                break;
        }
    }

    private static int Clamp(int index, int count)
    {
        return Math.Clamp(index < 0 ? index + count : index, 0, count);
    }

    private static void AddChildren(JsonNode? node, List<JsonNode?> output)
    {
        if (node is JsonObject obj)
        {
            foreach (var property in obj)
            {
                output.Add(property.Value);
            }
        }
        else if (node is JsonArray array)
        {
            output.AddRange(array);
        }
    }

    /// <summary>Adds <paramref name="node"/> and every object or array below it, in document order.</summary>
    private static void AddContainers(JsonNode? node, List<JsonNode?> output)
    {
        if (node is not (JsonObject or JsonArray))
        {
            return;
        }

        output.Add(node);
        var children = new List<JsonNode?>();
        AddChildren(node, children);
        foreach (var child in children)
        {
            AddContainers(child, output);
        }
    }

    private static bool Matches(FilterSegment filter, JsonNode? candidate)
    {
        var left = Resolve(filter.Left, candidate);
        if (filter.Operator is null || filter.Right is null)
        {
            return left.Count > 0;
        }

        var right = Resolve(filter.Right, candidate);
        return left.Count == 1 && right.Count == 1 && Compare(left[0], right[0], filter.Operator);
    }

    private static List<JsonNode?> Resolve(Operand operand, JsonNode? candidate)
    {
        return operand switch
        {
            PathOperand path => Select(path.Path, candidate),
            LiteralOperand literal => [literal.Value],
            _ => [],
        };
    }

    private static bool Compare(JsonNode? left, JsonNode? right, string op)
    {
        var leftKind = left?.GetValueKind() ?? JsonValueKind.Null;
        var rightKind = right?.GetValueKind() ?? JsonValueKind.Null;
        int? order = null;
        if (leftKind == JsonValueKind.Number && rightKind == JsonValueKind.Number)
        {
            order = CompareNumbers(left!.ToJsonString(), right!.ToJsonString());
        }
        else if (leftKind == JsonValueKind.String && rightKind == JsonValueKind.String)
        {
            order = string.CompareOrdinal(ScalarText(left!), ScalarText(right!));
        }

        return op switch
        {
            "==" => order is null ? JsonNode.DeepEquals(left, right) : order == 0,
            "!=" => order is null ? !JsonNode.DeepEquals(left, right) : order != 0,
            "<" => order < 0,
            "<=" => order <= 0,
            ">" => order > 0,
            ">=" => order >= 0,
            _ => false,
        };
    }

    private static int? CompareNumbers(string left, string right)
    {
        if (decimal.TryParse(left, NumberStyles.Float, CultureInfo.InvariantCulture, out var l)
            && decimal.TryParse(right, NumberStyles.Float, CultureInfo.InvariantCulture, out var r))
        {
            return l.CompareTo(r);
        }

        if (double.TryParse(left, NumberStyles.Float, CultureInfo.InvariantCulture, out var dl)
            && double.TryParse(right, NumberStyles.Float, CultureInfo.InvariantCulture, out var dr))
        {
            return dl.CompareTo(dr);
        }

        return null;
    }

    private static string Format(JsonNode? node)
    {
        return node switch
        {
            null => "null",
            JsonValue value when value.GetValueKind() == JsonValueKind.String => ScalarText(value),
            JsonValue value => value.ToJsonString(),
            _ => node.ToJsonString(CompactJson),
        };
    }

    /// <summary>The raw text of a string value, whatever CLR type backs the node.</summary>
    private static string ScalarText(JsonNode node)
    {
        if (node is JsonValue value && value.TryGetValue<string>(out var text))
        {
            return text;
        }

        using var document = JsonDocument.Parse(node.ToJsonString());
        return document.RootElement.GetString() ?? string.Empty;
    }
}

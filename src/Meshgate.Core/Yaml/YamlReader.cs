using System.Globalization;
using System.Text.Json.Nodes;

using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Meshgate.Core.Yaml;

/// <summary>
/// Reads a YAML (or JSON, which YAML contains) stream into JSON trees, one per document.
/// Anchors, aliases and merge keys (<c>&lt;&lt;</c>) are resolved; plain scalars are typed by the
/// YAML 1.2 core schema (so <c>on</c>/<c>yes</c> stay strings, unlike YAML 1.1).
/// </summary>
public static class YamlReader
{
    private const int MaxDepth = 128;

    // Aliases can expand a small text exponentially ("billion laughs"); stop well before memory does.
    private const int MaxNodes = 1_000_000;

    /// <summary>Parses every document of <paramref name="text"/>; empty documents are skipped.</summary>
    /// <exception cref="YamlFormatException">The text is not well-formed; the message says where.</exception>
    public static IReadOnlyList<SourceDocument> Read(string text, string source)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new MergingParser(new Parser(new StringReader(text))));
        }
        catch (YamlException e)
        {
            throw new YamlFormatException(
                $"{source}: line {e.Start.Line}, column {e.Start.Column}: {Describe(e)}");
        }

        var documents = new List<SourceDocument>();
        var index = 0;
        foreach (var document in stream.Documents)
        {
            index++;
            var root = document.RootNode;
            if (root is YamlScalarNode { Value: null or "" } && root.Tag.IsEmpty)
            {
                continue; // "---" followed by nothing, or only comments
            }

            var positions = new YamlPositions();
            JsonNode? json;
            try
            {
                var budget = new int[] { MaxNodes };
                json = Convert(root, positions, 0, budget);
            }
            catch (YamlFormatException e)
            {
                throw new YamlFormatException($"{source}, document {index}: {e.Message}");
            }

            documents.Add(new SourceDocument(source, index, (int)root.Start.Line, json, positions));
        }

        return documents;
    }

    private static string Describe(YamlException e)
    {
        // YamlDotNet prefixes messages with the position; users get it from us once.
        var message = e.InnerException?.Message ?? e.Message;
        var close = message.IndexOf("): ", StringComparison.Ordinal);
        return message.StartsWith("(Line:", StringComparison.Ordinal) && close > 0 ? message[(close + 3)..] : message;
    }

    private static JsonNode? Convert(YamlNode node, YamlPositions positions, int depth, int[] budget)
    {
        if (--budget[0] < 0)
        {
            throw new YamlFormatException($"line {node.Start.Line}: the document expands to more than {MaxNodes} nodes (aliases?)");
        }

        if (depth > MaxDepth)
        {
            throw new YamlFormatException($"line {node.Start.Line}: nesting deeper than {MaxDepth} levels");
        }

        JsonNode? result;
        switch (node)
        {
            case YamlMappingNode mapping:
                var obj = new JsonObject();
                foreach (var (keyNode, valueNode) in mapping.Children)
                {
                    if (keyNode is not YamlScalarNode { Value: { } key })
                    {
                        throw new YamlFormatException(
                            $"line {keyNode.Start.Line}, column {keyNode.Start.Column}: a mapping key must be a plain string");
                    }

                    if (obj.ContainsKey(key))
                    {
                        throw new YamlFormatException(
                            $"line {keyNode.Start.Line}, column {keyNode.Start.Column}: duplicate key \"{key}\"");
                    }

                    obj[key] = Convert(valueNode, positions, depth + 1, budget);
                }

                result = obj;
                break;
            case YamlSequenceNode sequence:
                var array = new JsonArray();
                foreach (var item in sequence.Children)
                {
                    array.Add(Convert(item, positions, depth + 1, budget));
                }

                result = array;
                break;
            case YamlScalarNode scalar:
                result = ConvertScalar(scalar);
                break;
            default:
                throw new YamlFormatException($"line {node.Start.Line}: unsupported YAML node");
        }

        if (result is not null)
        {
            positions.Set(result, (int)node.Start.Line);
        }

        return result;
    }

    private static JsonNode? ConvertScalar(YamlScalarNode scalar)
    {
        var value = scalar.Value ?? "";
        var tag = scalar.Tag.IsEmpty ? null : scalar.Tag.Value;
        if (tag is "tag:yaml.org,2002:str" || scalar.Style is not ScalarStyle.Plain and not ScalarStyle.Any)
        {
            return JsonValue.Create(value);
        }

        if (tag is "tag:yaml.org,2002:null" || value is "" or "~" or "null" or "Null" or "NULL")
        {
            return null;
        }

        if (value is "true" or "True" or "TRUE")
        {
            return JsonValue.Create(true);
        }

        if (value is "false" or "False" or "FALSE")
        {
            return JsonValue.Create(false);
        }

        if (TryParseInteger(value, out var integer))
        {
            return JsonValue.Create(integer);
        }

        if (TryParseFloat(value, out var number))
        {
            return JsonValue.Create(number);
        }

        return JsonValue.Create(value);
    }

    private static bool TryParseInteger(string value, out long result)
    {
        result = 0;
        if (value.Length == 0)
        {
            return false;
        }

        if (value.StartsWith("0x", StringComparison.Ordinal))
        {
            return long.TryParse(value.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out result);
        }

        if (value.StartsWith("0o", StringComparison.Ordinal))
        {
            try
            {
                result = System.Convert.ToInt64(value[2..], 8);
                return true;
            }
            catch (Exception e) when (e is FormatException or OverflowException or ArgumentException)
            {
                return false;
            }
        }

        var span = value.AsSpan();
        var start = span[0] is '-' or '+' ? 1 : 0;
        if (start == span.Length)
        {
            return false;
        }

        for (var i = start; i < span.Length; i++)
        {
            if (!char.IsAsciiDigit(span[i]))
            {
                return false;
            }
        }

        return long.TryParse(span, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out result);
    }

    private static bool TryParseFloat(string value, out double result)
    {
        switch (value)
        {
            case ".inf" or ".Inf" or ".INF" or "+.inf" or "+.Inf" or "+.INF":
            case "-.inf" or "-.Inf" or "-.INF":
            case ".nan" or ".NaN" or ".NAN":
                // JSON cannot carry these; keep them as text so validation can name them.
                result = 0;
                return false;
        }

        // YAML 1.2 core schema: [-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )?
        var sawDigit = false;
        var i = 0;
        if (i < value.Length && value[i] is '-' or '+')
        {
            i++;
        }

        while (i < value.Length && char.IsAsciiDigit(value[i]))
        {
            i++;
            sawDigit = true;
        }

        if (i < value.Length && value[i] == '.')
        {
            i++;
            while (i < value.Length && char.IsAsciiDigit(value[i]))
            {
                i++;
                sawDigit = true;
            }
        }

        if (!sawDigit)
        {
            result = 0;
            return false;
        }

        if (i < value.Length && value[i] is 'e' or 'E')
        {
            i++;
            if (i < value.Length && value[i] is '-' or '+')
            {
                i++;
            }

            var expStart = i;
            while (i < value.Length && char.IsAsciiDigit(value[i]))
            {
                i++;
            }

            if (i == expStart)
            {
                result = 0;
                return false;
            }
        }

        if (i != value.Length)
        {
            result = 0;
            return false;
        }

        return double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out result) && double.IsFinite(result);
    }
}

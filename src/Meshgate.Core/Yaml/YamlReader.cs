using System.Globalization;
using System.Text.Json.Nodes;

using YamlDotNet.Core;
using YamlDotNet.Core.Events;
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

    // A document may be large, but aliases can expand a small text exponentially ("billion laughs"):
    // stop well before memory does, and sooner for nodes that only exist because an alias repeats them.
    private const int MaxNodes = 1_000_000;
    private const int MaxAliasNodes = 100_000;

    /// <summary>Parses every document of <paramref name="text"/>; empty documents are skipped.</summary>
    /// <exception cref="YamlFormatException">The text is not well-formed; the message says where.</exception>
    public static IReadOnlyList<SourceDocument> Read(string text, string source) => [.. ReadEach(text, source)];

    /// <summary>
    /// <see cref="Read"/>, one document at a time: each is parsed and converted as the caller asks for it, so a large
    /// stream never has more than one document's YAML nodes in memory.
    /// </summary>
    /// <exception cref="YamlFormatException">The text is not well-formed (thrown while enumerating); the message says where.</exception>
    public static IEnumerable<SourceDocument> ReadEach(string text, string source)
    {
        // Editors on Windows may start a file with a byte order mark; it is not part of the first key.
        if (text.StartsWith('\uFEFF'))
        {
            text = text[1..];
        }

        // The structure check reads the same events the node builder does (one pass over the text), and refuses
        // deep nesting before YamlDotNet's recursive builder gets there.
        // YamlDotNet's merging parser buffers every event and caps their number (its guard against merge bombs),
        // which also refuses large files that merge nothing: use it only when a merge key can be present.
        IParser parser = new CheckedParser(new Parser(new StringReader(text)), source);
        var documents = new DocumentParser(text.Contains("<<", StringComparison.Ordinal) ? new MergingParser(parser) : parser);
        var index = 0;
        while (Next(documents, text, source) is { } document)
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
                var budget = new Budget(new HashSet<YamlNode>(ReferenceEqualityComparer.Instance));
                json = Convert(root, positions, 0, budget, expandingAlias: false);
            }
            catch (YamlFormatException e)
            {
                throw new YamlFormatException($"{source}, document {index}: {e.Message}");
            }

            yield return new SourceDocument(source, index, (int)root.Start.Line, json, positions);
        }
    }

    /// <summary>The next document's YAML nodes, or null at the end of the stream.</summary>
    private static YamlDocument? Next(DocumentParser documents, string text, string source)
    {
        try
        {
            return documents.Next();
        }
        catch (YamlException e)
        {
            throw Malformed(e, text, source);
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or IndexOutOfRangeException or NullReferenceException)
        {
            throw new YamlFormatException($"{source}: the YAML is malformed ({e.Message}); check for an unclosed [, {{ or quote");
        }
    }

    /// <summary>
    /// Loads a stream's documents one by one: each is shown to <see cref="YamlStream"/> as a stream of its own
    /// (anchors are per document in YAML, so nothing is lost), and the previous one can go.
    /// </summary>
    private sealed class DocumentParser(IParser inner) : IParser
    {
        private enum State
        {
            StreamStart,
            InDocument,
            StreamEnd,
            Done,
        }

        private State _state = State.Done;
        private bool _started;
        private ParsingEvent? _current;

        public ParsingEvent? Current => _current;

        public YamlDocument? Next()
        {
            if (!_started)
            {
                _started = true;
                inner.MoveNext(); // StreamStart
                inner.MoveNext(); // the first DocumentStart, or StreamEnd
            }

            if (inner.Current is null or YamlDotNet.Core.Events.StreamEnd)
            {
                return null;
            }

            _state = State.StreamStart;
            _current = null;
            var stream = new YamlStream();
            stream.Load(this);
            return stream.Documents[0];
        }

        public bool MoveNext()
        {
            switch (_state)
            {
                case State.StreamStart:
                    _current = new YamlDotNet.Core.Events.StreamStart();
                    _state = State.InDocument;
                    return true;
                case State.InDocument when _current is YamlDotNet.Core.Events.StreamStart:
                    _current = inner.Current; // the DocumentStart the outer stream stopped at
                    return true;
                case State.InDocument when _current is DocumentEnd:
                    inner.MoveNext(); // on to the next DocumentStart, or StreamEnd
                    _current = new YamlDotNet.Core.Events.StreamEnd();
                    _state = State.StreamEnd;
                    return true;
                case State.InDocument:
                    if (!inner.MoveNext())
                    {
                        _current = null;
                        _state = State.Done;
                        return false;
                    }

                    _current = inner.Current;
                    return true;
                case State.StreamEnd:
                    _current = null;
                    _state = State.Done;
                    return false;
                default:
                    return false;
            }
        }
    }

    /// <summary>
    /// The raw event stream with the structure checked as it is read: YamlDotNet builds its node tree recursively, so
    /// a deeply nested text ("[[[[...") is refused before it can exhaust the stack, and errors YamlDotNet reports as
    /// something other than a <see cref="YamlException"/> still get a position.
    /// </summary>
    private sealed class CheckedParser(IParser inner, string source) : IParser
    {
        private int _depth;
        private Mark _last = Mark.Empty;

        public ParsingEvent? Current => inner.Current;

        public bool MoveNext()
        {
            bool moved;
            try
            {
                moved = inner.MoveNext();
            }
            catch (Exception e) when (e is InvalidOperationException or ArgumentException or IndexOutOfRangeException or NullReferenceException)
            {
                // YamlDotNet gives up on some malformed flow collections ("a: [1, 2" then a new key) this way.
                throw new YamlFormatException(
                    $"{source}: line {Math.Max(1, _last.Line)}, column {Math.Max(1, _last.Column)}: the YAML is malformed after this point; check for an unclosed [, {{ or quote");
            }

            if (!moved)
            {
                return false;
            }

            var current = inner.Current!;
            switch (current)
            {
                case MappingStart or SequenceStart when ++_depth > MaxDepth:
                    throw new YamlFormatException(
                        $"{source}: line {current.Start.Line}, column {current.Start.Column}: nesting deeper than {MaxDepth} levels; no Kubernetes object is nested this deep");
                case MappingEnd or SequenceEnd:
                    _depth--;
                    break;
            }

            _last = current.End;
            return true;
        }
    }

    private static YamlFormatException Malformed(YamlException e, string text, string source)
    {
        var (line, column) = (e.Start.Line, e.Start.Column);
        var message = Describe(e);
        string hint;
        if (e is AnchorNotFoundException && message.Split('\'') is [_, var anchor, ..])
        {
            // YamlDotNet reports this at the start of the stream; point at the alias instead.
            (line, column) = Find(text, "*" + anchor) ?? (line, column);
            message = $"alias *{anchor} refers to no anchor";
            hint = $"define &{anchor} on a value before the alias uses it";
        }
        else if (message.Contains("tab as indentation", StringComparison.Ordinal))
        {
            // YamlDotNet reports this at the start of the enclosing mapping; point at the tab instead.
            (line, column) = FirstIndentingTab(text) ?? (line, column);
            message = "a tab character is used for indentation";
            hint = "YAML allows only spaces for indentation";
        }
        else if (message.StartsWith("Duplicate key ", StringComparison.Ordinal))
        {
            message = $"duplicate key \"{message["Duplicate key ".Length..]}\"";
            hint = "a key may appear only once in a mapping, so remove or rename one of them";
        }
        else if (message.Contains("did not find expected key", StringComparison.Ordinal) && LineAt(text, line).IndexOf(':') > 1024)
        {
            message = "a key is longer than 1024 characters";
            hint = "YAML allows at most 1024 characters in a plain key";
        }
        else if (message.Contains("did not find expected key", StringComparison.Ordinal))
        {
            hint = "check the indentation: the keys of one mapping must start in the same column";
        }
        else if (message.Contains("did not find expected node content", StringComparison.Ordinal))
        {
            hint = "a value is missing, or a [ or { is not closed";
        }
        else if (message.StartsWith("Too many parsing events", StringComparison.Ordinal))
        {
            message = "merge keys (<<) expand to too many values";
            hint = "write the values out, or merge fewer times";
        }
        else if (message.Contains("quoted scalar", StringComparison.Ordinal))
        {
            hint = "check for a missing closing quote";
        }
        else if (message.Contains("did not find expected ',' or", StringComparison.Ordinal))
        {
            hint = "check for a missing closing ] or }, or a missing comma";
        }
        else if (message.Contains("mapping values are not allowed", StringComparison.OrdinalIgnoreCase)
            || message.Contains("found invalid mapping", StringComparison.Ordinal))
        {
            hint = "quote values that contain \": \", or put the key on its own line";
        }
        else
        {
            hint = "";
        }

        message = message.TrimEnd('.');
        return new YamlFormatException($"{source}: line {line}, column {column}: {message}{(hint.Length == 0 ? "" : "; " + hint)}");
    }

    private static string LineAt(string text, long line)
    {
        var lines = text.Split('\n');
        return line >= 1 && line <= lines.Length ? lines[line - 1] : "";
    }

    private static (long Line, long Column)? Find(string text, string value)
    {
        var at = text.IndexOf(value, StringComparison.Ordinal);
        if (at < 0)
        {
            return null;
        }

        var lineStart = text.LastIndexOf('\n', Math.Max(0, at - 1)) + 1;
        return (text.AsSpan(0, at).Count('\n') + 1, at - lineStart + 1);
    }

    private static (long Line, long Column)? FirstIndentingTab(string text)
    {
        var lines = text.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            for (var c = 0; c < lines[i].Length && lines[i][c] is ' ' or '\t'; c++)
            {
                if (lines[i][c] == '\t')
                {
                    return (i + 1, c + 1);
                }
            }
        }

        return null;
    }

    private static string Describe(YamlException e)
    {
        // YamlDotNet prefixes messages with the position; users get it from us once.
        var message = e.InnerException?.Message ?? e.Message;
        var close = message.IndexOf("): ", StringComparison.Ordinal);
        return message.StartsWith("(Line:", StringComparison.Ordinal) && close > 0 ? message[(close + 3)..] : message;
    }

    /// <summary>How many more nodes a document may expand to, and which YAML nodes were already converted once.</summary>
    private sealed class Budget(HashSet<YamlNode> seen)
    {
        public int Nodes { get; set; } = MaxNodes;

        public int AliasNodes { get; set; } = MaxAliasNodes;

        public HashSet<YamlNode> Seen { get; } = seen;
    }

    private static JsonNode? Convert(YamlNode node, YamlPositions positions, int depth, Budget budget, bool expandingAlias)
    {
        // YamlDotNet resolves an alias to the anchored node itself, so a node met twice is an alias expansion.
        expandingAlias |= !budget.Seen.Add(node);
        if (--budget.Nodes < 0)
        {
            throw new YamlFormatException($"line {node.Start.Line}: the document expands to more than {MaxNodes} values; split it into several documents");
        }

        if (expandingAlias && --budget.AliasNodes < 0)
        {
            throw new YamlFormatException(
                $"line {node.Start.Line}: aliases (*name) expand to more than {MaxAliasNodes} values, as in a \"billion laughs\" attack; write the values out or use fewer aliases");
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

                    obj[key] = Convert(valueNode, positions, depth + 1, budget, expandingAlias);
                }

                result = obj;
                break;
            case YamlSequenceNode sequence:
                var array = new JsonArray();
                foreach (var item in sequence.Children)
                {
                    array.Add(Convert(item, positions, depth + 1, budget, expandingAlias));
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

        if (value.Length > 0 && value.AsSpan(value[0] is '-' or '+' ? 1 : 0).ContainsAnyExceptInRange('0', '9') is false
            && decimal.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var big))
        {
            return JsonValue.Create(big); // beyond 64 bits: keep the digits as written, for the message
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

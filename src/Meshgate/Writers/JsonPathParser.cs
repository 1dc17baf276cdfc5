using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace Meshgate.Writers;

/// <summary>A piece of a parsed template: literal text, a printed path, or a range block.</summary>
internal abstract record TemplateNode;

internal sealed record TextNode(string Text) : TemplateNode;

internal sealed record PathNode(IReadOnlyList<Segment> Path) : TemplateNode;

internal sealed record RangeNode(IReadOnlyList<Segment> Path, List<TemplateNode> Body) : TemplateNode;

/// <summary>One step of a path; each step maps every current value to zero or more values.</summary>
internal abstract record Segment;

/// <summary><c>.name</c>; for bracket names, <c>DottedPath</c> is walked when the literal key is absent.</summary>
internal sealed record FieldSegment(string Name, IReadOnlyList<Segment>? DottedPath = null) : Segment;

internal sealed record WildcardSegment : Segment;

internal sealed record RecursiveSegment : Segment;

internal sealed record IndexSegment(int Index) : Segment;

internal sealed record SliceSegment(int? Start, int? End, int Step) : Segment;

internal sealed record UnionSegment(IReadOnlyList<Segment> Members) : Segment;

/// <summary><c>[?(left op right)]</c>, or <c>[?(left)]</c> (existence) when <c>Operator</c> is null.</summary>
internal sealed record FilterSegment(Operand Left, string? Operator, Operand? Right) : Segment;

internal abstract record Operand;

internal sealed record PathOperand(IReadOnlyList<Segment> Path) : Operand;

internal sealed record LiteralOperand(JsonNode? Value) : Operand;

internal sealed class JsonPathSyntaxException(string message) : Exception(message);

/// <summary>
/// Recursive-descent parser for kubectl's JSONPath template syntax. Positions in error
/// messages are zero-based character offsets into the template.
/// </summary>
internal sealed class JsonPathParser
{
    private static readonly string[] LiteralWords = ["true", "false", "null"];
    private readonly string _text;
    private readonly List<(string Label, int Position)> _openers = [];
    private readonly Stack<(List<TemplateNode> Parent, int Position)> _ranges = new();
    private List<TemplateNode> _current = [];
    private int _pos;

    private JsonPathParser(string text)
    {
        _text = text;
    }

    private bool AtEnd => _pos >= _text.Length;

    private char Peek => _pos < _text.Length ? _text[_pos] : '\0';

    public static List<TemplateNode> Parse(string text)
    {
        var parser = new JsonPathParser(text);
        return parser.ParseTemplate();
    }

    private List<TemplateNode> ParseTemplate()
    {
        var root = _current;
        while (!AtEnd)
        {
            if (Peek == '{')
            {
                ParseAction();
                continue;
            }

            var next = _text.IndexOf('{', _pos);
            var end = next < 0 ? _text.Length : next;
            _current.Add(new TextNode(_text[_pos..end]));
            _pos = end;
        }

        if (_ranges.Count > 0)
        {
            throw Error($"unclosed {{range}} at position {_ranges.Peek().Position}, expected {{end}}");
        }

        return root;
    }

    private void ParseAction()
    {
        var open = _pos++;
        _openers.Add(("'{'", open));
        SkipWhitespace();
        if (Peek is '"' or '\'')
        {
            _current.Add(new TextNode(ReadString(null)));
        }
        else if (IsWord("end"))
        {
            _pos += 3;
            if (_ranges.Count == 0)
            {
                throw Error($"{{end}} at position {open} has no matching {{range}}");
            }

            _current = _ranges.Pop().Parent;
        }
        else if (IsWord("range"))
        {
            _pos += 5;
            SkipWhitespace();
            var range = new RangeNode(ParsePath("a path after 'range'"), []);
            _current.Add(range);
            _ranges.Push((_current, open));
            _current = range.Body;
        }
        else
        {
            _current.Add(new PathNode(ParsePath("a path, a quoted string, 'range' or 'end'")));
        }

        SkipWhitespace();
        Expect('}');
        _openers.RemoveAt(_openers.Count - 1);
    }

    private List<Segment> ParsePath(string expected)
    {
        var segments = new List<Segment>();
        if (Peek is '$' or '@')
        {
            _pos++;
        }
        else if (Peek is not ('.' or '['))
        {
            throw Unexpected(expected);
        }

        while (true)
        {
            if (Peek == '[')
            {
                segments.Add(ParseBracket());
            }
            else if (Peek == '.')
            {
                _pos++;
                if (Peek == '.')
                {
                    _pos++;
                    segments.Add(new RecursiveSegment());
                    if (Peek == '[')
                    {
                        continue;
                    }
                }

                if (Peek == '*')
                {
                    _pos++;
                    segments.Add(new WildcardSegment());
                }
                else
                {
                    segments.Add(new FieldSegment(ReadName()));
                }
            }
            else
            {
                return segments;
            }
        }
    }

    private string ReadName()
    {
        var name = new StringBuilder();
        while (!AtEnd && !IsTerminator(Peek))
        {
            if (Peek == '\\' && _pos + 1 < _text.Length)
            {
                _pos++;
            }

            name.Append(_text[_pos++]);
        }

        return name.Length > 0 ? name.ToString() : throw Unexpected("a field name");
    }

    private static bool IsTerminator(char c)
    {
        return char.IsWhiteSpace(c) || ".[]{}(),=!<>\"'".Contains(c);
    }

    private Segment ParseBracket()
    {
        _openers.Add(("'['", _pos++));
        SkipWhitespace();
        Segment result;
        if (Peek == '?')
        {
            _pos++;
            result = ParseFilter();
        }
        else
        {
            var members = new List<Segment>();
            while (true)
            {
                SkipWhitespace();
                members.Add(ParseBracketMember());
                SkipWhitespace();
                if (Peek != ',')
                {
                    break;
                }

                _pos++;
            }

            result = members.Count == 1 ? members[0] : new UnionSegment(members);
        }

        SkipWhitespace();
        Expect(']');
        _openers.RemoveAt(_openers.Count - 1);
        return result;
    }

    private Segment ParseBracketMember()
    {
        if (Peek == '*')
        {
            _pos++;
            return new WildcardSegment();
        }

        if (Peek is '"' or '\'')
        {
            var parts = new List<string>();
            var key = ReadString(parts);
            return new FieldSegment(key, parts.Count > 1 ? parts.Select(static p => (Segment)new FieldSegment(p)).ToList() : null);
        }

        if (Peek is not (':' or '-' or '+') && !char.IsAsciiDigit(Peek))
        {
            throw Unexpected("an index, a slice, '*', '?(' or a quoted name");
        }

        var start = ReadInt();
        SkipWhitespace();
        if (Peek != ':')
        {
            return new IndexSegment(start!.Value);
        }

        _pos++;
        SkipWhitespace();
        var end = ReadInt();
        SkipWhitespace();
        var step = 1;
        if (Peek == ':')
        {
            _pos++;
            SkipWhitespace();
            var stepPos = _pos;
            step = ReadInt() ?? 1;
            if (step <= 0)
            {
                throw Error($"slice step must be positive at position {stepPos}");
            }
        }

        return new SliceSegment(start, end, step);
    }

    private int? ReadInt()
    {
        var start = _pos;
        if (Peek is '-' or '+')
        {
            _pos++;
        }

        while (char.IsAsciiDigit(Peek))
        {
            _pos++;
        }

        if (_pos == start)
        {
            return null;
        }

        var digits = _text[start.._pos];
        if (digits is "-" or "+")
        {
            throw Unexpected("a digit");
        }

        return int.TryParse(digits, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw Error($"index '{digits}' out of range at position {start}");
    }

    private FilterSegment ParseFilter()
    {
        Expect('(');
        _openers.Add(("'('", _pos - 1));
        var left = ParseOperand();
        SkipWhitespace();
        string? op = null;
        Operand? right = null;
        if (Peek is '=' or '!' or '<' or '>')
        {
            var opPos = _pos;
            var two = _pos + 1 < _text.Length ? _text.Substring(_pos, 2) : string.Empty;
            op = two is "==" or "!=" or "<=" or ">=" ? two : Peek is '<' or '>' ? Peek.ToString() : null;
            if (op is null)
            {
                throw Error($"invalid operator '{Peek}' at position {opPos}, expected '==', '!=', '<', '<=', '>' or '>='");
            }

            _pos += op.Length;
            right = ParseOperand();
            SkipWhitespace();
        }

        Expect(')');
        _openers.RemoveAt(_openers.Count - 1);
        return new FilterSegment(left, op, right);
    }

    private Operand ParseOperand()
    {
        SkipWhitespace();
        if (Peek is '@' or '$' or '.' or '[')
        {
            return new PathOperand(ParsePath("a path"));
        }

        if (Peek is '"' or '\'')
        {
            return new LiteralOperand(JsonValue.Create(ReadString(null)));
        }

        foreach (var word in LiteralWords)
        {
            if (IsWord(word))
            {
                _pos += word.Length;
                return new LiteralOperand(word == "null" ? null : JsonValue.Create(word == "true"));
            }
        }

        var start = _pos;
        while (!AtEnd && (char.IsAsciiDigit(Peek) || Peek is '-' or '+' or '.' or 'e' or 'E'))
        {
            _pos++;
        }

        // A number as Go's ParseFloat (kubectl's) reads it, which includes "6.", "+9" and ".5": not JSON numbers, so
        // the literal is made from the parsed value, never by parsing the text as JSON.
        var text = _text.AsSpan(start, _pos - start);
        if (decimal.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var exact))
        {
            return new LiteralOperand(JsonValue.Create(exact));
        }

        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && double.IsFinite(number))
        {
            return new LiteralOperand(JsonValue.Create(number));
        }

        _pos = start;
        throw Unexpected("a path, a quoted string, a number, true, false or null");
    }

    /// <summary>
    /// Reads a quoted string at the cursor and returns it unescaped. When <paramref name="dottedParts"/>
    /// is given, it also receives the string split on unescaped dots (kubectl's <c>['a.b']</c> paths).
    /// </summary>
    private string ReadString(List<string>? dottedParts)
    {
        var quote = _text[_pos];
        var open = _pos++;
        var whole = new StringBuilder();
        var part = new StringBuilder();
        while (true)
        {
            if (AtEnd)
            {
                throw Error($"unterminated string at position {open}, expected closing {quote}");
            }

            var c = _text[_pos++];
            if (c == '\\' && AtEnd)
            {
                continue;
            }

            if (c == quote)
            {
                dottedParts?.Add(part.ToString());
                return whole.ToString();
            }

            if (c == '.' && dottedParts is not null)
            {
                dottedParts.Add(part.ToString());
                part.Clear();
                whole.Append(c);
                continue;
            }

            if (c == '\\')
            {
                c = ReadEscape();
            }

            whole.Append(c);
            part.Append(c);
        }
    }

    private char ReadEscape()
    {
        var escapePos = _pos - 1;
        var c = Peek;
        _pos++;
        switch (c)
        {
            case 'n': return '\n';
            case 't': return '\t';
            case 'r': return '\r';
            case 'b': return '\b';
            case 'f': return '\f';
            case '0': return '\0';
            case '\\' or '"' or '\'' or '/' or '.': return c;
            case 'u' when _pos + 4 <= _text.Length
                && ushort.TryParse(_text.AsSpan(_pos, 4), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var code):
                _pos += 4;
                return (char)code;
            default:
                throw Error($"invalid escape sequence at position {escapePos}, expected one of \\n \\t \\r \\b \\f \\0 \\\\ \\\" \\' \\/ \\. \\uXXXX");
        }
    }

    private bool IsWord(string word)
    {
        return string.CompareOrdinal(_text, _pos, word, 0, word.Length) == 0
            && (_pos + word.Length >= _text.Length || IsTerminator(_text[_pos + word.Length]) || _text[_pos + word.Length] is '$' or '@');
    }

    private void SkipWhitespace()
    {
        while (!AtEnd && char.IsWhiteSpace(Peek))
        {
            _pos++;
        }
    }

    private void Expect(char c)
    {
        if (Peek != c || AtEnd)
        {
            throw Unexpected($"'{c}'");
        }

        _pos++;
    }

    private JsonPathSyntaxException Unexpected(string expected)
    {
        if (AtEnd)
        {
            var (label, position) = _openers[^1];
            return Error($"unclosed {label} at position {position}");
        }

        var c = Peek switch
        {
            '\n' => "\\n",
            '\t' => "\\t",
            '\r' => "\\r",
            _ => Peek.ToString(),
        };
        return Error($"unexpected '{c}' at position {_pos}, expected {expected}");
    }

    private static JsonPathSyntaxException Error(string message)
    {
        return new JsonPathSyntaxException("jsonpath: " + message);
    }
}

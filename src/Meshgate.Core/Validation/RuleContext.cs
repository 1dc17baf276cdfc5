using System.Text.RegularExpressions;

namespace Meshgate.Core.Validation;

/// <summary>What a kind's semantic rules see: the object's namespace and a way to report at a path.</summary>
internal sealed class RuleContext(string objectNamespace, Action<string, string, bool> report)
{
    public string Namespace { get; } = objectNamespace;

    public void Error(string path, string message) => report(path, message, false);

    public void Warning(string path, string message) => report(path, message, true);

    public void Check(string path, string? error)
    {
        if (error is not null)
        {
            Error(path, error);
        }
    }

    public void Port(string path, long? port)
    {
        if (port is { } p)
        {
            Check(path, Names.CheckPort(p));
        }
    }

    public void Range(string path, long? value, long min, long max, string what)
    {
        if (value is { } v && (v < min || v > max))
        {
            Error(path, $"{v} is not a valid {what} ({min}-{max})");
        }
    }

    /// <summary>A list that must hold at least one item.</summary>
    public bool NonEmpty<T>(string path, IReadOnlyCollection<T>? items, string what)
    {
        if (items is null || items.Count == 0)
        {
            Error(path, $"at least one {what} is required");
            return false;
        }

        return true;
    }

    /// <summary>Reports each repeated value once, at the index of its second occurrence.</summary>
    public void Unique<T>(string path, IReadOnlyList<T> items, Func<T, string?> key, string what)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < items.Count; i++)
        {
            if (key(items[i]) is { } k && !seen.Add(k))
            {
                Error(FieldPath.Index(path, i), $"duplicate {what} \"{k}\"; each must be unique");
            }
        }
    }

    public void Labels(string path, IDictionary<string, string>? labels)
    {
        if (labels is null)
        {
            return;
        }

        foreach (var (key, value) in labels)
        {
            // A null value (`app:` with nothing after it) is the empty string, as Kubernetes decodes it: not a crash.
            Check(FieldPath.Field(path, key), Names.CheckQualifiedName(key) ?? Names.CheckLabelValue(value ?? ""));
        }
    }

    /// <summary>A value outside a fixed set, with the closest allowed value as a suggestion.</summary>
    public static string NotOneOf(string value, IReadOnlyCollection<string> allowed)
    {
        var suggestion = SchemaValidator.Suggest(value, allowed);
        return $"\"{value}\" is not one of {string.Join(", ", allowed)}{(suggestion is null ? "" : $"; did you mean {suggestion}?")}";
    }

    /// <summary>A regular expression as Envoy runs it: RE2 syntax, at most 1024 characters.</summary>
    public void Regex(string path, string? pattern) => Check(path, CheckRegex(pattern));

    /// <summary>Why <paramref name="pattern"/> is not a regular expression Envoy accepts, or null when it is.</summary>
    internal static string? CheckRegex(string? pattern)
    {
        if (pattern is null)
        {
            return null;
        }

        if (pattern.Length > 1024)
        {
            return "regex is longer than 1024 characters";
        }

        if (Re2Unsupported(pattern) is { } construct)
        {
            return $"\"{pattern}\" uses {construct}, which RE2 (the regex engine of Istio and Envoy) does not support; see https://github.com/google/re2/wiki/Syntax";
        }

        try
        {
            _ = new Regex(pattern, RegexOptions.None, TimeSpan.FromMilliseconds(100));
            return null;
        }
        catch (RegexParseException e)
        {
            // .NET says "Invalid pattern '<pattern>' at offset 14. Unterminated [] set."; the pattern is quoted already.
            var detail = e.Message;
            var marker = $"at offset {e.Offset}. ";
            var at = detail.IndexOf(marker, StringComparison.Ordinal);
            detail = at < 0 ? detail : detail[(at + marker.Length)..];
            return $"\"{pattern}\" is not a valid regular expression: {detail.TrimEnd('.')} at offset {e.Offset}";
        }
        catch (ArgumentException e)
        {
            return $"\"{pattern}\" is not a valid regular expression: {e.Message}";
        }
    }

    /// <summary>Perl/.NET constructs that .NET accepts but RE2 rejects: look-around, atomic groups, conditionals, backreferences.</summary>
    private static string? Re2Unsupported(string pattern)
    {
        var inClass = false;
        for (var i = 0; i < pattern.Length; i++)
        {
            var c = pattern[i];
            if (c == '\\' && i + 1 < pattern.Length)
            {
                var next = pattern[i + 1];
                if (!inClass && next is >= '1' and <= '9')
                {
                    return $"the backreference \\{next}";
                }

                if (!inClass && next == 'k' && i + 2 < pattern.Length && pattern[i + 2] is '<' or '\'' or '{')
                {
                    return "a named backreference (\\k<name>)";
                }

                i++;
                continue;
            }

            if (inClass)
            {
                inClass = c != ']';
                continue;
            }

            if (c == '[')
            {
                inClass = true;
                if (i + 1 < pattern.Length && pattern[i + 1] == ']')
                {
                    i++; // "[]...]": a leading ] is a literal
                }

                continue;
            }

            if (c == '(' && i + 2 < pattern.Length && pattern[i + 1] == '?')
            {
                var rest = pattern.AsSpan(i + 2);
                var construct = rest switch
                {
                    _ when rest.StartsWith("=") => "the look-ahead (?=",
                    _ when rest.StartsWith("!") => "the negative look-ahead (?!",
                    _ when rest.StartsWith("<=") => "the look-behind (?<=",
                    _ when rest.StartsWith("<!") => "the negative look-behind (?<!",
                    _ when rest.StartsWith(">") => "the atomic group (?>",
                    _ when rest.StartsWith("(") => "the conditional (?(",
                    _ => null,
                };
                if (construct is not null)
                {
                    return construct;
                }
            }
        }

        return null;
    }

    /// <summary>A duration as Istio's CRDs take it (<c>3s</c>, <c>1.5s</c>, <c>100ms</c>, <c>1m30s</c>), at least 1ms.</summary>
    public void Duration(string path, string? value)
    {
        if (value is null)
        {
            return;
        }

        if (!Durations.TryParse(value, out var duration))
        {
            Error(path, $"\"{value}\" is not a duration; write a number with a unit (h, m, s, ms, us, ns), for example 3s or 1m30s");
        }
        else if (duration < TimeSpan.FromMilliseconds(1))
        {
            Error(path, $"\"{value}\" is shorter than the minimum of 1ms");
        }
    }
}

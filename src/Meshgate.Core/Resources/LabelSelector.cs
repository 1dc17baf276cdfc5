namespace Meshgate.Core.Resources;

/// <summary>
/// kubectl's <c>-l</c> selector: comma-separated requirements <c>k=v</c>, <c>k==v</c>, <c>k!=v</c>,
/// <c>k</c>, <c>!k</c>, <c>k in (a,b)</c>, <c>k notin (a,b)</c>; all must hold.
/// </summary>
public sealed class LabelSelector
{
    private readonly IReadOnlyList<Func<IReadOnlyDictionary<string, string>, bool>> _requirements;

    private LabelSelector(IReadOnlyList<Func<IReadOnlyDictionary<string, string>, bool>> requirements, string text)
    {
        _requirements = requirements;
        Text = text;
    }

    public static readonly LabelSelector Everything = new([], "");

    public string Text { get; }

    public bool Matches(IReadOnlyDictionary<string, string> labels)
    {
        foreach (var requirement in _requirements)
        {
            if (!requirement(labels))
            {
                return false;
            }
        }

        return true;
    }

    public static bool TryParse(string text, out LabelSelector selector, out string? error)
    {
        selector = Everything;
        error = null;
        var requirements = new List<Func<IReadOnlyDictionary<string, string>, bool>>();
        foreach (var raw in SplitTopLevel(text))
        {
            var part = raw.Trim();
            if (part.Length == 0)
            {
                continue;
            }

            if (TryParseSet(part, out var setRequirement, out error))
            {
                if (setRequirement is null)
                {
                    return false;
                }

                requirements.Add(setRequirement);
                continue;
            }

            string key;
            string? value = null;
            var negate = false;
            var index = part.IndexOf("!=", StringComparison.Ordinal);
            if (index > 0)
            {
                key = part[..index].Trim();
                value = part[(index + 2)..].Trim();
                negate = true;
            }
            else if ((index = part.IndexOf("==", StringComparison.Ordinal)) > 0)
            {
                key = part[..index].Trim();
                value = part[(index + 2)..].Trim();
            }
            else if ((index = part.IndexOf('=')) > 0)
            {
                key = part[..index].Trim();
                value = part[(index + 1)..].Trim();
            }
            else if (part.StartsWith('!'))
            {
                var absent = part[1..].Trim();
                if (!ValidKey(absent, out error))
                {
                    return false;
                }

                requirements.Add(labels => !labels.ContainsKey(absent));
                continue;
            }
            else
            {
                key = part;
            }

            if (!ValidKey(key, out error))
            {
                return false;
            }

            if (value is null)
            {
                requirements.Add(labels => labels.ContainsKey(key));
            }
            else if (negate)
            {
                var v = value;
                requirements.Add(labels => !labels.TryGetValue(key, out var actual) || actual != v);
            }
            else
            {
                var v = value;
                requirements.Add(labels => labels.TryGetValue(key, out var actual) && actual == v);
            }
        }

        selector = new LabelSelector(requirements, text);
        return true;
    }

    private static bool TryParseSet(string part, out Func<IReadOnlyDictionary<string, string>, bool>? requirement, out string? error)
    {
        requirement = null;
        error = null;
        var open = part.IndexOf('(');
        if (open < 0 || !part.EndsWith(')'))
        {
            return false;
        }

        var head = part[..open].Trim();
        var values = part[(open + 1)..^1].Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal);
        bool notIn;
        string key;
        if (head.EndsWith(" notin", StringComparison.Ordinal))
        {
            notIn = true;
            key = head[..^6].Trim();
        }
        else if (head.EndsWith(" in", StringComparison.Ordinal))
        {
            notIn = false;
            key = head[..^3].Trim();
        }
        else
        {
            error = $"unable to parse requirement \"{part}\": expected KEY in (A,B) or KEY notin (A,B)";
            return true;
        }

        if (!ValidKey(key, out error))
        {
            return true;
        }

        requirement = notIn
            ? labels => !labels.TryGetValue(key, out var v) || !values.Contains(v)
            : labels => labels.TryGetValue(key, out var v) && values.Contains(v);
        return true;
    }

    private static bool ValidKey(string key, out string? error)
    {
        error = Validation.Names.CheckQualifiedName(key) is { } e ? $"invalid label selector: {e}" : null;
        return error is null;
    }

    private static IEnumerable<string> SplitTopLevel(string text)
    {
        var depth = 0;
        var start = 0;
        for (var i = 0; i < text.Length; i++)
        {
            switch (text[i])
            {
                case '(':
                    depth++;
                    break;
                case ')':
                    depth--;
                    break;
                case ',' when depth == 0:
                    yield return text[start..i];
                    start = i + 1;
                    break;
            }
        }

        yield return text[start..];
    }
}

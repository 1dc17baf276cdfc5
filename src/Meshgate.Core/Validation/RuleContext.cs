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
            Check(FieldPath.Field(path, key), Names.CheckQualifiedName(key) ?? Names.CheckLabelValue(value));
        }
    }

    public void Regex(string path, string? pattern)
    {
        if (pattern is null)
        {
            return;
        }

        if (pattern.Length > 1024)
        {
            Error(path, "regex is longer than 1024 characters");
            return;
        }

        try
        {
            _ = new Regex(pattern, RegexOptions.None, TimeSpan.FromMilliseconds(100));
        }
        catch (ArgumentException e)
        {
            Error(path, $"\"{pattern}\" is not a valid regular expression: {e.Message}");
        }
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

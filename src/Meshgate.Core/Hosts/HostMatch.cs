namespace Meshgate.Core.Hosts;

/// <summary>Istio's host matching: exact names, <c>*.suffix</c> wildcards and <c>*</c>, case-insensitive (DNS).</summary>
public static class HostMatch
{
    /// <summary>Whether <paramref name="pattern"/> (possibly a wildcard) covers every name <paramref name="host"/> can stand for.</summary>
    public static bool Covers(string pattern, string host)
    {
        if (pattern == "*")
        {
            return true;
        }

        if (pattern.StartsWith("*.", StringComparison.Ordinal))
        {
            var suffix = pattern.AsSpan(1); // ".example.com"
            if (host.StartsWith("*.", StringComparison.Ordinal))
            {
                return host.AsSpan(1).EndsWith(suffix, StringComparison.OrdinalIgnoreCase);
            }

            return host.Length > suffix.Length && host.AsSpan().EndsWith(suffix, StringComparison.OrdinalIgnoreCase);
        }

        return string.Equals(pattern, host, StringComparison.OrdinalIgnoreCase);
    }
}

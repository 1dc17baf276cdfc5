using System.Diagnostics.CodeAnalysis;

namespace Meshgate.Core.Routing;

/// <summary>
/// Host-name patterns compiled for lookups, in Envoy's and Kestrel's order: an exact name, then the longest
/// <c>*.suffix</c>, then <c>*</c>; case-insensitive (DNS names are, RFC 4343). Patterns may name a port
/// (<c>edition.cnn.com:80</c>, <c>*.cnn.com:80</c>, <c>*:80</c>); a lookup with a port tries those first, then the
/// host without its port, so <c>edition.cnn.com</c> also takes <c>edition.cnn.com:80</c>.
/// Built once per snapshot; a lookup allocates nothing and reads only.
/// </summary>
public sealed class HostTable<T>
    where T : class
{
    private readonly Dictionary<string, T>.AlternateLookup<ReadOnlySpan<char>> _exact;
    private readonly Dictionary<string, T>.AlternateLookup<ReadOnlySpan<char>> _suffixes; // ".cnn.com" for "*.cnn.com"
    private readonly Dictionary<string, T>.AlternateLookup<ReadOnlySpan<char>> _anyByPort; // "80" for "*:80"
    private readonly T? _any;
    private readonly bool _hasPorts;

    /// <summary>Compiles <paramref name="entries"/>; when a pattern repeats, its first value wins.</summary>
    public HostTable(IEnumerable<KeyValuePair<string, T>> entries)
    {
        var exact = new Dictionary<string, T>(entries.TryGetNonEnumeratedCount(out var count) ? count : 0, StringComparer.OrdinalIgnoreCase);
        var suffixes = new Dictionary<string, T>(StringComparer.OrdinalIgnoreCase);
        var anyByPort = new Dictionary<string, T>(StringComparer.Ordinal);
        foreach (var (pattern, value) in entries)
        {
            var host = HostTable.SplitPort(pattern, out var port);
            _hasPorts |= port.Length > 0;
            if (host is "*")
            {
                if (port.Length == 0)
                {
                    _any ??= value;
                }
                else
                {
                    anyByPort.TryAdd(port.ToString(), value);
                }
            }
            else if (host.StartsWith("*."))
            {
                suffixes.TryAdd(pattern[1..], value);
            }
            else
            {
                exact.TryAdd(pattern, value);
            }
        }

        _exact = exact.GetAlternateLookup<ReadOnlySpan<char>>();
        _suffixes = suffixes.GetAlternateLookup<ReadOnlySpan<char>>();
        _anyByPort = anyByPort.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    /// <summary>The value for a request's authority (<c>host</c>, <c>host:port</c> or <c>[v6]:port</c>), or null.</summary>
    public T? Match(ReadOnlySpan<char> authority) => TryMatch(authority, out var value) ? value : null;

    public bool TryMatch(ReadOnlySpan<char> authority, [MaybeNullWhen(false)] out T value)
    {
        var host = HostTable.SplitPort(authority, out var port);
        if (_hasPorts && port.Length > 0
            && (_exact.TryGetValue(authority, out value) || TryMatchSuffix(authority, out value) || _anyByPort.TryGetValue(port, out value)))
        {
            return true;
        }

        return TryMatchHost(host, out value);
    }

    /// <summary>Matches a bare host name, such as a TLS SNI, which never carries a port.</summary>
    internal bool TryMatchHost(ReadOnlySpan<char> host, [MaybeNullWhen(false)] out T value)
    {
        // An absolute name ("edition.cnn.com.") names the same host (RFC 1034 §3.1).
        if (host.Length > 1 && host[^1] == '.')
        {
            host = host[..^1];
        }

        if (_exact.TryGetValue(host, out value) || TryMatchSuffix(host, out value))
        {
            return true;
        }

        value = _any;
        return value is not null;
    }

    /// <summary>
    /// Tries each suffix that starts at a dot, leftmost (longest) first; index 0 is skipped because <c>*</c> stands for
    /// at least one character.
    /// </summary>
    private bool TryMatchSuffix(ReadOnlySpan<char> name, [MaybeNullWhen(false)] out T value)
    {
        if (_suffixes.Dictionary.Count > 0)
        {
            for (var i = 1; i < name.Length; i++)
            {
                if (name[i] == '.' && _suffixes.TryGetValue(name[i..], out value))
                {
                    return true;
                }
            }
        }

        value = null;
        return false;
    }
}

/// <summary>Parsing shared by host tables and their validation.</summary>
public static class HostTable
{
    /// <summary>
    /// Splits <c>host:port</c> (RFC 3986 §3.2.2 authority) into the host and the port's digits; an IPv6 literal keeps
    /// its brackets (<c>[::1]:80</c> → <c>[::1]</c>). <paramref name="port"/> is empty when there is none.
    /// </summary>
    public static ReadOnlySpan<char> SplitPort(ReadOnlySpan<char> authority, out ReadOnlySpan<char> port)
    {
        port = default;
        var colon = authority.LastIndexOf(':');
        if (colon < 0 || (authority.Length > 0 && authority[0] == '[' && authority.LastIndexOf(']') > colon))
        {
            return authority; // no port, or only the colons of an IPv6 literal
        }

        if (authority[0] != '[' && authority[..colon].Contains(':'))
        {
            return authority; // an unbracketed IPv6 address: no port can be told apart
        }

        port = authority[(colon + 1)..];
        return authority[..colon];
    }
}

using Meshgate.Core.ProxyConfiguration;

namespace Meshgate.Core.Routing;

/// <summary>
/// A listener's filter chains compiled for the TLS server name (RFC 6066 §3 SNI) of each connection: an exact name,
/// then the longest <c>*.suffix</c>, then <c>*</c>, then a chain without server names, then the listener's
/// <see cref="Listener.DefaultFilterChain"/>. A connection without SNI skips the name lookups.
/// </summary>
public sealed class SniTable
{
    private readonly HostTable<FilterChain> _names;
    private readonly FilterChain? _fallback;

    public SniTable(Listener listener)
    {
        ArgumentNullException.ThrowIfNull(listener);
        var entries = new List<KeyValuePair<string, FilterChain>>();
        FilterChain? anyName = null;
        foreach (var chain in listener.FilterChains)
        {
            if (chain.ServerNames.IsEmpty)
            {
                anyName ??= chain;
            }

            foreach (var name in chain.ServerNames)
            {
                entries.Add(new(name, chain));
            }
        }

        _names = new HostTable<FilterChain>(entries);
        _fallback = anyName ?? listener.DefaultFilterChain;
    }

    /// <summary>The chain for <paramref name="serverName"/> (empty when the ClientHello had none), or null to close the connection.</summary>
    public FilterChain? Match(ReadOnlySpan<char> serverName) =>
        serverName.Length > 0 && _names.TryMatchHost(serverName, out var chain) ? chain : _fallback;
}

using Meshgate.Core.ProxyConfiguration;

namespace Meshgate.Core.Routing;

/// <summary>
/// A <see cref="RouteTable"/> compiled once per snapshot: the authority picks a virtual host through a
/// <see cref="HostTable{T}"/>, whose <see cref="RouteMatcher"/> picks the route. Per request, lookups only.
/// </summary>
public sealed class CompiledRouteTable
{
    private readonly HostTable<RouteMatcher> _hosts;

    /// <param name="table">A table that passed <see cref="ProxyConfigValidator"/> (its regexes compile).</param>
    public CompiledRouteTable(RouteTable table)
    {
        ArgumentNullException.ThrowIfNull(table);
        Table = table;
        var entries = new List<KeyValuePair<string, RouteMatcher>>();
        foreach (var host in table.VirtualHosts)
        {
            var matcher = new RouteMatcher(host);
            foreach (var domain in host.Domains)
            {
                entries.Add(new(domain, matcher));
            }
        }

        _hosts = new HostTable<RouteMatcher>(entries);
    }

    public RouteTable Table { get; }

    /// <summary>
    /// The virtual host for <paramref name="authority"/> (the Host header or <c>:authority</c>) and its first route
    /// matching <paramref name="path"/> and <paramref name="headers"/>; null when no virtual host or no route matches
    /// (Envoy answers 404 with response flag <c>NR</c>).
    /// </summary>
    public MatchedRoute? Match<THeaders>(ReadOnlySpan<char> authority, ReadOnlySpan<char> path, THeaders headers)
        where THeaders : IHeaderSource
    {
        if (!_hosts.TryMatch(authority, out var host))
        {
            return null;
        }

        return host.Match(path, headers) is { } route ? new MatchedRoute(host.VirtualHost, route) : null;
    }

    /// <summary>The virtual host alone, for callers that report which host matched when no route did.</summary>
    public VirtualHost? MatchVirtualHost(ReadOnlySpan<char> authority) => _hosts.Match(authority)?.VirtualHost;
}

using Meshgate.Core.ProxyConfiguration;

namespace Meshgate.Core.Routing;

/// <summary>
/// A <see cref="RouteTable"/> compiled once per snapshot: the authority picks a virtual host through a
/// <see cref="HostTable{T}"/>, whose <see cref="RouteMatcher"/> picks the route. Per request, lookups only.
/// </summary>
public sealed class CompiledRouteTable
{
    private readonly HostTable<RouteMatcher> _hosts;
    private readonly RouteMatcher[] _matchers; // one per virtual host, in order

    /// <param name="table">A table that passed <see cref="ProxyConfigValidator"/> (its regexes compile).</param>
    /// <param name="previous">
    /// The table this one replaces, if any: its compiled virtual hosts are kept where <paramref name="table"/> has the
    /// same instances (as a delta leaves them), so one changed host among 10,000 compiles one.
    /// </param>
    public CompiledRouteTable(RouteTable table, CompiledRouteTable? previous = null)
    {
        ArgumentNullException.ThrowIfNull(table);
        Table = table;
        Dictionary<VirtualHost, RouteMatcher>? kept = null;
        if (previous is not null)
        {
            kept = new Dictionary<VirtualHost, RouteMatcher>(previous._matchers.Length, ReferenceEqualityComparer.Instance);
            foreach (var matcher in previous._matchers)
            {
                kept[matcher.VirtualHost] = matcher;
            }
        }

        _matchers = new RouteMatcher[table.VirtualHosts.Count];
        var domains = 0;
        for (var i = 0; i < _matchers.Length; i++)
        {
            var host = table.VirtualHosts[i];
            _matchers[i] = kept is not null && kept.TryGetValue(host, out var matcher) ? matcher : new RouteMatcher(host);
            domains += host.Domains.Count;
        }

        var entries = new List<KeyValuePair<string, RouteMatcher>>(domains);
        foreach (var matcher in _matchers)
        {
            foreach (var domain in matcher.VirtualHost.Domains)
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
        var query = path.IndexOf('?');
        return Match(authority, path, query < 0 ? [] : path[(query + 1)..], headers);
    }

    /// <summary>
    /// As <see cref="Match{THeaders}(ReadOnlySpan{char}, ReadOnlySpan{char}, THeaders)"/> for a path whose query is
    /// apart: <paramref name="query"/> with or without its leading <c>?</c>.
    /// </summary>
    public MatchedRoute? Match<THeaders>(ReadOnlySpan<char> authority, ReadOnlySpan<char> path, ReadOnlySpan<char> query, THeaders headers)
        where THeaders : IHeaderSource
    {
        if (!_hosts.TryMatch(authority, out var host))
        {
            return null;
        }

        if (query.StartsWith('?'))
        {
            query = query[1..];
        }

        return host.MatchCompiled(path, query, headers) is { } route
            ? new MatchedRoute(host.VirtualHost, route.Route) { Actions = route.Actions }
            : null;
    }

    /// <summary>The virtual host alone, for callers that report which host matched when no route did.</summary>
    public VirtualHost? MatchVirtualHost(ReadOnlySpan<char> authority) => _hosts.Match(authority)?.VirtualHost;
}

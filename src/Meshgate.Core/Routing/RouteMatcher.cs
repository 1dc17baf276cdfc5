using System.Text.RegularExpressions;

using Meshgate.Core.ProxyConfiguration;

namespace Meshgate.Core.Routing;

/// <summary>
/// A virtual host's routes compiled for matching: tried in order, the first whose path and header conditions all hold
/// wins (Envoy's and Istio's semantics). Paths follow Envoy: exact and regex see the path without its query, prefix
/// the whole <c>:path</c>. Matching allocates nothing.
/// </summary>
public sealed class RouteMatcher
{
    private readonly CompiledRoute[] _routes;

    public RouteMatcher(VirtualHost host)
    {
        ArgumentNullException.ThrowIfNull(host);
        VirtualHost = host;
        _routes = new CompiledRoute[host.Routes.Count];
        for (var i = 0; i < _routes.Length; i++)
        {
            _routes[i] = new CompiledRoute(host.Routes[i]);
        }
    }

    public VirtualHost VirtualHost { get; }

    /// <summary>The first route matching <paramref name="path"/> (the request's <c>:path</c>) and headers, or null.</summary>
    public Route? Match<THeaders>(ReadOnlySpan<char> path, THeaders headers)
        where THeaders : IHeaderSource
    {
        var query = path.IndexOf('?');
        return MatchCompiled(path, query < 0 ? [] : path[(query + 1)..], headers)?.Route;
    }

    /// <summary>
    /// As <see cref="Match{THeaders}(ReadOnlySpan{char}, THeaders)"/>, with the query apart (<paramref name="query"/>
    /// without its <c>?</c>, for <c>queryParams</c> conditions), and the route's compiled actions.
    /// </summary>
    internal CompiledRoute? MatchCompiled<THeaders>(ReadOnlySpan<char> path, ReadOnlySpan<char> query, THeaders headers)
        where THeaders : IHeaderSource
    {
        var mark = path.IndexOf('?');
        var pathOnly = mark < 0 ? path : path[..mark];
        foreach (var route in _routes)
        {
            if (route.Matches(path, pathOnly, query, headers))
            {
                return route;
            }
        }

        return null;
    }

    internal sealed class CompiledRoute
    {
        private readonly string? _exact;
        private readonly string? _prefix;
        private readonly Regex? _regex;
        private readonly StringComparison _comparison;
        private readonly HeaderMatcher[] _headers;
        private readonly HeaderMatcher[]? _queryParams;

        public CompiledRoute(Route route)
        {
            Route = route;
            Actions = CompiledRouteActions.For(route);
            if (route.Match is { QueryParams.IsEmpty: false } withQuery)
            {
                _queryParams = new HeaderMatcher[withQuery.QueryParams.Count];
                for (var i = 0; i < _queryParams.Length; i++)
                {
                    _queryParams[i] = new HeaderMatcher(withQuery.QueryParams[i], caseSensitiveName: true);
                }
            }

            var match = route.Match;
            _exact = match?.Exact;
            _prefix = match?.Prefix;
            _comparison = match?.IgnoreCase == true ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
            _regex = match?.Regex is { } pattern ? RouteRegex.Create(pattern, match.IgnoreCase) : null;
            _headers = new HeaderMatcher[match?.Headers.Count ?? 0];
            for (var i = 0; i < _headers.Length; i++)
            {
                _headers[i] = new HeaderMatcher(match!.Headers[i]);
            }
        }

        public Route Route { get; }

        /// <summary>Header changes, rewrites, mirrors and CORS; null when the route has none.</summary>
        public CompiledRouteActions? Actions { get; }

        public bool Matches<THeaders>(ReadOnlySpan<char> path, ReadOnlySpan<char> pathOnly, ReadOnlySpan<char> query, THeaders headers)
            where THeaders : IHeaderSource
        {
            if ((_exact is not null && !pathOnly.Equals(_exact, _comparison))
                || (_prefix is not null && !path.StartsWith(_prefix, _comparison))
                || (_regex is not null && !_regex.IsMatch(pathOnly)))
            {
                return false;
            }

            foreach (var header in _headers)
            {
                if (!header.Matches(headers))
                {
                    return false;
                }
            }

            if (_queryParams is not null)
            {
                foreach (var parameter in _queryParams)
                {
                    if (!parameter.Matches(new QueryParameters(query)))
                    {
                        return false;
                    }
                }
            }

            return true;
        }
    }
}

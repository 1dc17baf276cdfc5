using Meshgate.Core.ProxyConfiguration;

namespace Meshgate.Core.Routing;

/// <summary>The virtual host and route a request matched (a struct: matching allocates nothing).</summary>
public readonly record struct MatchedRoute(VirtualHost VirtualHost, Route Route)
{
    /// <summary>The route's compiled header changes, rewrites, mirrors and CORS; null when it has none.</summary>
    public CompiledRouteActions? Actions { get; init; }
}

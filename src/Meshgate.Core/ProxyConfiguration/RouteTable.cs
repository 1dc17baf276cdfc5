namespace Meshgate.Core.ProxyConfiguration;

/// <summary>
/// HTTP routing for the filter chains that name it (Envoy's <c>RouteConfiguration</c>): the request's authority picks a
/// virtual host (exact domain, then longest <c>*.suffix</c>, then <c>*</c>), whose routes are tried in order.
/// </summary>
public sealed record RouteTable
{
    public required string Name { get; init; }

    public EquatableArray<VirtualHost> VirtualHosts { get; init; }
}

/// <summary>A set of domains and the routes for them; the first route that matches wins.</summary>
public sealed record VirtualHost
{
    /// <summary>Istio names them <c>edition.cnn.com:80</c>.</summary>
    public required string Name { get; init; }

    /// <summary>
    /// Host names, <c>*.suffix</c> or <c>*</c>, optionally with <c>:port</c>. A request's port is ignored unless a
    /// domain names it, so <c>edition.cnn.com</c> also takes <c>edition.cnn.com:80</c>.
    /// </summary>
    public EquatableArray<string> Domains { get; init; }

    public EquatableArray<Route> Routes { get; init; }
}

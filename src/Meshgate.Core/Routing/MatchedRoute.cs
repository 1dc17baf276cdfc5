using Meshgate.Core.ProxyConfiguration;

namespace Meshgate.Core.Routing;

/// <summary>The virtual host and route a request matched (a struct: matching allocates nothing).</summary>
public readonly record struct MatchedRoute(VirtualHost VirtualHost, Route Route);

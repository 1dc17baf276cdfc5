namespace Meshgate.Core.ProxyConfiguration;

/// <summary>
/// The whole configuration of one proxy at one version: the control plane → proxy contract, shaped like
/// Envoy's (listeners → route tables → clusters → secrets). Immutable and value-equal: two snapshots built from
/// the same input are <see cref="object.Equals(object)"/>, so a proxy can tell a real change from a repeat.
/// Snapshots carry host names, never resolved addresses; the proxy resolves and refreshes them by TTL.
/// A snapshot is published only when <see cref="ProxyConfigValidator.Validate(ProxyConfig)"/> finds nothing wrong.
/// </summary>
public sealed record ProxyConfig
{
    /// <summary>Opaque version the proxy echoes in its ACK or NACK (like xDS's <c>version_info</c>).</summary>
    public required string Version { get; init; }

    /// <summary>The proxy this snapshot was built for; absent in a hand-written bootstrap.</summary>
    public Node? Node { get; init; }

    public EquatableArray<Listener> Listeners { get; init; }

    public EquatableArray<RouteTable> RouteTables { get; init; }

    public EquatableArray<Cluster> Clusters { get; init; }

    public EquatableArray<Secret> Secrets { get; init; }

    /// <summary>Where and how the proxy writes its access log; absent means no access log (Istio's default).</summary>
    public AccessLogSettings? AccessLog { get; init; }

    /// <summary>Egress safety (address guard, domain fronting); absent means the strict defaults.</summary>
    public EgressSettings? Egress { get; init; }
}

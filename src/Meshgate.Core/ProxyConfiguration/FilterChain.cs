namespace Meshgate.Core.ProxyConfiguration;

/// <summary>
/// How one kind of connection on a listener is handled: which SNI selects it, whether TLS is terminated, and where
/// it goes: a route table (HTTP, after termination on a TLS listener) or a cluster (TCP relay or TLS passthrough).
/// Exactly one of <see cref="RouteTable"/> and <see cref="Cluster"/> is set.
/// </summary>
public sealed record FilterChain
{
    /// <summary>For logs and <c>/config_dump</c>; optional.</summary>
    public string? Name { get; init; }

    /// <summary>
    /// The SNI names this chain takes (RFC 6066 §3): exact names, <c>*.suffix</c> or <c>*</c>; case-insensitive.
    /// Empty means any SNI and none; only TLS listeners look at SNI.
    /// </summary>
    public EquatableArray<string> ServerNames { get; init; }

    /// <summary>TLS termination; absent means the bytes are read as they come (plaintext, or TLS passed through).</summary>
    public DownstreamTls? Tls { get; init; }

    /// <summary>The <see cref="ProxyConfiguration.RouteTable.Name"/> that routes HTTP requests.</summary>
    public string? RouteTable { get; init; }

    /// <summary>The <see cref="ProxyConfiguration.Cluster.Name"/> the connection is relayed to.</summary>
    public string? Cluster { get; init; }
}

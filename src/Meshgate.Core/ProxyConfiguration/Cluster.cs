using System.Text.Json.Serialization;

namespace Meshgate.Core.ProxyConfiguration;

/// <summary>
/// A set of upstream endpoints and how to reach them. Named <c>outbound|port|subset|host</c> as Istio does
/// (<see cref="ClusterName"/>), plus <see cref="BlackHole"/> and <see cref="Passthrough"/>.
/// </summary>
public sealed record Cluster
{
    /// <summary>Drops every request (502 for HTTP) and closes every connection: Istio's REGISTRY_ONLY target.</summary>
    public const string BlackHole = "BlackHoleCluster";

    /// <summary>
    /// Not a cluster: a route's weighted target of this name answers 500 (a Gateway API backendRef that is invalid, whose
    /// share Istio sends to a cluster that does not exist). Snapshots never define it.
    /// </summary>
    public const string InvalidBackend = "InvalidBackendCluster";

    /// <summary>Forwards to the connection's original destination: Istio's ALLOW_ANY target.</summary>
    public const string Passthrough = "PassthroughCluster";

    /// <summary>Istio's default <c>connectTimeout</c>.</summary>
    public static readonly TimeSpan DefaultConnectTimeout = TimeSpan.FromSeconds(10);

    public required string Name { get; init; }

    public required ClusterDiscovery Discovery { get; init; }

    /// <summary>Host names or IP addresses with ports; never the result of resolving a name.</summary>
    public EquatableArray<Endpoint> Endpoints { get; init; }

    /// <summary>Absent means <see cref="DefaultConnectTimeout"/>.</summary>
    [JsonConverter(typeof(DurationJsonConverter))]
    public TimeSpan? ConnectTimeout { get; init; }

    /// <summary>
    /// Upstream connection attempts (TCP connect and TLS handshake) in flight at once; one more fails at once with 503
    /// <c>UO</c> (Envoy's circuit breakers). Absent means the proxy's default (1024, Envoy's).
    /// </summary>
    public int? MaxPendingConnects { get; init; }

    /// <summary>TLS origination; absent sends the bytes as they are.</summary>
    public UpstreamTls? Tls { get; init; }

    /// <summary>
    /// HTTP requests go to the endpoints over HTTP/2 (Envoy's <c>http2_protocol_options</c>, which Istio sets for
    /// service ports of protocol HTTP2, GRPC and GRPC-WEB): with prior knowledge (h2c) in plaintext, by ALPN <c>h2</c>
    /// when the cluster originates TLS. Otherwise HTTP/1.1. The mesh tunnel (<see cref="UpstreamTls.Tunnel"/>) always
    /// carries HTTP/1.1. Written only when true.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool Http2 { get; init; }

    /// <summary>The <see cref="BlackHole"/> cluster as Istio defines it: STATIC with no endpoints.</summary>
    public static Cluster BlackHoleCluster { get; } = new() { Name = BlackHole, Discovery = ClusterDiscovery.Static };

    /// <summary>The <see cref="Passthrough"/> cluster as Istio defines it: ORIGINAL_DST.</summary>
    public static Cluster PassthroughCluster { get; } = new() { Name = Passthrough, Discovery = ClusterDiscovery.OriginalDestination };
}

/// <summary>How a cluster's endpoints are found (Envoy's cluster <c>type</c>).</summary>
public enum ClusterDiscovery
{
    /// <summary>The endpoints are IP addresses, used as they are.</summary>
    [JsonStringEnumMemberName("STATIC")] Static,

    /// <summary>Every address each host name resolves to is an endpoint; re-resolved by TTL.</summary>
    [JsonStringEnumMemberName("STRICT_DNS")] StrictDns,

    /// <summary>One host name; a new connection uses the first address of the latest answer.</summary>
    [JsonStringEnumMemberName("LOGICAL_DNS")] LogicalDns,

    /// <summary>The connection's original destination (transparent capture); no endpoints.</summary>
    [JsonStringEnumMemberName("ORIGINAL_DST")] OriginalDestination,

    /// <summary>Endpoints sent by the control plane with the snapshot (the workloads of a service).</summary>
    [JsonStringEnumMemberName("EDS")] Eds,
}

/// <summary>One upstream: a host name or IP address and a port.</summary>
public sealed record Endpoint
{
    public required string Address { get; init; }

    public required int Port { get; init; }

    /// <summary>Relative load-balancing weight, at least 1.</summary>
    public int Weight { get; init; } = 1;
}

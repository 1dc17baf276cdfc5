using System.ComponentModel;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

// networking/v1alpha3/destination_rule.proto
namespace Meshgate.Core.Resources.Istio;

/// <summary><c>networking.istio.io</c> DestinationRule: policy applied after routing.</summary>
[Description("Configuration affecting load balancing, outlier detection, etc: DestinationRule defines policies that apply to traffic intended for a service after routing has occurred. See more details at: https://istio.io/docs/reference/config/networking/destination-rule.html")]
public sealed record DestinationRuleSpec
{
    [JsonRequired]
    public string? Host { get; init; }
    public TrafficPolicy? TrafficPolicy { get; init; }
    public List<Subset>? Subsets { get; init; }
    public List<string>? ExportTo { get; init; }
    /// <summary>Note: <c>matchLabels</c> here (istio.type.v1beta1.WorkloadSelector), unlike ServiceEntry's <c>labels</c>.</summary>
    public DestinationRuleWorkloadSelector? WorkloadSelector { get; init; }
}

public sealed record DestinationRuleWorkloadSelector
{
    public Dictionary<string, string>? MatchLabels { get; init; }
}

public sealed record TrafficPolicy
{
    public LoadBalancerSettings? LoadBalancer { get; init; }
    public ConnectionPoolSettings? ConnectionPool { get; init; }
    public OutlierDetection? OutlierDetection { get; init; }
    public ClientTlsSettings? Tls { get; init; }
    public List<PortTrafficPolicy>? PortLevelSettings { get; init; }
    public TunnelSettings? Tunnel { get; init; }
    public ProxyProtocol? ProxyProtocol { get; init; }
}

public sealed record Subset
{
    [JsonRequired]
    public string? Name { get; init; }
    public Dictionary<string, string>? Labels { get; init; }
    public TrafficPolicy? TrafficPolicy { get; init; }
}

public sealed record PortTrafficPolicy
{
    public PortSelector? Port { get; init; }
    public LoadBalancerSettings? LoadBalancer { get; init; }
    public ConnectionPoolSettings? ConnectionPool { get; init; }
    public OutlierDetection? OutlierDetection { get; init; }
    public ClientTlsSettings? Tls { get; init; }
}

public sealed record LoadBalancerSettings
{
    public SimpleLoadBalancer? Simple { get; init; }
    public ConsistentHash? ConsistentHash { get; init; }
    /// <summary>Kept as given; Meshgate does not act on locality yet.</summary>
    public JsonObject? LocalityLbSetting { get; init; }
    public string? WarmupDurationSecs { get; init; }
}

public enum SimpleLoadBalancer
{
    [JsonStringEnumMemberName("UNSPECIFIED")] Unspecified,
    [JsonStringEnumMemberName("LEAST_CONN")] LeastConn,
    [JsonStringEnumMemberName("RANDOM")] Random,
    [JsonStringEnumMemberName("PASSTHROUGH")] Passthrough,
    [JsonStringEnumMemberName("ROUND_ROBIN")] RoundRobin,
    [JsonStringEnumMemberName("LEAST_REQUEST")] LeastRequest,
}

public sealed record ConsistentHash
{
    public string? HttpHeaderName { get; init; }
    public HttpCookie? HttpCookie { get; init; }
    public bool? UseSourceIp { get; init; }
    public string? HttpQueryParameterName { get; init; }
    public RingHash? RingHash { get; init; }
    public Maglev? Maglev { get; init; }
    public long? MinimumRingSize { get; init; }
}

public sealed record HttpCookie
{
    public string? Name { get; init; }
    public string? Path { get; init; }
    public string? Ttl { get; init; }
}

public sealed record RingHash
{
    public long? MinimumRingSize { get; init; }
}

public sealed record Maglev
{
    public long? TableSize { get; init; }
}

public sealed record ConnectionPoolSettings
{
    public TcpSettings? Tcp { get; init; }
    public HttpSettings? Http { get; init; }
}

public sealed record TcpSettings
{
    public long? MaxConnections { get; init; }
    public string? ConnectTimeout { get; init; }
    public TcpKeepalive? TcpKeepalive { get; init; }
    public string? MaxConnectionDuration { get; init; }
    public string? IdleTimeout { get; init; }
}

public sealed record TcpKeepalive
{
    public long? Probes { get; init; }
    public string? Time { get; init; }
    public string? Interval { get; init; }
}

public sealed record HttpSettings
{
    public long? Http1MaxPendingRequests { get; init; }
    public long? Http2MaxRequests { get; init; }
    public long? MaxRequestsPerConnection { get; init; }
    public long? MaxRetries { get; init; }
    public string? IdleTimeout { get; init; }
    public string? H2UpgradePolicy { get; init; }
    public bool? UseClientProtocol { get; init; }
    public long? MaxConcurrentStreams { get; init; }
}

public sealed record OutlierDetection
{
    public long? ConsecutiveErrors { get; init; }
    public long? Consecutive5xxErrors { get; init; }
    public long? ConsecutiveGatewayErrors { get; init; }
    public long? ConsecutiveLocalOriginFailures { get; init; }
    public bool? SplitExternalLocalOriginErrors { get; init; }
    public string? Interval { get; init; }
    public string? BaseEjectionTime { get; init; }
    public long? MaxEjectionPercent { get; init; }
    public long? MinHealthPercent { get; init; }
}

public sealed record ClientTlsSettings
{
    public ClientTlsMode? Mode { get; init; }
    public string? ClientCertificate { get; init; }
    public string? PrivateKey { get; init; }
    public string? CaCertificates { get; init; }
    public string? CredentialName { get; init; }
    public List<string>? SubjectAltNames { get; init; }
    public string? Sni { get; init; }
    public bool? InsecureSkipVerify { get; init; }
    public string? CaCrl { get; init; }
}

public enum ClientTlsMode
{
    [JsonStringEnumMemberName("DISABLE")] Disable,
    [JsonStringEnumMemberName("SIMPLE")] Simple,
    [JsonStringEnumMemberName("MUTUAL")] Mutual,
    [JsonStringEnumMemberName("ISTIO_MUTUAL")] IstioMutual,
}

public sealed record TunnelSettings
{
    public string? Protocol { get; init; }
    [JsonRequired]
    public string? TargetHost { get; init; }
    [JsonRequired]
    public long? TargetPort { get; init; }
}

public sealed record ProxyProtocol
{
    public string? Version { get; init; }
}

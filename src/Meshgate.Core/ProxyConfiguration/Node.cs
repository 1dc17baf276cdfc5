using System.Text.Json.Serialization;

namespace Meshgate.Core.ProxyConfiguration;

/// <summary>The proxy a snapshot is for, as the control plane keys it (Envoy's <c>node</c>).</summary>
public sealed record Node
{
    /// <summary>For example <c>sidecar~127.0.0.1~sleep.default~default.svc.cluster.local</c>, as Istio names proxies.</summary>
    public string? Id { get; init; }

    public ProxyRole Role { get; init; }

    public string? Namespace { get; init; }

    public string? ServiceAccount { get; init; }
}

/// <summary>The two roles of the one proxy program (<c>meshgate proxy --role</c>).</summary>
public enum ProxyRole
{
    [JsonStringEnumMemberName("sidecar")] Sidecar,
    [JsonStringEnumMemberName("gateway")] Gateway,
}

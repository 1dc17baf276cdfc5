using System.Collections.Immutable;
using Meshgate.Core.ProxyConfiguration;

namespace Meshgate.Core.Translation;

/// <summary>
/// A connected proxy as the control plane sees it: who it is (the pod it stands beside, or the gateway workload),
/// as the proxy announces it when its discovery stream opens (Istio's node metadata).
/// </summary>
public sealed record ProxyNode
{
    /// <summary>The annotation the control plane writes on a connected proxy's Pod: <c>sidecar</c> or <c>gateway</c>.</summary>
    public const string RoleAnnotation = "meshgate.io/role";

    /// <summary>The annotation (<c>"true"</c>) on the Pod of a proxy that holds a workload certificate (<see cref="HasWorkloadCertificate"/>).</summary>
    public const string WorkloadCertificateAnnotation = "meshgate.io/workload-certificate";

    public required ProxyRole Role { get; init; }

    /// <summary>The workload (pod) name, e.g. <c>sleep-6bd8c9b7f4-x7k2p</c>.</summary>
    public required string Name { get; init; }

    public required string Namespace { get; init; }

    public ImmutableSortedDictionary<string, string> Labels { get; init; } = ImmutableSortedDictionary<string, string>.Empty;

    public string ServiceAccount { get; init; } = "default";

    /// <summary>The workload's IP addresses; the first is its primary address (a pod's <c>status.podIP</c>).</summary>
    public ImmutableArray<string> Addresses { get; init; } = [];

    /// <summary>How a sidecar receives its application's outbound traffic; gateways ignore it.</summary>
    public CaptureMode Capture { get; init; } = CaptureMode.Explicit;

    /// <summary>
    /// The proxy holds a workload certificate from the mesh CA, so it can wrap its traffic to gateways in the mesh's
    /// mutual TLS (and a gateway can unwrap it). Part of the key: a sidecar without one gets plaintext hops.
    /// </summary>
    public bool HasWorkloadCertificate { get; init; }

    /// <summary>
    /// What translation depends on (DESIGN.md: role, namespace, labels, service account, and a sidecar's capture mode):
    /// proxies with the same key get the same snapshot, so the control plane translates once per key.
    /// </summary>
    public string Key => KeyWith(string.Join(',', Labels.Select(l => l.Key + "=" + l.Value)));

    /// <summary>
    /// <see cref="Key"/> with the labels left out (<c>*</c> in their place): a sidecar's key while no configuration
    /// reads its labels (<see cref="Translator.KeyFor"/>).
    /// </summary>
    internal string KeyWithoutLabels => KeyWith("*");

    private string KeyWith(string labels) =>
        $"{(Role == ProxyRole.Gateway ? "gateway" : "sidecar")}|{Namespace}|{ServiceAccount}|{labels}|{(Role == ProxyRole.Gateway ? "" : Capture == CaptureMode.Explicit ? "explicit" : "transparent")}{(HasWorkloadCertificate ? "|mtls" : "")}";

    /// <summary>Istio's proxy id form: <c>sidecar~10.0.0.5~sleep-x7k2p.default~default.svc.cluster.local</c>.</summary>
    public string Id =>
        $"{(Role == ProxyRole.Gateway ? "router" : "sidecar")}~{(Addresses.IsDefaultOrEmpty ? "0.0.0.0" : Addresses[0])}~{Name}.{Namespace}~{Namespace}.svc.cluster.local";
}

/// <summary>How a sidecar gets its application's outbound traffic (its listener on 15001).</summary>
public enum CaptureMode
{
    /// <summary>The application is configured to use 15001 as its HTTP proxy (absolute-form requests and CONNECT).</summary>
    Explicit,

    /// <summary>nftables redirects the workload's outbound TCP to 15001; the original destination comes from SO_ORIGINAL_DST.</summary>
    Transparent,
}

using System.Net;

namespace Meshgate.ControlPlane;

/// <summary>Where the control plane keeps its data and listens.</summary>
public sealed record ControlPlaneOptions
{
    public const int DefaultApiPort = 15014;

    /// <summary>Istio's plaintext xDS port; Meshgate opens it only when asked (<see cref="DiscoveryEndpoint"/>).</summary>
    public const int DefaultPlaintextDiscoveryPort = 15010;

    /// <summary>Istio's secure xDS and CA port (istiod's 15012).</summary>
    public const int DefaultDiscoveryPort = 15012;

    /// <summary>The data directory (SQLite store, CA keys, logs); <c>./.meshgate</c> by default.</summary>
    public string DataDirectory { get; init; } = ".meshgate";

    /// <summary>Where supervised proxies' logs are kept: <c>DATA/logs/NAMESPACE/POD.log</c>.</summary>
    public string LogsDirectory => Path.Combine(DataDirectory, "logs");

    /// <summary>The resource API (HTTPS with the admin token, docs/kubernetes-api.md "Access").</summary>
    public IPEndPoint ApiEndpoint { get; init; } = new(IPAddress.Loopback, DefaultApiPort);

    /// <summary>
    /// Serves the resource API over plain HTTP to anyone, without the admin token or a kubeconfig. Only for in-process
    /// tests that exercise something else; the commands (<c>up</c>, <c>controlplane</c>) never set it.
    /// </summary>
    public bool UnauthenticatedPlaintextApiForTests { get; init; }

    /// <summary>
    /// The discovery stream over plaintext HTTP/2, without certificates; null (the default) opens none. Only for a proxy
    /// started with <c>--discovery-plaintext</c>; port 0 takes a free one.
    /// </summary>
    public IPEndPoint? DiscoveryEndpoint { get; init; }

    /// <summary>
    /// The discovery stream and the CA over TLS (Istio's 15012), with a server certificate from the mesh CA that proxies
    /// check against the root; null (the default here; the CLI opens 15012) opens none. Port 0 takes a free one.
    /// </summary>
    public IPEndPoint? SecureDiscoveryEndpoint { get; init; }

    /// <summary>
    /// Opens the listening socket of <see cref="SecureDiscoveryEndpoint"/> instead of Kestrel: the local cluster binds it
    /// inside istiod's pod network namespace (<c>meshgate up --cluster</c>), so proxies reach the control plane at its
    /// pod IP through the pod network and its policies. Null (the default) lets Kestrel bind it here.
    /// </summary>
    public Func<IPEndPoint, System.Net.Sockets.Socket>? OpenDiscoverySocket { get; init; }

    /// <summary>
    /// The port a Gateway API gateway's workload listens on for a listener port (its Service's targetPort); null (the
    /// default) picks a free local port, since every proxy of a local mesh shares this machine's addresses.
    /// </summary>
    public Func<int, int>? GatewayTargetPort { get; init; }

    /// <summary>
    /// Whether a proxy may register a Pod that does not exist (<c>meshgate up</c> and static proxies: the proxy is the
    /// pod). False in the local cluster, where the kubelet owns every Pod: a proxy of a pod already deleted is refused
    /// rather than bringing it back as a ghost endpoint.
    /// </summary>
    public bool RegistersUnknownPods { get; init; } = true;

    /// <summary>Where the CA's root and the token signing key are kept: <c>DATA/ca</c>.</summary>
    public string CaDirectory => Path.Combine(DataDirectory, "ca");

    /// <summary>The lifetime of workload certificates unless a proxy asks for less (Istio's DEFAULT_WORKLOAD_CERT_TTL, 24 h).</summary>
    public TimeSpan WorkloadCertificateLifetime { get; init; } = Identity.MeshIdentity.DefaultWorkloadLifetime;
}

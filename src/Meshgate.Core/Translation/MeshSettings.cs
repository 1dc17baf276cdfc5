using Meshgate.Core.ProxyConfiguration;

namespace Meshgate.Core.Translation;

/// <summary>
/// The mesh-wide settings translation needs: Istio's <c>meshConfig</c> (stored, as Istio stores it, in the
/// <c>mesh</c> key of ConfigMap <c>istio</c> in the root namespace).
/// </summary>
public sealed record MeshSettings
{
    public const string DefaultRootNamespace = "istio-system";

    /// <summary><c>meshConfig.outboundTrafficPolicy.mode</c>; Istio's default is ALLOW_ANY.</summary>
    public OutboundTrafficPolicyMode OutboundTrafficPolicy { get; init; } = OutboundTrafficPolicyMode.AllowAny;

    /// <summary><c>meshConfig.accessLogFile</c>: empty turns access logging off (Istio's default profile), <c>/dev/stdout</c> is the demo profile's.</summary>
    public string AccessLogFile { get; init; } = "";

    /// <summary><c>meshConfig.accessLogEncoding</c>.</summary>
    public AccessLogEncoding AccessLogEncoding { get; init; } = AccessLogEncoding.Text;

    /// <summary>
    /// <c>meshConfig.accessLogFormat</c>: a TEXT format with Envoy command operators (<see cref="ProxyConfiguration.AccessLogFormat"/>);
    /// empty for Istio's default format.
    /// </summary>
    public string AccessLogFormat { get; init; } = "";

    /// <summary>Where mesh-wide DestinationRules and the mesh config live (Istio's <c>rootNamespace</c>).</summary>
    public string RootNamespace { get; init; } = DefaultRootNamespace;

    /// <summary>The SPIFFE trust domain: identities are <c>spiffe://{TrustDomain}/ns/{ns}/sa/{sa}</c> (<see cref="SpiffeIdentity"/>).</summary>
    public string TrustDomain { get; init; } = "cluster.local";

    /// <summary>
    /// Meshgate's own <c>meshgate.egress</c> section: the address ranges the egress guard lets through, and the domain
    /// fronting checks (docs/egress-safety.md). The defaults are strict.
    /// </summary>
    public EgressSettings Egress { get; init; } = new();

    /// <summary>A workload's identity, as Istio spells it: <c>spiffe://&lt;trustDomain&gt;/ns/&lt;ns&gt;/sa/&lt;sa&gt;</c>.</summary>
    public static string SpiffeIdentity(string trustDomain, string ns, string serviceAccount) => $"spiffe://{trustDomain}/ns/{ns}/sa/{serviceAccount}";
}

/// <summary>What a sidecar does with traffic to a host no ServiceEntry or Service names.</summary>
public enum OutboundTrafficPolicyMode
{
    /// <summary>Pass it through to its original destination (PassthroughCluster).</summary>
    AllowAny,

    /// <summary>Refuse it: 502 for HTTP, a closed connection for TCP (BlackHoleCluster).</summary>
    RegistryOnly,
}

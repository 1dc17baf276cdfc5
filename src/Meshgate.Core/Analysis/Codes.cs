namespace Meshgate.Core.Analysis;

/// <summary>
/// The catalogue of analysis codes (docs/analyze.md explains each). Codes are never reused; Istio's nearest
/// istioctl code is noted for readers who know those.
/// </summary>
public static class Codes
{
    /// <summary>A ServiceEntry with resolution NONE for a host an egress gateway forwards to (the seed's "infinite loop" warning).</summary>
    public static readonly FindingCode GatewayForwardsToOriginalDestination = new("MG0001", Severity.Error, "GatewayForwardsToOriginalDestination");

    /// <summary>A VirtualService names a Gateway that does not exist (IST0101 for gateways).</summary>
    public static readonly FindingCode ReferencedGatewayNotFound = new("MG0002", Severity.Error, "ReferencedGatewayNotFound");

    /// <summary>A route's subset is not in the DestinationRule its clients find, or no DestinationRule has the host (IST0101 for subsets).</summary>
    public static readonly FindingCode ReferencedSubsetNotFound = new("MG0003", Severity.Error, "ReferencedSubsetNotFound");

    /// <summary>A DestinationRule some clients need is not on their lookup path (client namespace, host's namespace, root namespace).</summary>
    public static readonly FindingCode DestinationRuleNotOnLookupPath = new("MG0004", Severity.Error, "DestinationRuleNotOnLookupPath");

    /// <summary>A Gateway's selector matches no workload (IST0101 for selectors).</summary>
    public static readonly FindingCode GatewaySelectsNoWorkload = new("MG0005", Severity.Error, "GatewaySelectsNoWorkload");

    /// <summary>A host routed through a Gateway is not in the hosts of that Gateway's server on the port (IST0132).</summary>
    public static readonly FindingCode HostNotInGatewayServer = new("MG0006", Severity.Warning, "HostNotInGatewayServer");

    /// <summary>A route destination names a host, or host:port, no ServiceEntry or Service declares (IST0101 for hosts).</summary>
    public static readonly FindingCode ReferencedHostNotFound = new("MG0007", Severity.Error, "ReferencedHostNotFound");

    /// <summary>Sidecars send a host to an egress gateway, but no route bound to that gateway takes it further.</summary>
    public static readonly FindingCode EgressGatewayRouteMissing = new("MG0008", Severity.Error, "EgressGatewayRouteMissing");

    /// <summary>A mesh VirtualService host is not in the registry: under ALLOW_ANY its traffic bypasses the rules.</summary>
    public static readonly FindingCode VirtualServiceHostNotInRegistry = new("MG0009", Severity.Warning, "VirtualServiceHostNotInRegistry");

    /// <summary>A mesh VirtualService host is not in the registry and outboundTrafficPolicy is REGISTRY_ONLY: its traffic is blocked.</summary>
    public static readonly FindingCode VirtualServiceHostBlocked = new("MG0010", Severity.Error, "VirtualServiceHostBlocked");

    /// <summary>Two ServiceEntries define the same host with different resolutions (istio/istio#38996).</summary>
    public static readonly FindingCode ConflictingServiceEntryResolution = new("MG0011", Severity.Warning, "ConflictingServiceEntryResolution");

    /// <summary>A route is in the list (http, tls) its port's protocol never uses, so it never applies (istio/istio#32755).</summary>
    public static readonly FindingCode RouteProtocolMismatch = new("MG0012", Severity.Warning, "RouteProtocolMismatch");

    /// <summary>A Gateway server port the Service in front of its workload does not declare (IST0162).</summary>
    public static readonly FindingCode GatewayPortNotOnService = new("MG0013", Severity.Warning, "GatewayPortNotOnService");

    /// <summary>A Gateway API route's parentRef names no Gateway, ServiceEntry or Service: the route is attached nowhere.</summary>
    public static readonly FindingCode ReferencedParentNotFound = new("MG0014", Severity.Error, "ReferencedParentNotFound");

    // MG0015 (IstioMutualWithoutCa) is retired: the control plane's CA issues the certificates ISTIO_MUTUAL needs. Its
    // number is not reused.

    /// <summary>A DestinationRule turns off the mesh's mutual TLS on the hop from sidecars to a gateway (tls.mode DISABLE).</summary>
    public static readonly FindingCode PlaintextGatewayHop = new("MG0016", Severity.Info, "PlaintextGatewayHop");

    /// <summary>A route is attached to a Gateway API Gateway whose status says Programmed False: no gateway proxy serves it yet.</summary>
    public static readonly FindingCode GatewayNotProgrammed = new("MG0017", Severity.Warning, "GatewayNotProgrammed");

    /// <summary>A Gateway API route's status says ResolvedRefs False for a parent: some backend is missing or not permitted.</summary>
    public static readonly FindingCode BackendNotResolved = new("MG0018", Severity.Error, "BackendNotResolved");

    /// <summary>A Gateway API listener's protocol is valid but not implemented by Meshgate (UDP, HBONE...): it is not programmed.</summary>
    public static readonly FindingCode UnsupportedListenerProtocol = new("MG0019", Severity.Warning, "UnsupportedListenerProtocol");

    /// <summary>A namespace with sidecar injection has no NetworkPolicy keeping its pods' egress in: bare pods bypass the egress gateway.</summary>
    public static readonly FindingCode EgressNotConfinedToGateway = new("MG0020", Severity.Warning, "EgressNotConfinedToGateway");

    public static readonly IReadOnlyList<FindingCode> All =
    [
        GatewayForwardsToOriginalDestination, ReferencedGatewayNotFound, ReferencedSubsetNotFound, DestinationRuleNotOnLookupPath,
        GatewaySelectsNoWorkload, HostNotInGatewayServer, ReferencedHostNotFound, EgressGatewayRouteMissing,
        VirtualServiceHostNotInRegistry, VirtualServiceHostBlocked, ConflictingServiceEntryResolution, RouteProtocolMismatch,
        GatewayPortNotOnService, ReferencedParentNotFound, PlaintextGatewayHop, GatewayNotProgrammed, BackendNotResolved,
        UnsupportedListenerProtocol, EgressNotConfinedToGateway,
    ];
}

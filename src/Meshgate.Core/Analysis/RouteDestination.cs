using Meshgate.Core.Resources.Istio;

namespace Meshgate.Core.Analysis;

/// <summary>Which kind of route list of a VirtualService a destination is in.</summary>
public enum RouteKind
{
    Http,
    Tls,
    Tcp,
}

/// <summary>
/// One destination of one VirtualService route, flattened with what decides where it applies: the gateways
/// (<c>mesh</c> or <c>namespace/name</c>, after Istio's resolution of short names) and the match ports.
/// </summary>
/// <param name="Field">The destination's path, <c>spec.http[0].route[0].destination</c>.</param>
/// <param name="Hosts">The hosts this route serves: the VirtualService's hosts, or a TLS route's sniHosts.</param>
/// <param name="AppliesTo">Normalized gateway references; <c>mesh</c> means every sidecar.</param>
/// <param name="Ports">Match ports; empty means any port.</param>
/// <param name="PortField">The path of the first match port, for messages; null when there is none.</param>
internal sealed record RouteDestination(
    VirtualServiceView VirtualService,
    RouteKind Kind,
    string Field,
    Destination Destination,
    IReadOnlyList<string> Hosts,
    IReadOnlyList<string> AppliesTo,
    IReadOnlyList<long> Ports,
    string? PortField)
{
    public bool AppliesToMesh => AppliesTo.Contains(VirtualServiceView.Mesh);

    public IEnumerable<string> Gateways => AppliesTo.Where(g => g != VirtualServiceView.Mesh);
}

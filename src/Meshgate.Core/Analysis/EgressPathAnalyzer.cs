using Meshgate.Core.Hosts;

namespace Meshgate.Core.Analysis;

/// <summary>
/// The two hops of an egress gateway: when sidecars send a host to a gateway's Service (hop 1), some route bound to a
/// Gateway on that workload must take the host further (hop 2); without it the gateway answers 404 (NR) (MG0008). The
/// workload is an Istio Gateway's (hop 2 is a VirtualService bound to it) or a Gateway API Gateway's deployment
/// <c>&lt;name&gt;-istio</c> (hop 2 is an HTTPRoute or TLSRoute attached to it).
/// </summary>
internal sealed class EgressPathAnalyzer : IAnalyzer
{
    public void Analyze(AnalysisIndex index, List<Finding> findings)
    {
        foreach (var virtualService in index.VirtualServices)
        {
            var reported = new HashSet<(string, string)>();
            foreach (var route in virtualService.Destinations)
            {
                if (!route.AppliesToMesh || route.Destination.Host is not { Length: > 0 } written)
                {
                    continue;
                }

                var target = AnalysisIndex.Fqdn(written, virtualService.Namespace);
                if (index.FindHost(target)?.Service is not { } service)
                {
                    continue;
                }

                if (!index.IsGatewayService(service))
                {
                    continue;
                }

                var fronting = index.GatewaysFronting(service);
                var deployed = index.DeployedGatewayOf(service);
                var port = route.Destination.Port?.Number ?? (route.Ports.Count == 1 ? route.Ports[0] : (long?)null);
                foreach (var host in route.Hosts)
                {
                    if (host == "*" || !reported.Add((host, target)) || HasSecondHop(index, fronting, host, port)
                        || (deployed is not null && HasAttachedRoute(index, deployed, host, port)))
                    {
                        continue;
                    }

                    if (fronting.Count == 0 && deployed is not null)
                    {
                        findings.Add(new Finding(Codes.EgressGatewayRouteMissing, virtualService.Resource.Key, route.Field,
                            $"Host \"{host}\" is sent to the egress gateway {target} ({route.Field}), but no HTTPRoute or TLSRoute attached to Gateway {deployed.Reference} "
                            + $"routes \"{host}\"{(port is null ? "" : $" on port {port}")}: the gateway answers 404 (NR) for HTTP and closes TLS connections, so the traffic never leaves the mesh",
                            $"attach a route for \"{host}\" to the gateway (an HTTPRoute, or a TLSRoute for TLS passed through, with parentRefs: [{{name: {deployed.Resource.Name}}}], "
                            + $"hostnames: [{host}] and a backendRef to the host, e.g. kind: Hostname, group: networking.istio.io)"));
                        continue;
                    }

                    var gateways = fronting.Count == 0
                        ? $"no Gateway selects its workload ({AnalysisIndex.FormatSelector(service.Selector)})"
                        : $"no VirtualService bound to {(fronting.Count == 1 ? "Gateway " : "Gateways ")}{string.Join(", ", fronting.Select(g => g.Reference))} routes \"{host}\"{(port is null ? "" : $" on port {port}")}";
                    findings.Add(new Finding(Codes.EgressGatewayRouteMissing, virtualService.Resource.Key, route.Field,
                        $"Host \"{host}\" is sent to the egress gateway {target} ({route.Field}), but {gateways}: the gateway answers 404 (NR) for HTTP "
                        + "and closes TLS connections, so the traffic never leaves the mesh",
                        fronting.Count == 0
                            ? $"create a Gateway whose spec.selector matches the labels of {target}'s workload, with a server for \"{host}\", and a route bound to it"
                            : $"add a route for \"{host}\" bound to the gateway (e.g. a route with match gateways: [{Short(fronting[0].Reference, virtualService.Namespace)}]"
                              + $"{(port is null ? "" : $" and port: {port}")} and destination host: {host}), in this VirtualService or another"));
                }
            }
        }
    }

    /// <summary>Whether any VirtualService has a route applying to one of <paramref name="gateways"/> for <paramref name="host"/> on the port.</summary>
    private static bool HasSecondHop(AnalysisIndex index, IReadOnlyList<GatewayView> gateways, string host, long? port)
    {
        foreach (var other in index.VirtualServices)
        {
            foreach (var route in other.Destinations)
            {
                if (!route.Gateways.Any(g => gateways.Any(f => f.Reference == g)))
                {
                    continue;
                }

                if (port is { } p && route.Ports.Count > 0 && !route.Ports.Contains(p))
                {
                    continue;
                }

                if (route.Hosts.Any(h => HostMatch.Covers(h, host) || HostMatch.Covers(host, h)))
                {
                    return true;
                }
            }
        }

        return false;
    }

    /// <summary>
    /// Whether an HTTPRoute or TLSRoute attached to <paramref name="gateway"/> (on a listener of the port, when known) serves
    /// <paramref name="host"/>: one of its hostnames, or the listener's hostname when the route has none, covers it.
    /// </summary>
    private static bool HasAttachedRoute(AnalysisIndex index, GatewayApiGatewayView gateway, string host, long? port)
    {
        foreach (var route in index.GatewayApiRoutes)
        {
            foreach (var parent in route.ParentRefs)
            {
                if (route.GatewayReference(parent) != gateway.Reference)
                {
                    continue;
                }

                foreach (var listener in gateway.AttachedListeners(parent, route.Namespace))
                {
                    if (port is { } p && listener.Port != p)
                    {
                        continue;
                    }

                    var hosts = route.Hostnames.Count > 0 ? route.Hostnames : [listener.Hostname ?? "*"];
                    if (hosts.Any(h => HostMatch.Covers(h, host) || HostMatch.Covers(host, h)))
                    {
                        return true;
                    }
                }
            }
        }

        return false;
    }

    private static string Short(string reference, string ns) =>
        reference.StartsWith(ns + "/", StringComparison.Ordinal) ? reference[(ns.Length + 1)..] : reference;
}

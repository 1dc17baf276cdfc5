using Meshgate.Core.Hosts;

namespace Meshgate.Core.Analysis;

/// <summary>
/// The two hops of an egress gateway: when sidecars send a host to a gateway's Service (hop 1), some route bound to a
/// Gateway on that workload must take the host further (hop 2); without it the gateway answers 404 (NR) (MG0008).
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

                var fronting = index.GatewaysFronting(service);
                var isGateway = fronting.Count > 0
                    || index.PodsSelectedBy(service.Selector).Any(p => p.Role == "gateway");
                if (!isGateway)
                {
                    continue;
                }

                var port = route.Destination.Port?.Number ?? (route.Ports.Count == 1 ? route.Ports[0] : (long?)null);
                foreach (var host in route.Hosts)
                {
                    if (host == "*" || !reported.Add((host, target)) || HasSecondHop(index, fronting, host, port))
                    {
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

    private static string Short(string reference, string ns) =>
        reference.StartsWith(ns + "/", StringComparison.Ordinal) ? reference[(ns.Length + 1)..] : reference;
}

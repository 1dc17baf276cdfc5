using Meshgate.Core.Translation;

namespace Meshgate.Core.Analysis;

/// <summary>
/// Hosts against the registry (ServiceEntries and Services): route destinations that name an unknown host or port
/// (MG0007), and mesh VirtualService hosts with no registry entry, whose rules sidecars never apply (MG0009 under
/// ALLOW_ANY: the traffic bypasses them; MG0010 under REGISTRY_ONLY: it is blocked).
/// </summary>
internal sealed class DestinationHostAnalyzer : IAnalyzer
{
    public void Analyze(AnalysisIndex index, List<Finding> findings)
    {
        foreach (var virtualService in index.VirtualServices)
        {
            CheckDestinations(index, virtualService, findings);
            CheckHosts(index, virtualService, findings);
        }
    }

    private static void CheckDestinations(AnalysisIndex index, VirtualServiceView virtualService, List<Finding> findings)
    {
        var reported = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var route in virtualService.Destinations)
        {
            if (route.Destination.Host is not { Length: > 0 } written || written.StartsWith('*'))
            {
                continue;
            }

            var host = AnalysisIndex.Fqdn(written, virtualService.Namespace);
            var entry = index.FindHost(host);
            if (entry is null)
            {
                if (reported.Add(host))
                {
                    findings.Add(new Finding(Codes.ReferencedHostNotFound, virtualService.Resource.Key, route.Field + ".host",
                        $"Referenced host not found: \"{written}\" ({route.Field}.host): no ServiceEntry or Service declares {host}, so the route has no cluster (503 NC)",
                        host.EndsWith($".svc.{AnalysisIndex.ClusterDomain}", StringComparison.OrdinalIgnoreCase)
                            ? $"create the Service, or correct the host (a name without a dot means a Service in {virtualService.Namespace})"
                            : $"create a ServiceEntry for \"{host}\" with its ports and resolution: DNS, or correct the host"));
                }

                continue;
            }

            if (route.Destination.Port?.Number is { } port && entry.Ports.Count > 0 && !entry.Ports.Contains(port) && reported.Add($"{host}:{port}"))
            {
                var kind = entry.IsServiceEntry ? "ServiceEntry" : "Service";
                findings.Add(new Finding(Codes.ReferencedHostNotFound, virtualService.Resource.Key, route.Field + ".port.number",
                    $"Referenced host:port not found: \"{written}:{port}\" ({route.Field}.port.number): {kind} {entry.Resource.Namespace}/{entry.Resource.Name} "
                    + $"declares ports {string.Join(", ", entry.Ports)}, so the route has no cluster (503 NC)",
                    $"add port {port} to {kind} {entry.Resource.Namespace}/{entry.Resource.Name} (spec.ports), or route to one of its ports"));
            }
        }
    }

    /// <summary>
    /// Sidecars route a VirtualService host the registry does not know (Istio's virtual-service hosts) only on ports some
    /// ServiceEntry or Service declares, since listeners exist only for those; a route on any other port never applies.
    /// </summary>
    private static void CheckHosts(AnalysisIndex index, VirtualServiceView virtualService, List<Finding> findings)
    {
        var blocked = index.Mesh.OutboundTrafficPolicy == OutboundTrafficPolicyMode.RegistryOnly;
        var declared = index.ServiceEntries.SelectMany(e => e.Ports).Concat(index.Services.SelectMany(s => s.Ports.Select(p => p.Port))).ToHashSet();
        var reported = new HashSet<(string, long)>();
        foreach (var route in virtualService.Destinations)
        {
            if (!route.AppliesToMesh || route.PortField is null)
            {
                continue;
            }

            foreach (var port in route.Ports)
            {
                if (declared.Contains(port))
                {
                    continue;
                }

                foreach (var written in route.Hosts)
                {
                    var host = AnalysisIndex.Fqdn(written, virtualService.Namespace);
                    if (written == "*" || index.FindHost(host) is not null || !reported.Add((host, port)))
                    {
                        continue;
                    }

                    var what = $"Host \"{written}\" has no ServiceEntry or Service, and no ServiceEntry or Service declares port {port} ({route.PortField}): sidecars have no listener for that port, so ";
                    var fix = $"create a ServiceEntry for \"{host}\" with port {port}";
                    findings.Add(blocked
                        ? new Finding(Codes.VirtualServiceHostBlocked, virtualService.Resource.Key, route.PortField,
                            what + "this route never applies and outboundTrafficPolicy REGISTRY_ONLY blocks the traffic (BlackHoleCluster: the connection is closed)", fix)
                        : new Finding(Codes.VirtualServiceHostNotInRegistry, virtualService.Resource.Key, route.PortField,
                            what + "this route never applies and the traffic leaves directly through PassthroughCluster (bypassing any egress gateway)", fix));
                }
            }
        }
    }
}

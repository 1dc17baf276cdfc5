using Meshgate.Core.Hosts;
using Meshgate.Core.Resources.Istio;
using Meshgate.Core.Translation;

namespace Meshgate.Core.Analysis;

/// <summary>
/// Gateways and the routes bound to them: references that resolve (MG0002), selectors that pick a workload (MG0005),
/// and hosts the gateway's servers accept on the route's port (MG0006).
/// </summary>
internal sealed class GatewayAnalyzer : IAnalyzer
{
    public void Analyze(AnalysisIndex index, List<Finding> findings)
    {
        foreach (var gateway in index.Gateways.Values)
        {
            CheckSelector(index, gateway, findings);
        }

        foreach (var virtualService in index.VirtualServices)
        {
            CheckReferences(index, virtualService, findings);
            CheckServerHosts(index, virtualService, findings);
        }
    }

    private static void CheckSelector(AnalysisIndex index, GatewayView gateway, List<Finding> findings)
    {
        // The pods deployed for a Gateway API Gateway of class istio count before they connect, as its Service does.
        if (gateway.Selector.Count == 0 || index.PodsSelectedBy(gateway.Selector).Any()
            || index.GatewayApiGateways.Values.Any(g => g.IsIstioClass && gateway.Selects(g.DeployedPodLabels)))
        {
            return;
        }

        var selector = AnalysisIndex.FormatSelector(gateway.Selector);
        findings.Add(new Finding(Codes.GatewaySelectsNoWorkload, gateway.Resource.Key, "spec.selector",
            $"Referenced selector not found: \"{selector}\" (spec.selector): no gateway workload has these labels, so no proxy serves this Gateway's servers",
            $"start the gateway proxy ('meshgate up' runs istio-egressgateway in istio-system with labels istio=egressgateway,app=istio-egressgateway), "
            + "or set spec.selector to the labels of a running gateway ('meshgate get pods -A --show-labels')"));
    }

    private static void CheckReferences(AnalysisIndex index, VirtualServiceView virtualService, List<Finding> findings)
    {
        var references = new List<(string Reference, string Field)>();
        for (var i = 0; i < (virtualService.Spec.Gateways?.Count ?? 0); i++)
        {
            references.Add((virtualService.Spec.Gateways![i], $"spec.gateways[{i}]"));
        }

        AddMatchReferences(virtualService.Spec.Http?.Select(r => r.Match?.Select(m => m.Gateways).ToList()).ToList(), "http", references);
        AddMatchReferences(virtualService.Spec.Tls?.Select(r => r.Match?.Select(m => m.Gateways).ToList()).ToList(), "tls", references);
        AddMatchReferences(virtualService.Spec.Tcp?.Select(r => r.Match?.Select(m => m.Gateways).ToList()).ToList(), "tcp", references);

        var reported = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (reference, field) in references)
        {
            var normalized = virtualService.Normalize(reference);
            if (normalized == VirtualServiceView.Mesh || index.Gateways.ContainsKey(normalized) || !reported.Add(normalized))
            {
                continue;
            }

            var name = normalized[(normalized.IndexOf('/') + 1)..];
            if (index.GatewayApiGateways.TryGetValue(normalized, out var gatewayApi))
            {
                // Istio binds a VirtualService only to Istio Gateways (networking.istio.io), and so does the translation: a
                // Gateway API Gateway of the same name does not count (istio/istio#46662 asked for it; PR #47101 was closed).
                findings.Add(new Finding(Codes.ReferencedGatewayNotFound, virtualService.Resource.Key, field,
                    $"Referenced gateway not found: \"{reference}\" ({field}): no Istio Gateway {normalized}; Gateway API Gateway {normalized} exists, "
                    + "but a VirtualService binds only to Istio Gateways (networking.istio.io), so the routes bound to it are not applied anywhere",
                    $"attach an HTTPRoute or TLSRoute to it instead (spec.parentRefs: [{{name: {name}{(gatewayApi.Resource.Namespace == virtualService.Namespace ? "" : $", namespace: {gatewayApi.Resource.Namespace}")}}}]), "
                    + $"or create an Istio Gateway {normalized} whose spec.selector is {GatewayApiLowering.GatewayNameLabel}: {name} (the pods deployed for the Gateway API Gateway)"));
                continue;
            }

            var elsewhere = index.Gateways.Values.Where(g => g.Resource.Name == name).Select(g => g.Reference).ToList();
            var fix = elsewhere.Count > 0
                ? $"the Gateway is in another namespace: write \"{elsewhere[0]}\" (a name without \"namespace/\" means the VirtualService's namespace, {virtualService.Namespace})"
                : $"create Gateway {normalized}, or correct {field} (a name without \"namespace/\" means the VirtualService's namespace, {virtualService.Namespace})";
            findings.Add(new Finding(Codes.ReferencedGatewayNotFound, virtualService.Resource.Key, field,
                $"Referenced gateway not found: \"{reference}\" ({field}): no Gateway {normalized}, so the routes bound to it are not applied anywhere",
                fix));
        }
    }

    private static void AddMatchReferences(List<List<List<string>?>?>? routes, string list, List<(string, string)> references)
    {
        for (var i = 0; i < (routes?.Count ?? 0); i++)
        {
            for (var j = 0; j < (routes![i]?.Count ?? 0); j++)
            {
                var gateways = routes[i]![j];
                for (var k = 0; k < (gateways?.Count ?? 0); k++)
                {
                    references.Add((gateways![k], $"spec.{list}[{i}].match[{j}].gateways[{k}]"));
                }
            }
        }
    }

    /// <summary>
    /// A host routed through a gateway must be in the hosts of one of that gateway's servers on the port the route
    /// matches (Istio IST0132, refined per port): otherwise the gateway has no virtual host or filter chain for it.
    /// </summary>
    private static void CheckServerHosts(AnalysisIndex index, VirtualServiceView virtualService, List<Finding> findings)
    {
        var reported = new HashSet<(string, string, long)>();
        foreach (var route in virtualService.Destinations)
        {
            foreach (var reference in route.Gateways)
            {
                if (!index.Gateways.TryGetValue(reference, out var gateway))
                {
                    continue;
                }

                var servers = gateway.Spec.Servers ?? [];
                var ports = route.Ports.Count > 0 ? route.Ports : [0L];
                foreach (var port in ports)
                {
                    var onPort = port == 0 ? servers : servers.Where(s => s.Port?.Number == port).ToList();
                    foreach (var host in route.Hosts)
                    {
                        if (onPort.Any(s => Lists(s, host, virtualService.Namespace, gateway.Resource.Namespace)) || !reported.Add((gateway.Reference, host, port)))
                        {
                            continue;
                        }

                        var where = port == 0 ? "" : $" on port {port} ({route.PortField})";
                        var field = port == 0 ? "spec.hosts" : route.PortField ?? "spec.hosts";
                        string message;
                        string fix;
                        if (onPort.Count == 0)
                        {
                            var served = string.Join(", ", servers.Select(s => s.Port?.Number).Distinct());
                            message = $"Host \"{host}\" is routed through Gateway {gateway.Reference}{where}, but that Gateway has no server on port {port} (its ports: {served}): the gateway drops this traffic";
                            fix = $"add a server for port {port} with host \"{host}\" to Gateway {gateway.Reference} (spec.servers), or match a port the Gateway serves";
                        }
                        else
                        {
                            var listed = string.Join(", ", onPort.SelectMany(s => s.Hosts ?? []).Distinct().Select(h => $"\"{h}\""));
                            message = $"Host \"{host}\" is routed through Gateway {gateway.Reference}{where}, but no server of that Gateway{(port == 0 ? "" : $" on port {port}")} lists it in hosts ({listed}): "
                                + "the gateway has no route for it (404 NR for HTTP, a closed connection for TLS)";
                            fix = $"add \"{host}\" to spec.servers[].hosts of Gateway {gateway.Reference}{(port == 0 ? "" : $" for port {port}")}, or correct the VirtualService's hosts";
                        }

                        findings.Add(new Finding(Codes.HostNotInGatewayServer, virtualService.Resource.Key, field, message, fix));
                    }
                }
            }
        }
    }

    /// <summary>Server hosts are <c>[namespace/]host</c>: <c>*/</c> any namespace, <c>./</c> the Gateway's, else that namespace.</summary>
    private static bool Lists(Server server, string host, string virtualServiceNamespace, string gatewayNamespace)
    {
        foreach (var entry in server.Hosts ?? [])
        {
            var slash = entry.IndexOf('/');
            var ns = slash < 0 ? "*" : entry[..slash];
            var pattern = slash < 0 ? entry : entry[(slash + 1)..];
            var nsAllowed = ns == "*" || ns == virtualServiceNamespace || (ns == "." && gatewayNamespace == virtualServiceNamespace);
            if (nsAllowed && (HostMatch.Covers(pattern, host) || HostMatch.Covers(host, pattern)))
            {
                return true;
            }
        }

        return false;
    }
}

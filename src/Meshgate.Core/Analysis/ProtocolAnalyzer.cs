using Meshgate.Core.Hosts;
using Meshgate.Core.Resources.Istio;

namespace Meshgate.Core.Analysis;

/// <summary>
/// Ports and protocols: a route in the wrong list for its port (MG0012: an HTTPS route written under <c>http:</c>,
/// istio/istio#32755), and a Gateway server port the Service in front of its workload does not declare (MG0013, IST0162).
/// </summary>
internal sealed class ProtocolAnalyzer : IAnalyzer
{
    public void Analyze(AnalysisIndex index, List<Finding> findings)
    {
        foreach (var virtualService in index.VirtualServices)
        {
            CheckRouteKinds(index, virtualService, findings);
        }

        foreach (var gateway in index.Gateways.Values)
        {
            CheckServicePorts(index, gateway, findings);
        }
    }

    private static void CheckRouteKinds(AnalysisIndex index, VirtualServiceView virtualService, List<Finding> findings)
    {
        var reported = new HashSet<(string, string, long)>();
        foreach (var route in virtualService.Destinations)
        {
            if (route.Kind == RouteKind.Tcp || route.PortField is null)
            {
                continue;
            }

            var list = route.Kind == RouteKind.Http ? "http" : "tls";
            var wanted = PortKinds.Of(route.Kind);
            foreach (var port in route.Ports)
            {
                foreach (var host in route.Hosts)
                {
                    if (route.AppliesToMesh && index.FindHost(AnalysisIndex.Fqdn(host, virtualService.Namespace)) is { } entry)
                    {
                        var kind = index.PortKindOf(entry, port);
                        if (kind is PortKind.Http or PortKind.Tls && kind != wanted && reported.Add(("mesh", host, port)))
                        {
                            var owner = $"{(entry.IsServiceEntry ? "ServiceEntry" : "Service")} {entry.Resource.Namespace}/{entry.Resource.Name}";
                            findings.Add(new Finding(Codes.RouteProtocolMismatch, virtualService.Resource.Key, route.PortField,
                                $"An {list} route for \"{host}\" on port {port} ({route.PortField}), but {owner} declares port {port} as {Describe(kind)}: "
                                + $"sidecars route {Handles(kind)}, so this route never applies",
                                Move(kind, host, $"or declare port {port} as {(kind == PortKind.Tls ? "HTTP" : "TLS")} in {owner} if that is what the traffic is")));
                        }
                    }

                    foreach (var reference in route.Gateways)
                    {
                        if (!index.Gateways.TryGetValue(reference, out var gateway))
                        {
                            continue;
                        }

                        var servers = (gateway.Spec.Servers ?? [])
                            .Where(s => s.Port?.Number == port && (s.Hosts ?? []).Any(h => Covers(h, host)))
                            .ToList();
                        var kinds = servers.Select(PortKinds.FromServer).Distinct().ToList();
                        if (kinds.Count != 1 || kinds[0] is not (PortKind.Http or PortKind.Tls) || kinds[0] == wanted || !reported.Add((reference, host, port)))
                        {
                            continue;
                        }

                        var server = servers[0];
                        var mode = server.Tls?.Mode is { } m ? $" with tls.mode {ModeName(m)}" : "";
                        findings.Add(new Finding(Codes.RouteProtocolMismatch, virtualService.Resource.Key, route.PortField,
                            $"An {list} route for \"{host}\" on port {port} ({route.PortField}), but Gateway {reference} serves port {port} as {server.Port?.Protocol}{mode}: "
                            + $"the gateway routes {Handles(kinds[0])}, so this route never applies",
                            Move(kinds[0], host, kinds[0] == PortKind.Tls ? "or terminate TLS on the server (tls.mode SIMPLE or ISTIO_MUTUAL)" : "or pass TLS through on the server (protocol TLS, tls.mode PASSTHROUGH)")));
                    }
                }
            }
        }
    }

    /// <summary>
    /// Clients reach a gateway through its Service: a server port that no Service in front of the workload declares, as
    /// port or targetPort, is one no sidecar route can reach (Istio's IST0162 GatewayPortNotDefinedOnService).
    /// </summary>
    private static void CheckServicePorts(AnalysisIndex index, GatewayView gateway, List<Finding> findings)
    {
        if (gateway.Selector.Count == 0)
        {
            return;
        }

        var pods = index.PodsSelectedBy(gateway.Selector).ToList();
        var services = index.Services
            .Where(s => s.Selector.Count > 0 && (pods.Count > 0 ? pods.Any(p => AnalysisIndex.Selects(s.Selector, p.Labels)) : gateway.Selects(s.Selector)))
            .ToList();
        if (services.Count == 0)
        {
            return;
        }

        var servers = gateway.Spec.Servers ?? [];
        for (var i = 0; i < servers.Count; i++)
        {
            if (servers[i].Port?.Number is not { } number || services.Any(s => s.Ports.Any(p => p.Port == number || p.TargetPort == number)))
            {
                continue;
            }

            var field = $"spec.servers[{i}].port.number";
            var declared = string.Join("; ", services.Select(s =>
                $"Service {s.Resource.Namespace}/{s.Resource.Name} has {string.Join(", ", s.Ports.Select(p => p.TargetPort is { } t && t != p.Port ? $"{p.Port}→{t}" : $"{p.Port}"))}"));
            findings.Add(new Finding(Codes.GatewayPortNotOnService, gateway.Resource.Key, field,
                $"Port {number} ({field}) is not declared by the Service in front of this Gateway's workload ({declared}): no sidecar can reach the server through the Service",
                $"add port {number} to the Service's spec.ports, or serve one of the ports it declares"));
        }
    }

    private static bool Covers(string serverHost, string host)
    {
        var slash = serverHost.IndexOf('/');
        var pattern = slash < 0 ? serverHost : serverHost[(slash + 1)..];
        return HostMatch.Covers(pattern, host) || HostMatch.Covers(host, pattern);
    }

    private static string Describe(PortKind kind) => kind == PortKind.Tls ? "TLS/HTTPS" : "HTTP";

    private static string Handles(PortKind kind) => kind == PortKind.Tls
        ? "that port by SNI without decrypting it (tls routes)"
        : "that port by HTTP Host (http routes)";

    private static string Move(PortKind kind, string host, string alternative) => kind == PortKind.Tls
        ? $"move the route under spec.tls with match sniHosts: [{host}], {alternative}"
        : $"move the route under spec.http, {alternative}";

    private static string ModeName(ServerTlsMode mode) => mode switch
    {
        ServerTlsMode.Passthrough => "PASSTHROUGH",
        ServerTlsMode.AutoPassthrough => "AUTO_PASSTHROUGH",
        ServerTlsMode.Simple => "SIMPLE",
        ServerTlsMode.Mutual => "MUTUAL",
        ServerTlsMode.IstioMutual => "ISTIO_MUTUAL",
        _ => "OPTIONAL_MUTUAL",
    };
}

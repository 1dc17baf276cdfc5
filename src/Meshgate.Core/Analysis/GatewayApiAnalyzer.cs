using Meshgate.Core.Resources;
using Meshgate.Core.Resources.GatewayApi;
using Meshgate.Core.Resources.Istio;
using Meshgate.Core.Translation;

namespace Meshgate.Core.Analysis;

/// <summary>
/// Gateway API routes (the seed's HTTPRoute and TLSRoute variants), checked from their spec alone, so a files-only
/// analysis finds the same: parents that exist and a listener that takes the route (MG0014), backends the registry
/// knows, on ports it declares (MG0007), and a <c>Hostname</c> backend behind a Gateway whose ServiceEntry has
/// resolution NONE (MG0001).
/// </summary>
internal sealed class GatewayApiAnalyzer : IAnalyzer
{
    private const string IstioGroup = ResourceTypes.IstioNetworking;
    private const string GatewayGroup = ResourceTypes.GatewayApiGroup;

    public void Analyze(AnalysisIndex index, List<Finding> findings)
    {
        foreach (var route in index.GatewayApiRoutes)
        {
            var gatewayParent = CheckParents(index, route, findings);
            CheckBackends(index, route, gatewayParent, findings);
        }
    }

    /// <summary>Reports parents that do not exist or take no listener; returns the first Gateway parent, if any.</summary>
    private static string? CheckParents(AnalysisIndex index, GatewayApiRouteView route, List<Finding> findings)
    {
        string? gatewayParent = null;
        for (var i = 0; i < route.ParentRefs.Count; i++)
        {
            var parent = route.ParentRefs[i];
            var group = parent.Group ?? GatewayGroup;
            var kind = parent.Kind ?? "Gateway";
            var ns = parent.Namespace ?? route.Namespace;
            var type = (group, kind) switch
            {
                (GatewayGroup, "Gateway") => ResourceTypes.KubernetesGateway,
                (IstioGroup, "ServiceEntry") => ResourceTypes.ServiceEntry,
                ("" or "core", "Service") => ResourceTypes.Service,
                _ => null,
            };
            if (type is null || parent.Name is null)
            {
                continue;
            }

            var field = $"spec.parentRefs[{i}]";
            if (type == ResourceTypes.KubernetesGateway)
            {
                gatewayParent ??= $"{ns}/{parent.Name}";
                if (index.GatewayApiGateways.TryGetValue($"{ns}/{parent.Name}", out var gateway))
                {
                    CheckListeners(route, parent, field, gateway, findings);
                    continue;
                }
            }
            else if (index.Resources.Get(new ObjectKey(type, ns, parent.Name)) is not null
                || (type == ResourceTypes.Service && index.FindService(ns, parent.Name) is not null))
            {
                continue;
            }

            findings.Add(new Finding(Codes.ReferencedParentNotFound, route.Resource.Key, field,
                $"Referenced parent not found: {kind} {ns}/{parent.Name} ({field}): the route is attached nowhere, so no proxy applies it",
                $"create {kind} {ns}/{parent.Name}, or correct {field} (its namespace defaults to the route's, {route.Namespace})"));
        }

        return gatewayParent;
    }

    /// <summary>
    /// A Gateway parent attaches the route to its listeners named by <c>sectionName</c> and <c>port</c> (all when
    /// neither is set) that admit the route's namespace and that Meshgate programs; with none, the route is attached
    /// nowhere, as when the Gateway is missing (its status would say Accepted False, NoMatchingParent or NotAllowedByListeners).
    /// </summary>
    private static void CheckListeners(GatewayApiRouteView route, ParentReference parent, string field, GatewayApiGatewayView gateway, List<Finding> findings)
    {
        if (gateway.AttachedListeners(parent, route.Namespace).Count > 0)
        {
            return;
        }

        var matching = gateway.ListenersFor(parent);
        var names = string.Join(", ", gateway.Listeners.Select(l => $"\"{l.Name}\""));
        string message;
        string fix;
        var at = field;
        if (matching.Count == 0)
        {
            var wanted = (parent.SectionName, parent.Port) switch
            {
                ({ } section, { } port) => $"named \"{section}\" on port {port}",
                ({ } section, null) => $"named \"{section}\"",
                (null, { } port) => $"on port {port}",
                _ => "",
            };
            at = parent.Port is null ? field + ".sectionName" : parent.SectionName is null ? field + ".port" : field;
            message = $"Referenced parent listener not found: Gateway {gateway.Reference} has no listener {wanted} ({at}; its listeners: "
                + $"{string.Join(", ", gateway.Listeners.Select(GatewayApiGatewayView.Describe))}): the route is attached nowhere, so no proxy applies it";
            fix = parent.Port is null
                ? $"set {at} to one of its listeners ({names}), or add a listener named \"{parent.SectionName}\" to Gateway {gateway.Reference}"
                : $"set {at} to a port Gateway {gateway.Reference} listens on ({string.Join(", ", gateway.Listeners.Select(l => l.Port).Distinct())}), or add the listener to it";
        }
        else if (matching.All(x => !gateway.Admits(x.Listener, route.Namespace)))
        {
            var listed = string.Join(", ", matching.Select(x => $"\"{x.Listener.Name}\" (allowedRoutes.namespaces.from: {x.Listener.AllowedRoutes?.Namespaces?.From ?? "Same"})"));
            message = $"Not attached to Gateway {gateway.Reference} ({field}): the listeners it names admit only routes in the Gateway's namespace, "
                + $"{gateway.Resource.Namespace}: {listed}; so the Gateway's proxy does not apply the route";
            fix = $"set spec.listeners[{matching[0].Index}].allowedRoutes.namespaces.from: All on Gateway {gateway.Reference}, or create the route in namespace {gateway.Resource.Namespace}";
        }
        else
        {
            var listed = string.Join(", ", matching.Select(x => GatewayApiGatewayView.Describe(x.Listener)));
            message = $"Not attached to Gateway {gateway.Reference} ({field}): the listeners it names are not programmed, since Meshgate does not implement their protocol: "
                + $"{listed}; so the Gateway's proxy does not apply the route";
            fix = $"attach the route to a listener with protocol {string.Join(", ", GatewayApiLowering.ImplementedProtocols)} (MG0019 on the Gateway names the listeners that are not programmed)";
        }

        findings.Add(new Finding(Codes.ReferencedParentNotFound, route.Resource.Key, at, message, fix));
    }

    private static void CheckBackends(AnalysisIndex index, GatewayApiRouteView route, string? gatewayParent, List<Finding> findings)
    {
        var reported = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (field, group, kind, backendNamespace, name, port) in route.Backends)
        {
            if (name is null)
            {
                continue;
            }

            if (group == IstioGroup && kind == "Hostname")
            {
                CheckHostname(index, route, field, name, port, gatewayParent, reported, findings);
                continue;
            }

            if ((group ?? "") is not ("" or "core") || (kind ?? "Service") != "Service")
            {
                continue;
            }

            var ns = backendNamespace ?? route.Namespace;
            if (index.FindService(ns, name) is { } service)
            {
                if (port is { } p && service.Ports.Count > 0 && service.Ports.All(s => s.Port != p) && reported.Add($"{ns}/{name}:{p}"))
                {
                    var ports = string.Join(", ", service.Ports.Select(s => s.Port));
                    findings.Add(new Finding(Codes.ReferencedHostNotFound, route.Resource.Key, field + ".port",
                        $"Referenced host:port not found: Service {ns}/{name} port {p} ({field}.port): the Service declares ports {ports}, so the route has no cluster (503 NC)",
                        index.DeployedGatewayOf(service) is { } deployed
                            ? $"use a port Gateway {deployed.Reference} listens on ({ports}), or add a listener on port {p} to it"
                            : $"add port {p} to Service {ns}/{name} (spec.ports), or use one of its ports"));
                }

                continue;
            }

            if (!reported.Add($"{ns}/{name}"))
            {
                continue;
            }

            findings.Add(new Finding(Codes.ReferencedHostNotFound, route.Resource.Key, field + ".name",
                $"Referenced host not found: Service {ns}/{name} ({field}.name): no such Service, so the route has no cluster (503 NC)",
                index.GatewayApiGateways.TryGetValue($"{ns}/{name}", out var gateway) && gateway.IsIstioClass
                    ? $"use \"{gateway.DeployedName}\": Gateway {ns}/{name} of class istio is deployed as Service {gateway.DeployedName}"
                    : $"create the Service, or correct {field} (its namespace defaults to the route's, {route.Namespace})"));
        }
    }

    private static void CheckHostname(
        AnalysisIndex index, GatewayApiRouteView route, string field, string name, long? port, string? gatewayParent, HashSet<string> reported, List<Finding> findings)
    {
        var entry = index.FindHost(name);
        if (entry is null)
        {
            if (reported.Add(name))
            {
                findings.Add(new Finding(Codes.ReferencedHostNotFound, route.Resource.Key, field + ".name",
                    $"Referenced host not found: \"{name}\" ({field}.name): no ServiceEntry declares it, so the route has no cluster (503 NC)",
                    $"create a ServiceEntry for \"{name}\" with its ports and resolution: DNS, or correct the name"));
            }

            return;
        }

        if (port is { } p && entry.IsServiceEntry && entry.Ports.Count > 0 && !entry.Ports.Contains(p) && reported.Add($"{name}:{p}"))
        {
            findings.Add(new Finding(Codes.ReferencedHostNotFound, route.Resource.Key, field + ".port",
                $"Referenced host:port not found: \"{name}:{p}\" ({field}.port): ServiceEntry {entry.Resource.Namespace}/{entry.Resource.Name} declares ports "
                + $"{string.Join(", ", entry.Ports)}, so the route has no cluster (503 NC)",
                $"add port {p} to ServiceEntry {entry.Resource.Namespace}/{entry.Resource.Name} (spec.ports), or use one of its ports"));
        }

        if (gatewayParent is not null && entry.IsServiceEntry && (entry.Resolution ?? ServiceEntryResolution.None) == ServiceEntryResolution.None && reported.Add("loop:" + name))
        {
            var resolution = entry.Resolution is null ? "resolution unset, which means NONE" : "resolution: NONE";
            findings.Add(new Finding(Codes.GatewayForwardsToOriginalDestination, entry.Resource.Key, "spec.resolution",
                $"Host \"{name}\" has {resolution} (spec.resolution), but {route.Kind} {route.Namespace}/{route.Resource.Name} "
                + $"routes it from Gateway {gatewayParent} ({field}): the gateway would forward each request to its original destination address, "
                + "which is the gateway's own, in a loop (503 UH)",
                "set spec.resolution: DNS so the gateway resolves the host itself (or STATIC with spec.endpoints)"));
        }
    }
}

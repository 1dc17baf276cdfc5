using Meshgate.Core.Resources;
using Meshgate.Core.Resources.GatewayApi;
using Meshgate.Core.Resources.Istio;

namespace Meshgate.Core.Analysis;

/// <summary>
/// Gateway API routes (the seed's HTTPRoute and TLSRoute variants): parents that exist (MG0014), backends the registry
/// knows (MG0007), and a <c>Hostname</c> backend behind a Gateway whose ServiceEntry has resolution NONE (MG0001).
/// </summary>
internal sealed class GatewayApiAnalyzer : IAnalyzer
{
    private const string IstioGroup = ResourceTypes.IstioNetworking;
    private const string GatewayGroup = ResourceTypes.GatewayApiGroup;

    public void Analyze(AnalysisIndex index, List<Finding> findings)
    {
        foreach (var route in index.Resources.List(ResourceTypes.HttpRoute))
        {
            var spec = route.Spec<HttpRouteSpec>() ?? new HttpRouteSpec();
            var backends = (spec.Rules ?? []).SelectMany((rule, i) => (rule.BackendRefs ?? []).Select((b, j) =>
                (Field: $"spec.rules[{i}].backendRefs[{j}]", b.Group, b.Kind, b.Namespace, b.Name, b.Port)));
            Check(index, route, spec.ParentRefs ?? [], backends.ToList(), findings);
        }

        foreach (var route in index.Resources.List(ResourceTypes.TlsRoute))
        {
            var spec = route.Spec<TlsRouteSpec>() ?? new TlsRouteSpec();
            var backends = (spec.Rules ?? []).SelectMany((rule, i) => (rule.BackendRefs ?? []).Select((b, j) =>
                (Field: $"spec.rules[{i}].backendRefs[{j}]", b.Group, b.Kind, b.Namespace, b.Name, b.Port)));
            Check(index, route, spec.ParentRefs ?? [], backends.ToList(), findings);
        }
    }

    private static void Check(
        AnalysisIndex index,
        Resource route,
        List<ParentReference> parents,
        List<(string Field, string? Group, string? Kind, string? Namespace, string? Name, long? Port)> backends,
        List<Finding> findings)
    {
        string? gatewayParent = null;
        for (var i = 0; i < parents.Count; i++)
        {
            var parent = parents[i];
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

            if (type == ResourceTypes.KubernetesGateway)
            {
                gatewayParent ??= $"{ns}/{parent.Name}";
            }

            if (index.Resources.Get(new ObjectKey(type, ns, parent.Name)) is not null)
            {
                continue;
            }

            var field = $"spec.parentRefs[{i}]";
            findings.Add(new Finding(Codes.ReferencedParentNotFound, route.Key, field,
                $"Referenced parent not found: {kind} {ns}/{parent.Name} ({field}): the route is attached nowhere, so no proxy applies it",
                $"create {kind} {ns}/{parent.Name}, or correct {field} (its namespace defaults to the route's, {route.Namespace})"));
        }

        var reported = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (field, group, kind, backendNamespace, name, port) in backends)
        {
            if (name is null)
            {
                continue;
            }

            if (group == IstioGroup && kind == "Hostname")
            {
                var entry = index.FindHost(name);
                if (entry is null)
                {
                    if (reported.Add(name))
                    {
                        findings.Add(new Finding(Codes.ReferencedHostNotFound, route.Key, field + ".name",
                            $"Referenced host not found: \"{name}\" ({field}.name): no ServiceEntry declares it, so the route has no cluster (503 NC)",
                            $"create a ServiceEntry for \"{name}\" with its ports and resolution: DNS, or correct the name"));
                    }
                }
                else if (gatewayParent is not null && entry.IsServiceEntry && (entry.Resolution ?? ServiceEntryResolution.None) == ServiceEntryResolution.None && reported.Add("loop:" + name))
                {
                    var resolution = entry.Resolution is null ? "resolution unset, which means NONE" : "resolution: NONE";
                    findings.Add(new Finding(Codes.GatewayForwardsToOriginalDestination, entry.Resource.Key, "spec.resolution",
                        $"Host \"{name}\" has {resolution} (spec.resolution), but {route.Type.Kind} {route.Namespace}/{route.Name} "
                        + $"routes it from Gateway {gatewayParent} ({field}): the gateway would forward each request to its original destination address, "
                        + "which is the gateway's own, in a loop (503 UH)",
                        "set spec.resolution: DNS so the gateway resolves the host itself (or STATIC with spec.endpoints)"));
                }

                continue;
            }

            if ((group ?? "") is "" or "core" && (kind ?? "Service") == "Service")
            {
                var ns = backendNamespace ?? route.Namespace;
                if (index.Resources.Get(new ObjectKey(ResourceTypes.Service, ns, name)) is not null || IsDeployedGatewayService(index, ns, name) || !reported.Add($"{ns}/{name}"))
                {
                    continue;
                }

                findings.Add(new Finding(Codes.ReferencedHostNotFound, route.Key, field + ".name",
                    $"Referenced host not found: Service {ns}/{name} ({field}.name): no such Service, so the route has no cluster (503 NC)",
                    IsDeployedGatewayService(index, ns, name + "-istio")
                        ? $"use \"{name}-istio\": Gateway {ns}/{name} of class istio is deployed as Service {name}-istio"
                        : $"create the Service, or correct {field} (its namespace defaults to the route's, {route.Namespace})"));
            }
        }
    }

    /// <summary>A Gateway API Gateway of class <c>istio</c> is deployed with a Service <c>&lt;name&gt;-istio</c> (Istio's automated deployment).</summary>
    private static bool IsDeployedGatewayService(AnalysisIndex index, string ns, string name) =>
        name.EndsWith("-istio", StringComparison.Ordinal)
        && index.Resources.Get(new ObjectKey(ResourceTypes.KubernetesGateway, ns, name[..^"-istio".Length])) is { } gateway
        && gateway.Spec<GatewayApiGatewaySpec>()?.GatewayClassName == "istio";
}

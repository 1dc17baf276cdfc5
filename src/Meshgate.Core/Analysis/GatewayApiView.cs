using System.Text.Json.Nodes;

using Meshgate.Core.Resources;
using Meshgate.Core.Resources.GatewayApi;
using Meshgate.Core.Translation;

namespace Meshgate.Core.Analysis;

/// <summary>A Gateway API Gateway with its listeners and the conditions the control plane wrote on it.</summary>
internal sealed record GatewayApiGatewayView(Resource Resource, GatewayApiGatewaySpec Spec)
{
    /// <summary>The class Istio (and Meshgate) deploys automatically, as ServiceAccount, Service and Deployment <c>&lt;name&gt;-istio</c>.</summary>
    public const string IstioClass = "istio";

    public string Reference => $"{Resource.Namespace}/{Resource.Name}";

    public IReadOnlyList<Listener> Listeners { get; } = Spec.Listeners ?? [];

    public bool IsIstioClass => Spec.GatewayClassName == IstioClass;

    /// <summary>The name of the Service (and Deployment) deployed for a Gateway of class <c>istio</c>.</summary>
    public string DeployedName => Resource.Name + "-istio";

    /// <summary>
    /// The labels of the pods deployed for a Gateway of class istio: <c>spec.infrastructure.labels</c>, and the Gateway's
    /// name under Gateway API's and Istio's keys.
    /// </summary>
    public IReadOnlyDictionary<string, string> DeployedPodLabels { get; } = new Dictionary<string, string>(Spec.Infrastructure?.Labels ?? [], StringComparer.Ordinal)
    {
        [GatewayApiLowering.GatewayNameLabel] = Resource.Name,
        ["istio.io/gateway-name"] = Resource.Name,
    };

    /// <summary><c>status.conditions</c> (Accepted, Programmed); empty when the control plane wrote none.</summary>
    public IReadOnlyList<ConditionView> Conditions { get; } =
        ConditionView.Read((Resource.Json["status"] as JsonObject)?["conditions"]);

    /// <summary>The listeners a parentRef names: all of them, or those with its <c>sectionName</c> and <c>port</c>.</summary>
    public IReadOnlyList<(int Index, Listener Listener)> ListenersFor(ParentReference parent) =>
        Listeners.Select((l, i) => (i, l))
            .Where(x => (parent.SectionName is null || parent.SectionName == x.l.Name) && (parent.Port is null || parent.Port == x.l.Port))
            .ToList();

    /// <summary>
    /// <c>allowedRoutes.namespaces.from</c> as the translation applies it: All admits any namespace, Same (the default)
    /// only the Gateway's; Selector is not evaluated, so it admits only the Gateway's namespace too.
    /// </summary>
    public bool Admits(Listener listener, string routeNamespace) =>
        (listener.AllowedRoutes?.Namespaces?.From ?? "Same") == "All" || routeNamespace == Resource.Namespace;

    /// <summary>The listeners a route attaches to through <paramref name="parent"/>: named by it, admitting its namespace, programmed.</summary>
    public IReadOnlyList<Listener> AttachedListeners(ParentReference parent, string routeNamespace) =>
        ListenersFor(parent).Select(x => x.Listener)
            .Where(l => Admits(l, routeNamespace) && GatewayApiLowering.Implements(l.Protocol))
            .ToList();

    public static string Describe(Listener listener) => $"\"{listener.Name}\" (port {listener.Port}, {listener.Protocol})";
}

/// <summary>One backendRef of a route rule, with its path (<c>spec.rules[i].backendRefs[j]</c>).</summary>
internal sealed record RouteBackend(string Field, string? Group, string? Kind, string? Namespace, string? Name, long? Port);

/// <summary>One entry of a route's <c>status.parents</c>: the parent it is about and its conditions (Accepted, ResolvedRefs).</summary>
internal sealed record RouteParentStatus(int Index, string Kind, string Namespace, string Name, IReadOnlyList<ConditionView> Conditions);

/// <summary>An HTTPRoute, TLSRoute or TCPRoute as the analyzers read it: parents, hostnames, backends and the status written on it.</summary>
internal sealed record GatewayApiRouteView(
    Resource Resource,
    IReadOnlyList<ParentReference> ParentRefs,
    IReadOnlyList<string> Hostnames,
    IReadOnlyList<RouteBackend> Backends,
    IReadOnlyList<RouteParentStatus> ParentStatuses)
{
    public string Kind => Resource.Type.Kind;

    public string Namespace => Resource.Namespace;

    public static GatewayApiRouteView FromHttpRoute(Resource resource)
    {
        var spec = resource.Spec<HttpRouteSpec>() ?? new HttpRouteSpec();
        var backends = (spec.Rules ?? []).SelectMany((rule, i) => (rule.BackendRefs ?? []).Select((b, j) =>
            new RouteBackend($"spec.rules[{i}].backendRefs[{j}]", b.Group, b.Kind, b.Namespace, b.Name, b.Port)));
        return new GatewayApiRouteView(resource, spec.ParentRefs ?? [], spec.Hostnames ?? [], backends.ToList(), ReadParents(resource));
    }

    public static GatewayApiRouteView FromTlsRoute(Resource resource)
    {
        var spec = resource.Spec<TlsRouteSpec>() ?? new TlsRouteSpec();
        var backends = (spec.Rules ?? []).SelectMany((rule, i) => (rule.BackendRefs ?? []).Select((b, j) =>
            new RouteBackend($"spec.rules[{i}].backendRefs[{j}]", b.Group, b.Kind, b.Namespace, b.Name, b.Port)));
        return new GatewayApiRouteView(resource, spec.ParentRefs ?? [], spec.Hostnames ?? [], backends.ToList(), ReadParents(resource));
    }

    /// <summary>A TCPRoute: no hostnames, so it serves every host on the listener it attaches to.</summary>
    public static GatewayApiRouteView FromTcpRoute(Resource resource)
    {
        var spec = resource.Spec<TcpRouteSpec>() ?? new TcpRouteSpec();
        var backends = (spec.Rules ?? []).SelectMany((rule, i) => (rule.BackendRefs ?? []).Select((b, j) =>
            new RouteBackend($"spec.rules[{i}].backendRefs[{j}]", b.Group, b.Kind, b.Namespace, b.Name, b.Port)));
        return new GatewayApiRouteView(resource, spec.ParentRefs ?? [], [], backends.ToList(), ReadParents(resource));
    }

    /// <summary>The namespace/name of a parentRef that is a Gateway API Gateway, or null for other parents.</summary>
    public string? GatewayReference(ParentReference parent) =>
        (parent.Group ?? ResourceTypes.GatewayApiGroup) == ResourceTypes.GatewayApiGroup && (parent.Kind ?? "Gateway") == "Gateway" && parent.Name is { } name
            ? $"{parent.Namespace ?? Namespace}/{name}"
            : null;

    private static List<RouteParentStatus> ReadParents(Resource resource)
    {
        var result = new List<RouteParentStatus>();
        if ((resource.Json["status"] as JsonObject)?["parents"] is not JsonArray parents)
        {
            return result;
        }

        for (var i = 0; i < parents.Count; i++)
        {
            if (parents[i] is not JsonObject parent)
            {
                continue;
            }

            var reference = parent["parentRef"] as JsonObject;
            result.Add(new RouteParentStatus(
                i,
                Text(reference?["kind"]) ?? "Gateway",
                Text(reference?["namespace"]) ?? resource.Namespace,
                Text(reference?["name"]) ?? "",
                ConditionView.Read(parent["conditions"])));
        }

        return result;
    }

    private static string? Text(JsonNode? node) => node is JsonValue value && value.TryGetValue<string>(out var s) ? s : null;
}

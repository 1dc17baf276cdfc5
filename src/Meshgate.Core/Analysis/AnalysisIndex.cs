using System.Text.Json.Nodes;

using k8s.Models;

using Meshgate.Core.Hosts;
using Meshgate.Core.Resources;
using Meshgate.Core.Resources.GatewayApi;
using Meshgate.Core.Resources.Istio;
using Meshgate.Core.Translation;

namespace Meshgate.Core.Analysis;

/// <summary>
/// The configuration as the analyzers read it: typed views of each kind, built once, and Istio's lookups over them
/// (host resolution, the registry, gateway selection, the destination rule lookup path).
/// </summary>
internal sealed class AnalysisIndex
{
    /// <summary>Kubernetes' cluster domain: Service hosts are <c>name.namespace.svc.cluster.local</c>.</summary>
    public const string ClusterDomain = "cluster.local";

    /// <summary>The pod annotation the control plane writes for each connected proxy (sidecar or gateway).</summary>
    public const string RoleAnnotation = "meshgate.io/role";

    public AnalysisIndex(ResourceSet resources, MeshSettings mesh)
    {
        Resources = resources;
        Mesh = mesh;
        ServiceEntries = resources.List(ResourceTypes.ServiceEntry)
            .Select(r => new ServiceEntryView(r, r.Spec<ServiceEntrySpec>() ?? new ServiceEntrySpec()))
            .ToList();
        Gateways = resources.List(ResourceTypes.Gateway)
            .Select(r => new GatewayView(r, r.Spec<GatewaySpec>() ?? new GatewaySpec()))
            .ToDictionary(g => g.Reference, StringComparer.Ordinal);
        GatewayApiGateways = resources.List(ResourceTypes.KubernetesGateway)
            .Select(r => new GatewayApiGatewayView(r, r.Spec<GatewayApiGatewaySpec>() ?? new GatewayApiGatewaySpec()))
            .ToDictionary(g => g.Reference, StringComparer.Ordinal);
        GatewayApiRoutes = resources.List(ResourceTypes.HttpRoute).Select(GatewayApiRouteView.FromHttpRoute)
            .Concat(resources.List(ResourceTypes.TlsRoute).Select(GatewayApiRouteView.FromTlsRoute))
            .Concat(resources.List(ResourceTypes.TcpRoute).Select(GatewayApiRouteView.FromTcpRoute))
            .ToList();

        // A Gateway of class istio is deployed as Service <name>-istio (Istio's deployment controller); until the control
        // plane has written it (or in a files-only analysis) it is assumed, as istioctl assumes its default gateway.
        var services = resources.List(ResourceTypes.Service).Select(ServiceView.From).ToList();
        foreach (var gateway in GatewayApiGateways.Values.Where(g => g.IsIstioClass))
        {
            if (resources.Get(new ObjectKey(ResourceTypes.Service, gateway.Resource.Namespace, gateway.DeployedName)) is null)
            {
                services.Add(ServiceView.From(DeployedService(gateway)));
            }
        }

        Services = services;
        VirtualServices = resources.List(ResourceTypes.VirtualService)
            .Select(r => new VirtualServiceView(r, r.Spec<VirtualServiceSpec>() ?? new VirtualServiceSpec()))
            .ToList();
        DestinationRules = resources.List(ResourceTypes.DestinationRule)
            .Select(r => DestinationRuleView.From(r, r.Spec<DestinationRuleSpec>() ?? new DestinationRuleSpec()))
            .ToList();
        Pods = resources.List(ResourceTypes.Pod)
            .Select(r => new PodView(r, r.Labels, r.Annotations.GetValueOrDefault(RoleAnnotation)))
            .ToList();
        SidecarNamespaces = Pods
            .Where(p => p.Role != "gateway" && !Gateways.Values.Any(g => g.Selects(p.Labels)))
            .Select(p => p.Resource.Namespace)
            .Distinct(StringComparer.Ordinal)
            .Order(StringComparer.Ordinal)
            .ToList();
    }

    public ResourceSet Resources { get; }

    public MeshSettings Mesh { get; }

    public IReadOnlyList<ServiceEntryView> ServiceEntries { get; }

    public IReadOnlyList<ServiceView> Services { get; }

    /// <summary>Istio Gateways by <c>namespace/name</c>.</summary>
    public IReadOnlyDictionary<string, GatewayView> Gateways { get; }

    /// <summary>Gateway API Gateways by <c>namespace/name</c>.</summary>
    public IReadOnlyDictionary<string, GatewayApiGatewayView> GatewayApiGateways { get; }

    /// <summary>HTTPRoutes, then TLSRoutes, then TCPRoutes.</summary>
    public IReadOnlyList<GatewayApiRouteView> GatewayApiRoutes { get; }

    public IReadOnlyList<VirtualServiceView> VirtualServices { get; }

    public IReadOnlyList<DestinationRuleView> DestinationRules { get; }

    public IReadOnlyList<PodView> Pods { get; }

    /// <summary>The namespaces of the workloads that are not gateways: where sidecar clients run.</summary>
    public IReadOnlyList<string> SidecarNamespaces { get; }

    /// <summary>
    /// Istio's short-name rule: a host without a dot is a Service in the namespace of the object naming it
    /// (<c>reviews</c> in <c>default</c> is <c>reviews.default.svc.cluster.local</c>); anything else is taken as written.
    /// </summary>
    public static string Fqdn(string host, string ns) =>
        host == "*" || host.Contains('.') ? host : $"{host}.{ns}.svc.{ClusterDomain}";

    /// <summary>The registry entry for a host: a Service by its name, else a ServiceEntry host, exact before the longest wildcard.</summary>
    public HostEntry? FindHost(string host)
    {
        foreach (var service in Services)
        {
            if (string.Equals(service.Fqdn, host, StringComparison.OrdinalIgnoreCase))
            {
                return new HostEntry(service.Resource, service.Ports.Select(p => p.Port).ToList(), null, service);
            }
        }

        HostEntry? best = null;
        var bestLength = -1;
        foreach (var entry in ServiceEntries)
        {
            foreach (var pattern in entry.Spec.Hosts ?? [])
            {
                if (!HostMatch.Covers(pattern, host))
                {
                    continue;
                }

                // An exact host outranks every wildcard; among wildcards the longest suffix wins.
                var length = pattern.StartsWith('*') ? pattern.Length : int.MaxValue;
                if (length > bestLength)
                {
                    best = new HostEntry(entry.Resource, entry.Ports, entry.Resolution, null);
                    bestLength = length;
                }
            }
        }

        return best;
    }

    /// <summary>How proxies handle <paramref name="port"/> of a registry entry: the ServiceEntry's protocol, or the Service port's name.</summary>
    public PortKind PortKindOf(HostEntry entry, long port)
    {
        if (entry.Service is { } service)
        {
            return service.Ports.FirstOrDefault(p => p.Port == port) is { } servicePort ? PortKinds.FromServicePortName(servicePort.Name) : PortKind.Unknown;
        }

        var spec = ServiceEntries.FirstOrDefault(e => e.Resource == entry.Resource)?.Spec;
        return spec?.Ports?.FirstOrDefault(p => p.Number == port) is { } sePort ? PortKinds.FromProtocol(sePort.Protocol) : PortKind.Unknown;
    }

    /// <summary>The Service <paramref name="ns"/>/<paramref name="name"/>, stored or deployed for a Gateway of class istio.</summary>
    public ServiceView? FindService(string ns, string name) =>
        Services.FirstOrDefault(s => s.Resource.Namespace == ns && s.Resource.Name == name);

    /// <summary>
    /// The Gateway API Gateway a Service fronts: its selector names the Gateway by the label the deployed pods carry
    /// (<c>gateway.networking.k8s.io/gateway-name</c>), and that Gateway exists in the Service's namespace.
    /// </summary>
    public GatewayApiGatewayView? DeployedGatewayOf(ServiceView service) =>
        service.Selector.TryGetValue(GatewayApiLowering.GatewayNameLabel, out var name)
        && GatewayApiGateways.TryGetValue($"{service.Resource.Namespace}/{name}", out var gateway)
            ? gateway
            : null;

    /// <summary>
    /// Whether a Service's pods are a gateway: connected gateway proxies, an Istio Gateway selecting its labels, or the
    /// deployment of a Gateway API Gateway.
    /// </summary>
    public bool IsGatewayService(ServiceView service) =>
        service.Selector.Count > 0
        && (PodsSelectedBy(service.Selector).Any(p => p.Role == "gateway") || GatewaysFronting(service).Count > 0 || DeployedGatewayOf(service) is not null);

    public IEnumerable<PodView> PodsSelectedBy(IReadOnlyDictionary<string, string> selector) =>
        Pods.Where(p => Selects(selector, p.Labels));

    /// <summary>The Gateways whose selector picks the pods a Service's selector picks (compared by labels, so it holds without pods).</summary>
    public IReadOnlyList<GatewayView> GatewaysFronting(ServiceView service) =>
        service.Selector.Count == 0
            ? []
            : Gateways.Values.Where(g => g.Selector.Count > 0 && g.Selects(service.Selector)).ToList();

    /// <summary>
    /// The namespaces of the proxies that apply a route bound to <paramref name="gateway"/>: sidecars (or, with none known,
    /// the VirtualService's own namespace) for <c>mesh</c>; the gateway's pods (or its Services, or the Gateway) otherwise.
    /// </summary>
    public IReadOnlyList<string> ClientNamespaces(VirtualServiceView virtualService, string gateway)
    {
        if (gateway == VirtualServiceView.Mesh)
        {
            var visible = SidecarNamespaces.Where(ns => Visible(virtualService.Spec.ExportTo, virtualService.Namespace, ns)).ToList();
            return SidecarNamespaces.Count > 0 ? visible : [virtualService.Namespace];
        }

        if (!Gateways.TryGetValue(gateway, out var view))
        {
            return [];
        }

        var pods = PodsSelectedBy(view.Selector).Select(p => p.Resource.Namespace).Distinct(StringComparer.Ordinal).ToList();
        if (pods.Count > 0)
        {
            return pods;
        }

        var services = Services.Where(s => s.Selector.Count > 0 && view.Selects(s.Selector)).Select(s => s.Resource.Namespace).Distinct(StringComparer.Ordinal).ToList();
        return services.Count > 0 ? services : [view.Resource.Namespace];
    }

    /// <summary>
    /// Istio's destination rule lookup path for a proxy in <paramref name="clientNamespace"/>: a rule for the host in the
    /// client's namespace, else in the host's namespace, else in the root namespace; each only if exported to the client.
    /// </summary>
    public DestinationRuleView? LookupDestinationRule(string host, string hostNamespace, string clientNamespace)
    {
        foreach (var ns in LookupPath(hostNamespace, clientNamespace))
        {
            var best = DestinationRules
                .Where(d => d.Resource.Namespace == ns && Visible(d.Spec.ExportTo, ns, clientNamespace) && HostMatch.Covers(d.Host, host))
                .OrderByDescending(d => d.Host.StartsWith('*') ? d.Host.Length : int.MaxValue)
                .FirstOrDefault();
            if (best is not null)
            {
                return best;
            }
        }

        return null;
    }

    public IReadOnlyList<string> LookupPath(string hostNamespace, string clientNamespace) =>
        new[] { clientNamespace, hostNamespace, Mesh.RootNamespace }.Distinct(StringComparer.Ordinal).ToList();

    /// <summary>Istio's <c>exportTo</c>: absent or <c>*</c> is every namespace, <c>.</c> the object's own, <c>~</c> none.</summary>
    public static bool Visible(IReadOnlyList<string>? exportTo, string ownNamespace, string clientNamespace)
    {
        if (exportTo is not { Count: > 0 })
        {
            return true;
        }

        foreach (var target in exportTo)
        {
            if (target == "*" || target == clientNamespace || (target == "." && ownNamespace == clientNamespace))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Whether every label of <paramref name="selector"/> is in <paramref name="labels"/> (an empty selector selects nothing here).</summary>
    public static bool Selects(IReadOnlyDictionary<string, string> selector, IReadOnlyDictionary<string, string> labels)
    {
        if (selector.Count == 0)
        {
            return false;
        }

        foreach (var (key, value) in selector)
        {
            if (!labels.TryGetValue(key, out var actual) || actual != value)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// The Service Istio's deployment controller creates for a Gateway (as the control plane's GatewayWorkloadPlan does):
    /// <c>&lt;name&gt;-istio</c>, selecting the pods labelled with the Gateway's name, one port per listener port named
    /// <c>&lt;protocol&gt;-&lt;port&gt;</c>.
    /// </summary>
    private static Resource DeployedService(GatewayApiGatewayView gateway)
    {
        var ports = new JsonArray();
        foreach (var group in gateway.Listeners.Where(l => l.Port is not null).GroupBy(l => l.Port!.Value).OrderBy(g => g.Key))
        {
            ports.Add(new JsonObject { ["name"] = $"{(group.First().Protocol ?? "tcp").ToLowerInvariant()}-{group.Key}", ["port"] = group.Key });
        }

        var selector = new JsonObject { [GatewayApiLowering.GatewayNameLabel] = gateway.Resource.Name };
        return new Resource(ResourceTypes.Service, new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Service",
            ["metadata"] = new JsonObject
            {
                ["name"] = gateway.DeployedName,
                ["namespace"] = gateway.Resource.Namespace,
                ["labels"] = selector.DeepClone(),
            },
            ["spec"] = new JsonObject { ["selector"] = selector, ["ports"] = ports },
        });
    }

    public static string FormatSelector(IReadOnlyDictionary<string, string> selector) =>
        string.Join(",", selector.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => $"{l.Key}={l.Value}"));
}

/// <summary>What the registry knows about a host: the object that declares it, its ports, and how it resolves.</summary>
/// <param name="Resolution">The ServiceEntry's resolution (null when unset, which means NONE); null for a Service.</param>
/// <param name="Service">The Service, when the host is one.</param>
internal sealed record HostEntry(Resource Resource, IReadOnlyList<long> Ports, ServiceEntryResolution? Resolution, ServiceView? Service)
{
    public bool IsServiceEntry => Service is null;
}

internal sealed record ServiceEntryView(Resource Resource, ServiceEntrySpec Spec)
{
    public IReadOnlyList<long> Ports { get; } = Spec.Ports?.Where(p => p.Number is not null).Select(p => p.Number!.Value).ToList() ?? [];

    public ServiceEntryResolution? Resolution => Spec.Resolution;
}

internal sealed record ServicePortView(long Port, long? TargetPort, string? Name);

internal sealed record ServiceView(Resource Resource, string Fqdn, IReadOnlyDictionary<string, string> Selector, IReadOnlyList<ServicePortView> Ports)
{
    public static ServiceView From(Resource resource)
    {
        var service = resource.As<V1Service>();
        var ports = service.Spec?.Ports?
            .Select(p => new ServicePortView(p.Port, int.TryParse(p.TargetPort?.Value, out var t) ? t : null, p.Name))
            .ToList() ?? [];
        var selector = (IReadOnlyDictionary<string, string>?)service.Spec?.Selector?.ToDictionary(StringComparer.Ordinal)
            ?? new Dictionary<string, string>(StringComparer.Ordinal);
        return new ServiceView(resource, $"{resource.Name}.{resource.Namespace}.svc.{AnalysisIndex.ClusterDomain}", selector, ports);
    }
}

internal sealed record GatewayView(Resource Resource, GatewaySpec Spec)
{
    public string Reference => $"{Resource.Namespace}/{Resource.Name}";

    public IReadOnlyDictionary<string, string> Selector { get; } =
        Spec.Selector is { } s ? s : new Dictionary<string, string>(StringComparer.Ordinal);

    public bool Selects(IReadOnlyDictionary<string, string> labels) => AnalysisIndex.Selects(Selector, labels);
}

internal sealed record DestinationRuleView(Resource Resource, DestinationRuleSpec Spec, string Host)
{
    public static DestinationRuleView From(Resource resource, DestinationRuleSpec spec) =>
        new(resource, spec, AnalysisIndex.Fqdn(spec.Host ?? "", resource.Namespace));

    public bool HasSubset(string name) => Spec.Subsets?.Any(s => s.Name == name) == true;
}

internal sealed record PodView(Resource Resource, IReadOnlyDictionary<string, string> Labels, string? Role);

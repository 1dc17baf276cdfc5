using k8s.Models;

using Meshgate.Core.Resources.GatewayApi;
using Meshgate.Core.Resources.Istio;

namespace Meshgate.Core.Resources;

/// <summary>The kinds Meshgate serves, and how the command line names them (kubectl's rules).</summary>
public static class ResourceTypes
{
    public const string IstioNetworking = "networking.istio.io";
    public const string GatewayApiGroup = "gateway.networking.k8s.io";

    private static readonly string[] IstioVersions = ["v1", "v1beta1", "v1alpha3"];

    public static readonly ResourceType ServiceEntry = new(IstioNetworking, "ServiceEntry", "serviceentries", true, IstioVersions, ["se"], typeof(CustomResource<ServiceEntrySpec>));
    public static readonly ResourceType Gateway = new(IstioNetworking, "Gateway", "gateways", true, IstioVersions, ["gw"], typeof(CustomResource<GatewaySpec>));
    public static readonly ResourceType VirtualService = new(IstioNetworking, "VirtualService", "virtualservices", true, IstioVersions, ["vs"], typeof(CustomResource<VirtualServiceSpec>));
    public static readonly ResourceType DestinationRule = new(IstioNetworking, "DestinationRule", "destinationrules", true, IstioVersions, ["dr"], typeof(CustomResource<DestinationRuleSpec>));

    public static readonly ResourceType KubernetesGateway = new(GatewayApiGroup, "Gateway", "gateways", true, ["v1", "v1beta1"], ["gtw"], typeof(CustomResource<GatewayApiGatewaySpec>));
    public static readonly ResourceType HttpRoute = new(GatewayApiGroup, "HTTPRoute", "httproutes", true, ["v1", "v1beta1"], [], typeof(CustomResource<HttpRouteSpec>));
    public static readonly ResourceType TlsRoute = new(GatewayApiGroup, "TLSRoute", "tlsroutes", true, ["v1alpha2", "v1alpha3"], [], typeof(CustomResource<TlsRouteSpec>));
    public static readonly ResourceType TcpRoute = new(GatewayApiGroup, "TCPRoute", "tcproutes", true, ["v1alpha2"], [], typeof(CustomResource<TcpRouteSpec>));
    public static readonly ResourceType ReferenceGrant = new(GatewayApiGroup, "ReferenceGrant", "referencegrants", true, ["v1beta1", "v1alpha2"], ["refgrant"], typeof(CustomResource<ReferenceGrantSpec>));
    public static readonly ResourceType GatewayClass = new(GatewayApiGroup, "GatewayClass", "gatewayclasses", false, ["v1", "v1beta1"], ["gc"], typeof(CustomResource<GatewayClassSpec>));

    public static readonly ResourceType Namespace = new("", "Namespace", "namespaces", false, ["v1"], ["ns"], typeof(V1Namespace));
    public static readonly ResourceType ServiceAccount = new("", "ServiceAccount", "serviceaccounts", true, ["v1"], ["sa"], typeof(V1ServiceAccount));
    public static readonly ResourceType Service = new("", "Service", "services", true, ["v1"], ["svc"], typeof(V1Service));
    public static readonly ResourceType Pod = new("", "Pod", "pods", true, ["v1"], ["po"], typeof(V1Pod));
    public static readonly ResourceType Deployment = new("apps", "Deployment", "deployments", true, ["v1"], ["deploy"], typeof(V1Deployment));
    public static readonly ResourceType NetworkPolicy = new("networking.k8s.io", "NetworkPolicy", "networkpolicies", true, ["v1"], ["netpol"], typeof(V1NetworkPolicy));
    public static readonly ResourceType Endpoints = new("", "Endpoints", "endpoints", true, ["v1"], ["ep"], typeof(V1Endpoints));
    public static readonly ResourceType Secret = new("", "Secret", "secrets", true, ["v1"], [], typeof(V1Secret));
    public static readonly ResourceType ConfigMap = new("", "ConfigMap", "configmaps", true, ["v1"], ["cm"], typeof(V1ConfigMap));
    public static readonly ResourceType Role = new("rbac.authorization.k8s.io", "Role", "roles", true, ["v1"], [], typeof(V1Role));
    public static readonly ResourceType RoleBinding = new("rbac.authorization.k8s.io", "RoleBinding", "rolebindings", true, ["v1"], [], typeof(V1RoleBinding));

    /// <summary>Every kind, in the order <c>get all</c>-style listings use.</summary>
    public static readonly IReadOnlyList<ResourceType> All =
    [
        Namespace, ServiceAccount, Service, Endpoints, Pod, Deployment, NetworkPolicy, Secret, ConfigMap, Role, RoleBinding,
        ServiceEntry, Gateway, VirtualService, DestinationRule,
        GatewayClass, KubernetesGateway, HttpRoute, TlsRoute, TcpRoute, ReferenceGrant,
    ];

    private static readonly Dictionary<(string Group, string Kind), ResourceType> ByGroupKind =
        All.ToDictionary(t => (t.Group, t.Kind));

    private static readonly Dictionary<string, ResourceType> ByCliName = BuildCliNames();

    /// <summary>Finds the kind an <c>apiVersion</c>/<c>kind</c> pair names; the version is checked separately.</summary>
    public static ResourceType? Find(string group, string kind) =>
        ByGroupKind.GetValueOrDefault((group, kind));

    /// <summary>The kinds of a group, for "did you mean" messages.</summary>
    public static IEnumerable<ResourceType> InGroup(string group) => All.Where(t => t.Group == group);

    /// <summary>
    /// Resolves what a user typed after <c>get</c> or <c>delete</c>: kind, plural, short name,
    /// or <c>plural.group</c>, case-insensitive. <c>gateway</c> means Istio's Gateway (as in the Istio docs);
    /// Gateway API's is <c>gtw</c> or <c>gateways.gateway.networking.k8s.io</c>.
    /// </summary>
    public static ResourceType? Resolve(string name) => ByCliName.GetValueOrDefault(name.ToLowerInvariant());

    /// <summary>Every name <see cref="Resolve"/> accepts, for error messages.</summary>
    public static IEnumerable<string> CliNames => ByCliName.Keys;

    private static Dictionary<string, ResourceType> BuildCliNames()
    {
        var names = new Dictionary<string, ResourceType>();
        // Qualified names first; unqualified ones go to the first kind that claims them (Istio before Gateway API).
        foreach (var type in All)
        {
            var kind = type.Kind.ToLowerInvariant();
            if (type.Group.Length > 0)
            {
                names[$"{type.Plural}.{type.Group}"] = type;
                names[$"{kind}.{type.Group}"] = type;
            }
        }

        foreach (var type in All)
        {
            var kind = type.Kind.ToLowerInvariant();
            foreach (var name in type.ShortNames.Append(kind).Append(type.Plural))
            {
                names.TryAdd(name, type);
            }
        }

        return names;
    }
}

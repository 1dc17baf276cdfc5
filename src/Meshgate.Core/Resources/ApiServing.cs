namespace Meshgate.Core.Resources;

/// <summary>
/// How the Kubernetes API serves each kind, as discovery and the OpenAPI documents describe it: verbs, the
/// <c>status</c> subresource, categories, and the model name the OpenAPI documents give it.
/// </summary>
public static class ApiServing
{
    /// <summary>The verbs of every served resource (kubectl checks them before it lists, watches, patches or deletes).</summary>
    public static readonly IReadOnlyList<string> Verbs = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];

    /// <summary>The verbs of a <c>status</c> subresource.</summary>
    public static readonly IReadOnlyList<string> StatusVerbs = ["get", "patch", "update"];

    /// <summary>Whether the kind has a <c>status</c> subresource: its status is written there only.</summary>
    public static bool HasStatus(ResourceType type) =>
        !type.IsKubernetesModel || type == ResourceTypes.Namespace || type == ResourceTypes.Service || type == ResourceTypes.Pod || type == ResourceTypes.Deployment;

    /// <summary>The categories <c>kubectl get CATEGORY</c> expands, as the real CRDs and built-ins declare them.</summary>
    public static IReadOnlyList<string> Categories(ResourceType type) => type.Group switch
    {
        ResourceTypes.IstioNetworking => ["istio-io", "networking-istio-io"],
        ResourceTypes.GatewayApiGroup => ["gateway-api"],
        _ when type == ResourceTypes.Pod || type == ResourceTypes.Service || type == ResourceTypes.Deployment => ["all"],
        _ => [],
    };

    /// <summary>Whether strategic merge patch applies (Kubernetes' own kinds; custom resources take merge patches only).</summary>
    public static bool TakesStrategicMergePatch(ResourceType type) => type.IsKubernetesModel;

    /// <summary>The lower-case singular name (<c>serviceentry</c>).</summary>
    public static string Singular(ResourceType type) => type.Kind.ToLowerInvariant();

    /// <summary>The OpenAPI package of a group: <c>io.istio.networking</c>, <c>io.k8s.networking.gateway</c>, <c>io.k8s.api.apps</c>.</summary>
    public static string ModelPackage(ResourceType type) => type.Group switch
    {
        ResourceTypes.IstioNetworking => "io.istio.networking",
        ResourceTypes.GatewayApiGroup => "io.k8s.networking.gateway",
        "" => "io.k8s.api.core",
        "networking.k8s.io" => "io.k8s.api.networking",
        "rbac.authorization.k8s.io" => "io.k8s.api.rbac",
        var group => "io.k8s.api." + group.Split('.')[0],
    };

    /// <summary>The OpenAPI model name of a kind in one version: <c>io.istio.networking.v1.ServiceEntry</c>.</summary>
    public static string ModelName(ResourceType type, string version) => $"{ModelPackage(type)}.{version}.{type.Kind}";

    /// <summary>The groups in the order discovery lists them: the first claims an ambiguous name (<c>gateway</c> is Istio's, as in the Istio docs).</summary>
    public static IReadOnlyList<string> Groups { get; } = ResourceTypes.All.Select(t => t.Group).Where(g => g.Length > 0).Distinct()
        .OrderBy(g => g switch { ResourceTypes.IstioNetworking => 1, ResourceTypes.GatewayApiGroup => 2, _ => 0 }).ToList();

    /// <summary>The versions of a group, the preferred (storage) one first.</summary>
    public static IReadOnlyList<string> VersionsOf(string group)
    {
        var types = ResourceTypes.All.Where(t => t.Group == group).ToList();
        var preferred = types[0].PreferredVersion;
        return types.SelectMany(t => t.Versions).Distinct().OrderBy(v => v == preferred ? 0 : 1).ToList();
    }

    /// <summary>The kinds served in one group version.</summary>
    public static IReadOnlyList<ResourceType> TypesIn(string group, string version) =>
        ResourceTypes.All.Where(t => t.Group == group && t.Versions.Contains(version)).ToList();
}

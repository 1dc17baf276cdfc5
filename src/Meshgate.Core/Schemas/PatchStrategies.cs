using k8s.Models;

namespace Meshgate.Core.Schemas;

/// <summary>How strategic merge patch treats one field: its <c>patchStrategy</c> and, for lists of objects, <c>patchMergeKey</c>.</summary>
public sealed record PatchStrategy(string Strategy, string? MergeKey)
{
    public bool Merges => Strategy.Split(',').Contains("merge");

    public bool RetainsKeys => Strategy.Split(',').Contains("retainKeys");
}

/// <summary>
/// The <c>patchStrategy</c> / <c>patchMergeKey</c> tags of Kubernetes' Go types (k8s.io/api) for the fields of the kinds
/// Meshgate stores. KubernetesClient's models do not carry them, so they are listed here once: strategic merge patch
/// applies them, and the OpenAPI documents publish them (<c>x-kubernetes-patch-strategy</c>,
/// <c>x-kubernetes-patch-merge-key</c>), so a client that builds its patch from the documents builds what the server
/// applies. Every other list is replaced whole, as Kubernetes does for lists without a strategy.
/// </summary>
public static class PatchStrategies
{
    private static readonly Dictionary<(Type Type, string Field), PatchStrategy> Table = new()
    {
        [(typeof(V1ObjectMeta), "finalizers")] = new("merge", null),
        [(typeof(V1ObjectMeta), "ownerReferences")] = new("merge", "uid"),

        [(typeof(V1PodSpec), "volumes")] = new("merge,retainKeys", "name"),
        [(typeof(V1PodSpec), "initContainers")] = new("merge", "name"),
        [(typeof(V1PodSpec), "containers")] = new("merge", "name"),
        [(typeof(V1PodSpec), "ephemeralContainers")] = new("merge", "name"),
        [(typeof(V1PodSpec), "imagePullSecrets")] = new("merge", "name"),
        [(typeof(V1PodSpec), "hostAliases")] = new("merge", "ip"),
        [(typeof(V1PodSpec), "topologySpreadConstraints")] = new("merge", "topologyKey"),
        [(typeof(V1PodSpec), "resourceClaims")] = new("merge,retainKeys", "name"),
        [(typeof(V1PodSpec), "schedulingGates")] = new("merge", "name"),
        [(typeof(V1Container), "ports")] = new("merge", "containerPort"),
        [(typeof(V1Container), "env")] = new("merge", "name"),
        [(typeof(V1Container), "volumeMounts")] = new("merge", "mountPath"),
        [(typeof(V1Container), "volumeDevices")] = new("merge", "devicePath"),
        [(typeof(V1EphemeralContainer), "ports")] = new("merge", "containerPort"),
        [(typeof(V1EphemeralContainer), "env")] = new("merge", "name"),
        [(typeof(V1EphemeralContainer), "volumeMounts")] = new("merge", "mountPath"),
        [(typeof(V1EphemeralContainer), "volumeDevices")] = new("merge", "devicePath"),
        [(typeof(V1PodStatus), "conditions")] = new("merge", "type"),
        [(typeof(V1PodStatus), "podIPs")] = new("merge", "ip"),
        [(typeof(V1PodStatus), "hostIPs")] = new("merge", "ip"),
        [(typeof(V1PodStatus), "resourceClaimStatuses")] = new("merge,retainKeys", "name"),

        [(typeof(V1ServiceSpec), "ports")] = new("merge", "port"),
        [(typeof(V1ServiceStatus), "conditions")] = new("merge", "type"),
        [(typeof(V1ServiceAccount), "secrets")] = new("merge", "name"),
        [(typeof(V1NamespaceStatus), "conditions")] = new("merge", "type"),

        [(typeof(V1DeploymentSpec), "strategy")] = new("retainKeys", null),
        [(typeof(V1DeploymentStatus), "conditions")] = new("merge", "type"),
    };

    /// <summary>The strategy of field <paramref name="field"/> of <paramref name="type"/>, or null (replace lists, merge maps).</summary>
    public static PatchStrategy? For(Type? type, string field) =>
        type is not null && Table.TryGetValue((ModelSchema.Unwrap(type), field), out var strategy) ? strategy : null;
}

using System.Runtime.CompilerServices;

using Meshgate.Core.Resources;

namespace Meshgate.Core.Translation;

/// <summary>
/// What translation reads from one <see cref="ResourceSet"/> whatever the proxy: objects by kind in a stable order,
/// the service registry and the VirtualService index. Built once per revision and shared by every node key's
/// translation (the control plane translates once per key), so each key pays only for its own snapshot.
/// </summary>
internal sealed class Registry
{
    private static readonly ConditionalWeakTable<ResourceSet, Registry> Cache = new();

    private readonly ResourceSet _resources;

    private Registry(ResourceSet resources)
    {
        _resources = resources;
        Services = ServiceIndex.Build(this);
        VirtualServices = VirtualServiceIndex.Build(this);
        SidecarLabelsMatter = VirtualServices.UsesSourceLabels || AnyWorkloadSelector(Of(ResourceTypes.DestinationRule));
    }

    /// <summary>
    /// True when a sidecar's labels can change its snapshot: a VirtualService match names <c>sourceLabels</c>, or a
    /// DestinationRule has a <c>workloadSelector</c>. Nothing else a sidecar's translation reads depends on them.
    /// </summary>
    public bool SidecarLabelsMatter { get; }

    public ServiceIndex Services { get; }

    public VirtualServiceIndex VirtualServices { get; }

    private static bool AnyWorkloadSelector(IReadOnlyList<Resource> destinationRules)
    {
        foreach (var resource in destinationRules)
        {
            if (ParsedSpecs.Spec<Resources.Istio.DestinationRuleSpec>(resource)?.WorkloadSelector?.MatchLabels is { Count: > 0 })
            {
                return true;
            }
        }

        return false;
    }

    public static Registry For(ResourceSet resources) => Cache.GetValue(resources, static r => new Registry(r));

    public Resource? Get(ObjectKey key) => _resources.Get(key);

    /// <summary>The objects of one kind, ordered by namespace then name.</summary>
    public IReadOnlyList<Resource> Of(ResourceType type) => _resources.List(type);

    /// <summary>
    /// Objects in Istio's conflict order: oldest first (creation time), then namespace and name. The store stamps
    /// <c>creationTimestamp</c>; objects without one sort first, by name.
    /// </summary>
    public static List<(Resource Resource, T Spec)> InCreationOrder<T>(IEnumerable<(Resource Resource, T Spec)> items)
    {
        var keyed = new List<(DateTimeOffset? Created, Resource Resource, T Spec)>();
        foreach (var (resource, spec) in items)
        {
            keyed.Add((resource.CreationTimestamp, resource, spec));
        }

        keyed.Sort(static (a, b) => Nullable.Compare(a.Created, b.Created) is var c && c != 0 ? c
            : string.CompareOrdinal(a.Resource.Namespace, b.Resource.Namespace) is var n && n != 0 ? n
            : string.CompareOrdinal(a.Resource.Name, b.Resource.Name));
        var result = new List<(Resource, T)>(keyed.Count);
        foreach (var (_, resource, spec) in keyed)
        {
            result.Add((resource, spec));
        }

        return result;
    }
}

using System.Collections.Immutable;

namespace Meshgate.Core.Resources;

/// <summary>
/// Every stored object at one revision: immutable, swapped whole by the store after each change,
/// read without locks by whoever holds it (translation, the API).
/// </summary>
public sealed class ResourceSet
{
    public static readonly ResourceSet Empty = new(0, ImmutableDictionary<ObjectKey, Resource>.Empty);

    // Objects by kind, each ordered by namespace then name: built on the first List and then shared by every reader of
    // this revision (translation, status, the deployer, the API), so a change costs one pass over the objects, not one
    // per kind asked for.
    private Dictionary<ResourceType, ImmutableArray<Resource>>? _byType;

    public ResourceSet(long revision, ImmutableDictionary<ObjectKey, Resource> objects)
    {
        Revision = revision;
        Objects = objects;
    }

    public long Revision { get; }

    public ImmutableDictionary<ObjectKey, Resource> Objects { get; }

    public Resource? Get(ObjectKey key) => Objects.GetValueOrDefault(key);

    /// <summary>Objects of one kind, in one namespace or (namespace null) all, ordered by namespace then name.</summary>
    public IReadOnlyList<Resource> List(ResourceType type, string? ns = null)
    {
        var all = ByType().GetValueOrDefault(type, []);
        if (ns is null)
        {
            return all;
        }

        var inNamespace = new List<Resource>();
        foreach (var resource in all)
        {
            if (resource.Namespace == ns)
            {
                inNamespace.Add(resource);
            }
        }

        return inNamespace;
    }

    public bool NamespaceExists(string ns) => Objects.ContainsKey(new ObjectKey(ResourceTypes.Namespace, "", ns));

    private Dictionary<ResourceType, ImmutableArray<Resource>> ByType()
    {
        if (Volatile.Read(ref _byType) is { } built)
        {
            return built;
        }

        var lists = new Dictionary<ResourceType, List<Resource>>();
        foreach (var resource in Objects.Values)
        {
            if (!lists.TryGetValue(resource.Type, out var list))
            {
                list = [];
                lists[resource.Type] = list;
            }

            list.Add(resource);
        }

        var byType = new Dictionary<ResourceType, ImmutableArray<Resource>>(lists.Count);
        foreach (var (type, list) in lists)
        {
            // (namespace, name) is unique within a kind, so this order is total.
            list.Sort(static (a, b) => string.CompareOrdinal(a.Namespace, b.Namespace) is var c && c != 0 ? c : string.CompareOrdinal(a.Name, b.Name));
            byType[type] = [.. list];
        }

        // Two readers racing here build equal indexes; either may stay.
        return Interlocked.CompareExchange(ref _byType, byType, null) ?? byType;
    }
}

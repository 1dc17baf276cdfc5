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

    /// <summary>
    /// The revision made from <paramref name="previous"/> by writing the objects under <paramref name="changed"/>
    /// (added, replaced or deleted; every key whose value differs must be named). Its objects by kind are derived
    /// from <paramref name="previous"/>'s when those were built and the change is small: a change costs what it
    /// touches, not a pass and a sort over every stored object.
    /// </summary>
    public ResourceSet(long revision, ImmutableDictionary<ObjectKey, Resource> objects, ResourceSet previous, IReadOnlyCollection<ObjectKey> changed)
        : this(revision, objects)
    {
        ArgumentNullException.ThrowIfNull(previous);
        ArgumentNullException.ThrowIfNull(changed);
        if (changed.Count <= MaxDerivedChanges && Volatile.Read(ref previous._byType) is { } before)
        {
            _byType = Derive(before, objects, changed);
        }
    }

    /// <summary>Above this many changed objects the kinds are rebuilt: each derived change copies its kind's list.</summary>
    internal const int MaxDerivedChanges = 64;

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

    /// <summary>
    /// <paramref name="before"/>'s lists with each changed key put in (binary search in the namespace-then-name order)
    /// or taken out; null when the result does not hold exactly <paramref name="objects"/>'s count (a change not named).
    /// </summary>
    private static Dictionary<ResourceType, ImmutableArray<Resource>>? Derive(
        Dictionary<ResourceType, ImmutableArray<Resource>> before, ImmutableDictionary<ObjectKey, Resource> objects, IReadOnlyCollection<ObjectKey> changed)
    {
        var byType = new Dictionary<ResourceType, ImmutableArray<Resource>>(before);
        foreach (var key in changed)
        {
            var list = byType.GetValueOrDefault(key.Type, []);
            var at = Find(list, key.Namespace, key.Name);
            if (objects.TryGetValue(key, out var now))
            {
                list = at >= 0 ? list.SetItem(at, now) : list.Insert(~at, now);
            }
            else if (at >= 0)
            {
                list = list.RemoveAt(at);
            }

            byType[key.Type] = list;
        }

        var count = 0;
        foreach (var list in byType.Values)
        {
            count += list.Length;
        }

        return count == objects.Count ? byType : null;
    }

    /// <summary>The index of (<paramref name="ns"/>, <paramref name="name"/>) in <paramref name="list"/>, else the complement of where it goes.</summary>
    private static int Find(ImmutableArray<Resource> list, string ns, string name)
    {
        int low = 0, high = list.Length - 1;
        while (low <= high)
        {
            var mid = low + ((high - low) / 2);
            var c = Compare(list[mid].Namespace, list[mid].Name, ns, name);
            if (c == 0)
            {
                return mid;
            }

            if (c < 0)
            {
                low = mid + 1;
            }
            else
            {
                high = mid - 1;
            }
        }

        return ~low;
    }

    private static int Compare(string ns1, string name1, string ns2, string name2) =>
        string.CompareOrdinal(ns1, ns2) is var c && c != 0 ? c : string.CompareOrdinal(name1, name2);

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
            list.Sort(static (a, b) => Compare(a.Namespace, a.Name, b.Namespace, b.Name));
            byType[type] = [.. list];
        }

        // Two readers racing here build equal indexes; either may stay.
        return Interlocked.CompareExchange(ref _byType, byType, null) ?? byType;
    }
}

using System.Collections.Immutable;

namespace Meshgate.Core.Resources;

/// <summary>
/// Every stored object at one revision: immutable, swapped whole by the store after each change,
/// read without locks by whoever holds it (translation, the API).
/// </summary>
public sealed class ResourceSet
{
    public static readonly ResourceSet Empty = new(0, ImmutableDictionary<ObjectKey, Resource>.Empty);

    public ResourceSet(long revision, ImmutableDictionary<ObjectKey, Resource> objects)
    {
        Revision = revision;
        Objects = objects;
    }

    public long Revision { get; }

    public ImmutableDictionary<ObjectKey, Resource> Objects { get; }

    public Resource? Get(ObjectKey key) => Objects.GetValueOrDefault(key);

    /// <summary>Objects of one kind, in one namespace or (namespace null) all, ordered by namespace then name.</summary>
    public IReadOnlyList<Resource> List(ResourceType type, string? ns = null) =>
        Objects.Values
            .Where(r => r.Type == type && (ns is null || r.Namespace == ns))
            .OrderBy(r => r.Namespace, StringComparer.Ordinal)
            .ThenBy(r => r.Name, StringComparer.Ordinal)
            .ToList();

    public bool NamespaceExists(string ns) => Objects.ContainsKey(new ObjectKey(ResourceTypes.Namespace, "", ns));
}

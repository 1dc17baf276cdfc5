namespace Meshgate.Core.Resources;

/// <summary>Identifies one object: its kind and, for namespaced kinds, its namespace. Namespace is "" for cluster-scoped kinds.</summary>
public readonly record struct ObjectKey(ResourceType Type, string Namespace, string Name)
{
    /// <summary>kubectl's way to name an object in messages: <c>serviceentry.networking.istio.io/cnn</c>.</summary>
    public string DisplayName => $"{Type.QualifiedKind}/{Name}";

    public override string ToString() => Namespace.Length == 0 ? $"{Type.Kind} {Name}" : $"{Type.Kind} {Namespace}/{Name}";
}

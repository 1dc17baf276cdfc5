namespace Meshgate.Core.Resources;

/// <summary>
/// What the API knows of one kind: its group, names, served versions and the CLR type that
/// describes its documents (used for strict schema validation and typed access).
/// </summary>
public sealed record ResourceType(
    string Group,
    string Kind,
    string Plural,
    bool Namespaced,
    IReadOnlyList<string> Versions,
    IReadOnlyList<string> ShortNames,
    Type DocumentType)
{
    /// <summary>The version served first (the storage version, like a CRD's).</summary>
    public string PreferredVersion => Versions[0];

    /// <summary>kubectl's name for the resource: <c>serviceentries.networking.istio.io</c>, or <c>services</c> in the core group.</summary>
    public string Resource => Group.Length == 0 ? Plural : $"{Plural}.{Group}";

    /// <summary>kubectl's lower-case <c>kind.group</c> used in <c>-o name</c>: <c>serviceentry.networking.istio.io</c>.</summary>
    public string QualifiedKind => Group.Length == 0 ? Kind.ToLowerInvariant() : $"{Kind.ToLowerInvariant()}.{Group}";

    public string ApiVersion(string version) => Group.Length == 0 ? version : $"{Group}/{version}";

    public bool IsKubernetesModel => !DocumentType.IsGenericType || DocumentType.GetGenericTypeDefinition() != typeof(CustomResource<>);

    public override string ToString() => Resource;
}

using Meshgate.Core.Resources;

namespace Meshgate.Commands;

/// <summary>Builds the resource API's Kubernetes-style paths.</summary>
public static class ResourcePaths
{
    public static string For(ResourceType type, string? ns, string? name = null)
    {
        var prefix = type.Group.Length == 0 ? $"/api/{type.PreferredVersion}" : $"/apis/{type.Group}/{type.PreferredVersion}";
        var scope = type.Namespaced && ns is not null ? $"/namespaces/{Uri.EscapeDataString(ns)}" : "";
        var item = name is null ? "" : "/" + Uri.EscapeDataString(name);
        return $"{prefix}{scope}/{type.Plural}{item}";
    }

    /// <summary>Resolves a kind as typed on the command line, or explains what is served.</summary>
    public static ResourceType Resolve(string name) =>
        ResourceTypes.Resolve(name) ?? throw new CliException($"error: the server doesn't have a resource type \"{name}\"");
}

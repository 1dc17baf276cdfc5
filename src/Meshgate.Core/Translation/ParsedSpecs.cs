using System.Text.Json;

using Meshgate.Core.Resources;

namespace Meshgate.Core.Translation;

/// <summary>
/// Typed views of stored objects, parsed once per <see cref="Resource"/> instance and kept on it: a
/// <see cref="ResourceSet"/> is immutable and shares unchanged objects across revisions, so translating for many node
/// keys (and revisions) parses each object once, and the view goes when its object does.
/// </summary>
internal static class ParsedSpecs
{
    /// <summary>The spec of an Istio or Gateway API object, or null when it has none or cannot be read.</summary>
    public static T? Spec<T>(Resource resource)
        where T : class =>
        resource.CachedSpec(static r => TryRead(r.Spec<T>));

    /// <summary>A Kubernetes object as its KubernetesClient model, or null when it cannot be read.</summary>
    public static T? Model<T>(Resource resource)
        where T : class =>
        resource.CachedModel(static r => TryRead(r.As<T>));

    private static T? TryRead<T>(Func<T?> read)
        where T : class
    {
        try
        {
            return read();
        }
        catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException or NotSupportedException)
        {
            // Stored objects were validated on apply; one that still cannot be read is left out, never fatal.
            return null;
        }
    }
}

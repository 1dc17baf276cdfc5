using System.Runtime.CompilerServices;
using System.Text.Json;

using Meshgate.Core.Resources;

namespace Meshgate.Core.Translation;

/// <summary>
/// Typed views of stored objects, parsed once per <see cref="Resource"/> instance: a <see cref="ResourceSet"/> is
/// immutable and shares unchanged objects across revisions, so translating for many node keys (and revisions) parses
/// each object once. A weak table lets the views go when their object does.
/// </summary>
internal static class ParsedSpecs
{
    private static readonly ConditionalWeakTable<Resource, object> Cache = new();

    /// <summary>The spec of an Istio or Gateway API object, or null when it has none or cannot be read.</summary>
    public static T? Spec<T>(Resource resource)
        where T : class =>
        ((Box<T>)Cache.GetValue(resource, static r => new Box<T>(TryRead(() => r.Spec<T>())))).Value;

    /// <summary>A Kubernetes object as its KubernetesClient model, or null when it cannot be read.</summary>
    public static T? Model<T>(Resource resource)
        where T : class =>
        ((Box<T>)Cache.GetValue(resource, static r => new Box<T>(TryRead(() => r.As<T>())))).Value;

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

    private sealed record Box<T>(T? Value);
}

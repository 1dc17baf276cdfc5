using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Meshgate.Core.Resources;

/// <summary>
/// One validated object, as JSON (the form it is stored, served and printed in) with typed views.
/// Treat <see cref="Json"/> as immutable: every change goes through a copy.
/// </summary>
public sealed class Resource
{
    // A typed view (spec or model), built on first use and kept: the object never changes, and a ResourceSet shares
    // unchanged objects across revisions, so each stored object is parsed once however many revisions and keys read it.
    private object? _view;

    private StrongBox<DateTimeOffset?>? _creationTimestamp;

    public Resource(ResourceType type, JsonObject json)
    {
        Type = type;
        Json = json;
        var metadata = json["metadata"] as JsonObject;
        Name = metadata?["name"]?.GetValue<string>() ?? throw new ArgumentException("metadata.name is required", nameof(json));
        Namespace = type.Namespaced ? metadata?["namespace"]?.GetValue<string>() ?? "default" : "";
    }

    public ResourceType Type { get; }

    public JsonObject Json { get; }

    public string Name { get; }

    public string Namespace { get; }

    public ObjectKey Key => new(Type, Namespace, Name);

    public string ApiVersion => Json["apiVersion"]?.GetValue<string>() ?? Type.ApiVersion(Type.PreferredVersion);

    public JsonObject Metadata => (JsonObject)Json["metadata"]!;

    public IReadOnlyDictionary<string, string> Labels => ReadStringMap("labels");

    public IReadOnlyDictionary<string, string> Annotations => ReadStringMap("annotations");

    public long ResourceVersion => long.TryParse(Metadata["resourceVersion"]?.GetValue<string>(), out var v) ? v : 0;

    /// <summary>
    /// <c>metadata.creationTimestamp</c>, parsed once: translation orders every VirtualService and DestinationRule by it
    /// at each revision, and unchanged objects are the same instances from one revision to the next.
    /// </summary>
    public DateTimeOffset? CreationTimestamp
    {
        get
        {
            // One reference, written once whole: a racing reader parses again or sees the complete value.
            if (Volatile.Read(ref _creationTimestamp) is { } parsed)
            {
                return parsed.Value;
            }

            var value = Metadata["creationTimestamp"]?.GetValue<string>() is { } s && DateTimeOffset.TryParse(s, out var t) ? t : (DateTimeOffset?)null;
            Volatile.Write(ref _creationTimestamp, new StrongBox<DateTimeOffset?>(value));
            return value;
        }
    }

    /// <summary>The spec as its typed record (Istio and Gateway API kinds).</summary>
    public TSpec? Spec<TSpec>()
        where TSpec : class => Json["spec"]?.Deserialize<TSpec>(ResourceJson.Options);

    /// <summary>The whole object as a KubernetesClient model (Kubernetes' own kinds).</summary>
    public T As<T>()
        where T : class => k8s.KubernetesJson.Deserialize<T>(Json.ToJsonString());

    public Resource DeepClone() => new(Type, (JsonObject)Json.DeepClone());

    /// <summary>
    /// The same object with other JSON whose <c>spec</c> is unchanged (the store adding its metadata): the typed spec
    /// already parsed from <paramref name="json"/>'s spec, if any, is kept rather than parsed again.
    /// </summary>
    public Resource WithSameSpec(JsonObject json)
    {
        var copy = new Resource(Type, json);
        if (Volatile.Read(ref _view) is ISpecView view)
        {
            copy._view = view;
        }

        return copy;
    }

    /// <summary>
    /// The spec as <typeparamref name="TSpec"/>, read by <paramref name="read"/> on first use and cached on this
    /// instance (thread-safe, lock-free: racing readers may both read, one result is kept). Callers must not change it.
    /// </summary>
    internal TSpec? CachedSpec<TSpec>(Func<Resource, TSpec?> read)
        where TSpec : class =>
        Volatile.Read(ref _view) is SpecView<TSpec> cached ? cached.Value : Keep(new SpecView<TSpec>(read(this))).Value;

    /// <summary>The whole object as <typeparamref name="T"/> (a KubernetesClient model), cached as <see cref="CachedSpec"/>.</summary>
    internal T? CachedModel<T>(Func<Resource, T?> read)
        where T : class =>
        Volatile.Read(ref _view) is ModelView<T> cached ? cached.Value : Keep(new ModelView<T>(read(this))).Value;

    /// <summary>Seeds the cache with the spec validation already read from this object's JSON.</summary>
    internal Resource WithParsedSpec<TSpec>(TSpec spec)
        where TSpec : class
    {
        _view = new SpecView<TSpec>(spec);
        return this;
    }

    private T Keep<T>(T view)
        where T : class
    {
        Volatile.Write(ref _view, view);
        return view;
    }

    private interface ISpecView;

    private sealed record SpecView<T>(T? Value) : ISpecView;

    private sealed record ModelView<T>(T? Value);

    private Dictionary<string, string> ReadStringMap(string field)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        if (Metadata[field] is JsonObject map)
        {
            foreach (var (key, value) in map)
            {
                if (value is JsonValue v && v.TryGetValue<string>(out var s))
                {
                    result[key] = s;
                }
            }
        }

        return result;
    }
}

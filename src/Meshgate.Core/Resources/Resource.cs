using System.Text.Json;
using System.Text.Json.Nodes;

namespace Meshgate.Core.Resources;

/// <summary>
/// One validated object, as JSON (the form it is stored, served and printed in) with typed views.
/// Treat <see cref="Json"/> as immutable: every change goes through a copy.
/// </summary>
public sealed class Resource
{
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

    public DateTimeOffset? CreationTimestamp =>
        Metadata["creationTimestamp"]?.GetValue<string>() is { } s && DateTimeOffset.TryParse(s, out var t) ? t : null;

    /// <summary>The spec as its typed record (Istio and Gateway API kinds).</summary>
    public TSpec? Spec<TSpec>()
        where TSpec : class => Json["spec"]?.Deserialize<TSpec>(ResourceJson.Options);

    /// <summary>The whole object as a KubernetesClient model (Kubernetes' own kinds).</summary>
    public T As<T>()
        where T : class => k8s.KubernetesJson.Deserialize<T>(Json.ToJsonString());

    public Resource DeepClone() => new(Type, (JsonObject)Json.DeepClone());

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

using System.Text.Json.Nodes;
using Meshgate.Core.Resources;

namespace Meshgate.Core.Schemas;

/// <summary>
/// The <c>apiextensions.k8s.io/v1</c> CustomResourceDefinitions of the kinds that are custom resources in a real cluster
/// (Istio's and Gateway API's), built from the same OpenAPI v3 documents <c>/openapi/v3</c> serves and strict validation
/// reads, so the schema a cluster would enforce is the one Meshgate enforces. They are what <c>manifests/crds/</c> and the
/// Helm chart ship, and what the API serves read-only.
/// </summary>
public static class CustomResourceDefinitions
{
    /// <summary>The label every generated definition carries.</summary>
    public const string PartOfLabel = "app.kubernetes.io/part-of";

    private static readonly Lazy<IReadOnlyList<(ResourceType Type, JsonObject Definition)>> Generated = new(Build);

    /// <summary>The kinds that have a definition: every kind that is not one of Kubernetes' own.</summary>
    public static IEnumerable<ResourceType> Kinds => ResourceTypes.All.Where(t => !t.IsKubernetesModel);

    /// <summary>Every definition, in <see cref="ResourceTypes.All"/> order. The objects are shared: clone before changing one.</summary>
    public static IReadOnlyList<(ResourceType Type, JsonObject Definition)> All => Generated.Value;

    /// <summary>The definition named <paramref name="name"/> (<c>serviceentries.networking.istio.io</c>), or null.</summary>
    public static JsonObject? Find(string name)
    {
        foreach (var (type, definition) in All)
        {
            if (NameOf(type) == name)
            {
                return definition;
            }
        }

        return null;
    }

    /// <summary>A definition's name, as Kubernetes requires it: <c>PLURAL.GROUP</c>.</summary>
    public static string NameOf(ResourceType type) => $"{type.Plural}.{type.Group}";

    /// <summary>The file of <c>manifests/crds/</c> that holds a kind's definition: <c>networking.istio.io_serviceentries.yaml</c>.</summary>
    public static string FileNameOf(ResourceType type) => $"{type.Group}_{type.Plural}.yaml";

    private static List<(ResourceType, JsonObject)> Build()
    {
        var documents = new Dictionary<(string, string), JsonObject>();
        var result = new List<(ResourceType, JsonObject)>();
        foreach (var type in Kinds)
        {
            var versions = new JsonArray();
            foreach (var version in type.Versions)
            {
                if (!documents.TryGetValue((type.Group, version), out var document))
                {
                    documents[(type.Group, version)] = document = OpenApiDocuments.V3(type.Group, version);
                }

                var schemas = (JsonObject)document["components"]!["schemas"]!;
                var schema = Structural(schemas[ApiServing.ModelName(type, version)]!, schemas, []);
                if (schema["properties"] is JsonObject properties && properties.ContainsKey("metadata"))
                {
                    // A CRD's schema may say no more of metadata than that it is an object (the API server owns it).
                    properties["metadata"] = new JsonObject { ["type"] = "object" };
                }

                var entry = new JsonObject
                {
                    ["name"] = version,
                    ["served"] = true,
                    ["storage"] = version == type.PreferredVersion,
                    ["schema"] = new JsonObject { ["openAPIV3Schema"] = schema },
                };
                if (ApiServing.HasStatus(type))
                {
                    entry["subresources"] = new JsonObject { ["status"] = new JsonObject() };
                }

                versions.Add(entry);
            }

            var names = new JsonObject
            {
                ["kind"] = type.Kind,
                ["listKind"] = type.Kind + "List",
                ["plural"] = type.Plural,
                ["singular"] = ApiServing.Singular(type),
            };
            if (type.ShortNames.Count > 0)
            {
                names["shortNames"] = new JsonArray(type.ShortNames.Select(n => (JsonNode)n).ToArray());
            }

            var categories = ApiServing.Categories(type);
            if (categories.Count > 0)
            {
                names["categories"] = new JsonArray(categories.Select(n => (JsonNode)n).ToArray());
            }

            result.Add((type, new JsonObject
            {
                ["apiVersion"] = "apiextensions.k8s.io/v1",
                ["kind"] = "CustomResourceDefinition",
                ["metadata"] = new JsonObject
                {
                    ["name"] = NameOf(type),
                    ["labels"] = new JsonObject { [PartOfLabel] = "meshgate" },
                },
                ["spec"] = new JsonObject
                {
                    ["group"] = type.Group,
                    ["names"] = names,
                    ["scope"] = type.Namespaced ? "Namespaced" : "Cluster",
                    ["versions"] = versions,
                },
            }));
        }

        return result;
    }

    /// <summary>
    /// A schema of the OpenAPI document made structural, as a CRD requires (Kubernetes' "Specifying a structural schema"):
    /// every <c>$ref</c> inlined, and the document-only extensions (group-version-kind, patch strategies) left out.
    /// </summary>
    private static JsonObject Structural(JsonNode node, JsonObject schemas, HashSet<string> stack)
    {
        var source = (JsonObject)node;
        var result = new JsonObject();
        if (ReferenceOf(source) is { } reference)
        {
            var name = reference[(reference.LastIndexOf('/') + 1)..];
            if (!stack.Add(name))
            {
                result["type"] = "object";
                result["x-kubernetes-preserve-unknown-fields"] = true;
            }
            else
            {
                foreach (var (key, value) in Structural(schemas[name]!, schemas, stack))
                {
                    result[key] = value?.DeepClone();
                }

                stack.Remove(name);
            }
        }

        foreach (var (key, value) in source)
        {
            switch (key)
            {
                case "$ref" or "allOf" or "x-kubernetes-group-version-kind" or "x-kubernetes-patch-strategy" or "x-kubernetes-patch-merge-key":
                    break;
                case "properties":
                    var properties = new JsonObject();
                    foreach (var (property, schema) in (JsonObject)value!)
                    {
                        properties[property] = Structural(schema!, schemas, stack);
                    }

                    result[key] = properties;
                    break;
                case "items" or "additionalProperties" when value is JsonObject schema:
                    result[key] = Structural(schema, schemas, stack);
                    break;
                default:
                    result[key] = value?.DeepClone();
                    break;
            }
        }

        return result;
    }

    /// <summary>The model a schema refers to: its own <c>$ref</c>, or the one of an <c>allOf</c> wrapping a single reference.</summary>
    private static string? ReferenceOf(JsonObject schema) =>
        schema["$ref"]?.GetValue<string>()
        ?? (schema["allOf"] is JsonArray { Count: 1 } allOf ? allOf[0]?["$ref"]?.GetValue<string>() : null);
}

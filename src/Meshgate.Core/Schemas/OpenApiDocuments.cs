using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Meshgate.Core.Resources;

namespace Meshgate.Core.Schemas;

/// <summary>
/// The OpenAPI documents of the API, built from the models strict validation uses: one OpenAPI v3 document per group
/// version (<c>/openapi/v3/apis/GROUP/VERSION</c>) and the whole API as Swagger 2.0 (<c>/openapi/v2</c>). Kubernetes'
/// kinds are described model by model (<c>$ref</c>s, as kube-apiserver publishes them, with their patch strategies);
/// Istio's and Gateway API's kinds as one inline schema each, as a CRD's, with <c>metadata</c> referring to ObjectMeta.
/// Every kind carries <c>x-kubernetes-group-version-kind</c>, and its PATCH operation the content types it takes and
/// the <c>fieldValidation</c> parameter (how kubectl learns that the server validates fields).
/// </summary>
public static partial class OpenApiDocuments
{
    private const string MetaPackage = "io.k8s.apimachinery.pkg.apis.meta.v1";

    private static readonly HashSet<string> MetaModels =
        ["ObjectMeta", "ListMeta", "OwnerReference", "ManagedFieldsEntry", "LabelSelector", "LabelSelectorRequirement", "Condition"];

    /// <summary>The OpenAPI v3 document of one group version (<paramref name="group"/> "" is the core group).</summary>
    public static JsonObject V3(string group, string version)
    {
        var builder = new Builder();
        var paths = new JsonObject();
        foreach (var type in ApiServing.TypesIn(group, version))
        {
            builder.AddKind(type, version);
            AddPaths(paths, type, version);
        }

        builder.AddCommon();
        return new JsonObject
        {
            ["openapi"] = "3.0.0",
            ["info"] = new JsonObject { ["title"] = "Kubernetes", ["version"] = KubernetesVersion },
            ["paths"] = paths,
            ["components"] = new JsonObject { ["schemas"] = builder.Schemas },
        };
    }

    /// <summary>The group versions that have an OpenAPI v3 document, as <c>/openapi/v3</c> lists them: <c>api/v1</c>, <c>apis/apps/v1</c>.</summary>
    public static IEnumerable<(string Path, string Group, string Version)> GroupVersions()
    {
        yield return ("api/v1", "", "v1");
        foreach (var group in ApiServing.Groups)
        {
            foreach (var version in ApiServing.VersionsOf(group))
            {
                yield return ($"apis/{group}/{version}", group, version);
            }
        }
    }

    /// <summary>The whole API as a Swagger 2.0 document (what <c>/openapi/v2</c> serves, as JSON or as gnostic's protobuf).</summary>
    public static JsonObject V2()
    {
        var definitions = new JsonObject();
        var paths = new JsonObject();
        foreach (var (_, group, version) in GroupVersions())
        {
            var v3 = V3(group, version);
            foreach (var (name, schema) in (JsonObject)v3["components"]!["schemas"]!)
            {
                if (!definitions.ContainsKey(name))
                {
                    definitions[name] = ToV2Schema(schema);
                }
            }

            foreach (var (path, item) in (JsonObject)v3["paths"]!)
            {
                paths[path] = ToV2PathItem((JsonObject)item!);
            }
        }

        return new JsonObject
        {
            ["swagger"] = "2.0",
            ["info"] = new JsonObject { ["title"] = "Kubernetes", ["version"] = KubernetesVersion },
            ["paths"] = paths,
            ["definitions"] = definitions,
        };
    }

    /// <summary>The Kubernetes version whose API this one follows.</summary>
    public const string KubernetesVersion = "v1.32.0";

    private const string ApiVersionDescription = "APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources";
    private const string KindDescription = "Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds";
    private const string MetadataDescription = "Standard object's metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata";

    private sealed class Builder
    {
        private readonly Dictionary<Type, string> _names = [];
        private readonly Dictionary<string, Type> _types = new(StringComparer.Ordinal);

        public JsonObject Schemas { get; } = new();

        public void AddKind(ResourceType type, string version)
        {
            var name = ApiServing.ModelName(type, version);
            var gvk = new JsonArray(new JsonObject { ["group"] = type.Group, ["kind"] = type.Kind, ["version"] = version });
            JsonObject schema;
            if (type.IsKubernetesModel)
            {
                _names[type.DocumentType] = name;
                _types[name] = type.DocumentType;
                schema = ObjectSchema(type.DocumentType, inline: false, ModelPackageOf(type), [type.DocumentType]);
            }
            else
            {
                schema = ObjectSchema(type.DocumentType, inline: true, "", [type.DocumentType]);
                var specType = ModelSchema.FieldType(type.DocumentType, "spec")!;
                var description = ModelSchema.DescriptionOf(specType) ?? $"{type.Kind} ({type.Group}).";
                schema["description"] = description;
                if (schema["properties"]?["spec"] is JsonObject spec && spec["description"] is null)
                {
                    spec["description"] = description;
                }

                if (schema["properties"]?["status"] is JsonObject status)
                {
                    status["description"] = "Written by the control plane (the status subresource).";
                }
            }

            Describe(schema, "apiVersion", ApiVersionDescription);
            Describe(schema, "kind", KindDescription);
            Describe(schema, "metadata", MetadataDescription);
            schema["x-kubernetes-group-version-kind"] = gvk;
            Schemas[name] = schema;

            Schemas[name + "List"] = new JsonObject
            {
                ["description"] = $"{type.Kind}List is a list of {type.Kind}.",
                ["type"] = "object",
                ["required"] = new JsonArray("items"),
                ["properties"] = new JsonObject
                {
                    ["apiVersion"] = new JsonObject { ["type"] = "string", ["description"] = ApiVersionDescription },
                    ["items"] = new JsonObject { ["type"] = "array", ["items"] = Ref(name) },
                    ["kind"] = new JsonObject { ["type"] = "string", ["description"] = KindDescription },
                    ["metadata"] = new JsonObject { ["allOf"] = new JsonArray(Ref(MetaPackage + ".ListMeta")), ["description"] = "Standard list metadata." },
                },
                ["x-kubernetes-group-version-kind"] = new JsonArray(new JsonObject { ["group"] = type.Group, ["kind"] = type.Kind + "List", ["version"] = version }),
            };
        }

        /// <summary>The models every document refers to: ListMeta, Patch, Status, DeleteOptions.</summary>
        public void AddCommon()
        {
            RefTo(typeof(k8s.Models.V1ListMeta), "");
            Schemas[MetaPackage + ".Patch"] = new JsonObject
            {
                ["description"] = "Patch is provided to give a concrete name and type to the Kubernetes PATCH request body.",
                ["type"] = "object",
            };
            Schemas[MetaPackage + ".Status"] = new JsonObject
            {
                ["description"] = "Status is a return value for calls that don't return other objects.",
                ["type"] = "object",
                ["x-kubernetes-preserve-unknown-fields"] = true,
            };
            Schemas[MetaPackage + ".DeleteOptions"] = new JsonObject
            {
                ["description"] = "DeleteOptions may be provided when deleting an API object.",
                ["type"] = "object",
                ["x-kubernetes-preserve-unknown-fields"] = true,
            };
        }

        private static void Describe(JsonObject schema, string property, string description)
        {
            if (schema["properties"] is JsonObject properties && properties[property] is JsonObject p && p["description"] is null)
            {
                if (p["$ref"] is not null)
                {
                    properties[property] = p = new JsonObject { ["allOf"] = new JsonArray(p.DeepClone()) };
                }

                p["description"] = description;
            }
        }

        private static string ModelPackageOf(ResourceType type) => ApiServing.ModelPackage(type) + ".v1";

        private JsonObject ObjectSchema(Type type, bool inline, string package, HashSet<Type> stack)
        {
            var properties = new JsonObject();
            var required = new JsonArray();
            foreach (var field in ModelSchema.FieldsOf(type).Values)
            {
                var schema = SchemaFor(field.Type, inline, package, stack);
                var extensions = new JsonObject();
                if (PatchStrategies.For(type, field.Name) is { } strategy)
                {
                    extensions["x-kubernetes-patch-strategy"] = strategy.Strategy;
                    if (strategy.MergeKey is { } key)
                    {
                        extensions["x-kubernetes-patch-merge-key"] = key;
                    }
                }

                if (field.Description is not null)
                {
                    extensions["description"] = field.Description;
                }

                if (extensions.Count > 0 && schema["$ref"] is not null)
                {
                    schema = new JsonObject { ["allOf"] = new JsonArray(schema) };
                }

                foreach (var (key, value) in extensions)
                {
                    schema[key] = value?.DeepClone();
                }

                properties[field.Name] = schema;
                if (field.Required)
                {
                    required.Add(field.Name);
                }
            }

            var result = new JsonObject();
            if (ModelSchema.DescriptionOf(type) is { } description)
            {
                result["description"] = description;
            }

            result["type"] = "object";
            if (required.Count > 0)
            {
                result["required"] = required;
            }

            result["properties"] = properties;
            return result;
        }

        private JsonObject SchemaFor(Type type, bool inline, string package, HashSet<Type> stack)
        {
            type = ModelSchema.Unwrap(type);
            switch (ModelSchema.ShapeOf(type))
            {
                case ModelShape.String:
                    return new JsonObject { ["type"] = "string" };
                case ModelShape.Boolean:
                    return new JsonObject { ["type"] = "boolean" };
                case ModelShape.Integer:
                    return new JsonObject { ["type"] = "integer", ["format"] = type == typeof(int) || type == typeof(short) || type == typeof(byte) ? "int32" : "int64" };
                case ModelShape.Number:
                    return new JsonObject { ["type"] = "number", ["format"] = "double" };
                case ModelShape.Enum:
                    return new JsonObject { ["type"] = "string", ["enum"] = new JsonArray(ModelSchema.EnumNames(type).Select(n => (JsonNode)n).ToArray()) };
                case ModelShape.Timestamp:
                    return new JsonObject { ["type"] = "string", ["format"] = "date-time" };
                case ModelShape.Bytes:
                    return new JsonObject { ["type"] = "string", ["format"] = "byte" };
                case ModelShape.Duration:
                    return new JsonObject { ["type"] = "string", ["description"] = "A duration: a number with a unit (h, m, s, ms), such as 10s." };
                case ModelShape.IntOrString:
                    return new JsonObject { ["x-kubernetes-int-or-string"] = true };
                case ModelShape.Quantity:
                    return new JsonObject { ["x-kubernetes-int-or-string"] = true };
                case ModelShape.Free:
                    return new JsonObject { ["type"] = "object", ["x-kubernetes-preserve-unknown-fields"] = true };
                case ModelShape.Map:
                    return new JsonObject { ["type"] = "object", ["additionalProperties"] = SchemaFor(ModelSchema.MapValueType(type)!, inline, package, stack) };
                case ModelShape.List:
                    return new JsonObject { ["type"] = "array", ["items"] = SchemaFor(ModelSchema.ListItemType(type)!, inline, package, stack) };
            }

            if (type == typeof(k8s.Models.V1ObjectMeta) || !inline)
            {
                return RefTo(type, package);
            }

            if (!stack.Add(type))
            {
                return new JsonObject { ["type"] = "object", ["x-kubernetes-preserve-unknown-fields"] = true };
            }

            var schema = ObjectSchema(type, inline, package, stack);
            stack.Remove(type);
            return schema;
        }

        private JsonObject RefTo(Type type, string package)
        {
            if (!_names.TryGetValue(type, out var name))
            {
                var shortName = ShortName(type);
                var owner = MetaModels.Contains(shortName) ? MetaPackage : package.Length == 0 ? "io.k8s.api.core.v1" : package;
                if (owner != MetaPackage && owner != "io.k8s.api.core.v1" && !OwnedByPackage(shortName, owner))
                {
                    owner = "io.k8s.api.core.v1";
                }

                name = $"{owner}.{shortName}";
                for (var i = 2; _types.TryGetValue(name, out var other) && other != type; i++)
                {
                    name = $"{owner}.{shortName}{i}";
                }

                _names[type] = name;
                _types[name] = type;
                Schemas[name] = new JsonObject(); // placeholder: the model may refer to itself
                Schemas[name] = ObjectSchema(type, inline: false, owner, [type]);
            }

            return Ref(name);
        }

        /// <summary>Models named after their package's kinds (DeploymentSpec, NetworkPolicyPeer, PolicyRule) belong to it; the rest is core's.</summary>
        private static bool OwnedByPackage(string shortName, string package) => package switch
        {
            "io.k8s.api.apps.v1" => shortName.StartsWith("Deployment", StringComparison.Ordinal) || shortName == "RollingUpdateDeployment",
            "io.k8s.api.networking.v1" => shortName.StartsWith("NetworkPolicy", StringComparison.Ordinal) || shortName == "IPBlock",
            "io.k8s.api.rbac.v1" => shortName is "Role" or "RoleBinding" or "ClusterRole" or "ClusterRoleBinding" or "AggregationRule" or "PolicyRule" or "RoleRef" or "Subject",
            _ => true,
        };

        private static JsonObject Ref(string name) => new() { ["$ref"] = "#/components/schemas/" + name };
    }

    private static string ShortName(Type type) => VersionPrefix().Replace(type.Name, "");

    [GeneratedRegex("^([A-Z][a-z]*v\\d+((alpha|beta)\\d+)?|V\\d+((alpha|beta)\\d+)?)(?=[A-Z])")]
    private static partial Regex VersionPrefix();

    private static readonly JsonObject StringParameter = new() { ["type"] = "string", ["uniqueItems"] = true };

    private static JsonObject Query(string name, string description, string type = "string") => new()
    {
        ["name"] = name,
        ["in"] = "query",
        ["description"] = description,
        ["schema"] = new JsonObject { ["type"] = type, ["uniqueItems"] = true },
    };

    private static JsonObject PathParameter(string name, string description) => new()
    {
        ["name"] = name,
        ["in"] = "path",
        ["description"] = description,
        ["required"] = true,
        ["schema"] = StringParameter.DeepClone(),
    };

    private static JsonArray WriteParameters(bool patch)
    {
        var parameters = new JsonArray
        {
            Query("dryRun", "When present, indicates that modifications should not be persisted. Valid values are: - All: all dry run stages will be processed"),
            Query("fieldManager", "fieldManager is a name associated with the actor or entity that is making these changes."),
            Query("fieldValidation", "fieldValidation instructs the server on how to handle objects in the request (POST/PUT/PATCH) containing unknown or duplicate fields. Valid values are: - Ignore - Warn - Strict (the default)"),
        };
        if (patch)
        {
            parameters.Add(Query("force", "Force is going to \"force\" Apply requests. It means user will re-acquire conflicting fields owned by other people.", "boolean"));
        }

        return parameters;
    }

    private static JsonArray ListParameters() =>
    [
        Query("allowWatchBookmarks", "allowWatchBookmarks requests watch events with type \"BOOKMARK\".", "boolean"),
        Query("continue", "The continue option should be set when retrieving more results from the server."),
        Query("fieldSelector", "A selector to restrict the list of returned objects by their fields (metadata.name, metadata.namespace)."),
        Query("labelSelector", "A selector to restrict the list of returned objects by their labels."),
        Query("limit", "limit is a maximum number of responses to return for a list call.", "integer"),
        Query("resourceVersion", "resourceVersion sets a constraint on what resource versions a request may be served from."),
        Query("timeoutSeconds", "Timeout for the list/watch call.", "integer"),
        Query("watch", "Watch for changes to the described resources and return them as a stream of add, update, and remove notifications.", "boolean"),
    ];

    private static void AddPaths(JsonObject paths, ResourceType type, string version)
    {
        var prefix = type.Group.Length == 0 ? $"/api/{version}" : $"/apis/{type.Group}/{version}";
        var scope = type.Namespaced ? "/namespaces/{namespace}" : "";
        var model = ApiServing.ModelName(type, version);
        var gvk = new JsonObject { ["group"] = type.Group, ["kind"] = type.Kind, ["version"] = version };
        var id = OperationName(type, version);
        var scopeParameters = new JsonArray();
        if (type.Namespaced)
        {
            scopeParameters.Add(PathParameter("namespace", "object name and auth scope, such as for teams and projects"));
        }

        JsonObject Operation(string action, string verb, string kindSuffix, JsonArray? parameters, JsonObject? body, string responseModel, string code = "200")
        {
            var operation = new JsonObject
            {
                ["description"] = $"{action} {type.Kind}",
                ["operationId"] = $"{verb}{id}{kindSuffix}",
                ["parameters"] = parameters ?? [],
            };
            if (body is not null)
            {
                operation["requestBody"] = body;
            }

            operation["responses"] = new JsonObject
            {
                [code] = new JsonObject
                {
                    ["description"] = "OK",
                    ["content"] = new JsonObject { ["application/json"] = new JsonObject { ["schema"] = new JsonObject { ["$ref"] = "#/components/schemas/" + responseModel } } },
                },
            };
            operation["x-kubernetes-action"] = action;
            operation["x-kubernetes-group-version-kind"] = gvk.DeepClone();
            return operation;
        }

        JsonObject Body(string model) => new()
        {
            ["required"] = true,
            ["content"] = new JsonObject { ["*/*"] = new JsonObject { ["schema"] = new JsonObject { ["$ref"] = "#/components/schemas/" + model } } },
        };

        JsonObject PatchBody()
        {
            var content = new JsonObject();
            var types = new List<string> { "application/apply-patch+yaml", "application/json-patch+json", "application/merge-patch+json" };
            if (ApiServing.TakesStrategicMergePatch(type))
            {
                types.Add("application/strategic-merge-patch+json");
            }

            foreach (var contentType in types)
            {
                content[contentType] = new JsonObject { ["schema"] = new JsonObject { ["$ref"] = "#/components/schemas/" + MetaPackage + ".Patch" } };
            }

            return new JsonObject { ["required"] = true, ["content"] = content };
        }

        var scopeWord = type.Namespaced ? "Namespaced" : "";
        var collection = new JsonObject
        {
            ["get"] = Operation("list", "list" + scopeWord, "", ListParameters(), null, model + "List"),
            ["post"] = Operation("post", "create" + scopeWord, "", WriteParameters(patch: false), Body(model), model, "201"),
            ["delete"] = Operation("deletecollection", "deleteCollection" + scopeWord, "", ListParameters(), Body(MetaPackage + ".DeleteOptions"), MetaPackage + ".Status"),
            ["parameters"] = scopeParameters.DeepClone(),
        };
        paths[$"{prefix}{scope}/{type.Plural}"] = collection;

        var itemParameters = new JsonArray(PathParameter("name", $"name of the {type.Kind}"));
        foreach (var parameter in scopeParameters)
        {
            itemParameters.Add(parameter!.DeepClone());
        }

        paths[$"{prefix}{scope}/{type.Plural}/{{name}}"] = new JsonObject
        {
            ["get"] = Operation("get", "read" + scopeWord, "", null, null, model),
            ["put"] = Operation("put", "replace" + scopeWord, "", WriteParameters(patch: false), Body(model), model),
            ["patch"] = Operation("patch", "patch" + scopeWord, "", WriteParameters(patch: true), PatchBody(), model),
            ["delete"] = Operation("delete", "delete" + scopeWord, "", null, Body(MetaPackage + ".DeleteOptions"), model),
            ["parameters"] = itemParameters.DeepClone(),
        };

        if (ApiServing.HasStatus(type))
        {
            paths[$"{prefix}{scope}/{type.Plural}/{{name}}/status"] = new JsonObject
            {
                ["get"] = Operation("get", "read" + scopeWord, "Status", null, null, model),
                ["put"] = Operation("put", "replace" + scopeWord, "Status", WriteParameters(patch: false), Body(model), model),
                ["patch"] = Operation("patch", "patch" + scopeWord, "Status", WriteParameters(patch: true), PatchBody(), model),
                ["parameters"] = itemParameters.DeepClone(),
            };
        }

        if (type.Namespaced)
        {
            paths[$"{prefix}/{type.Plural}"] = new JsonObject
            {
                ["get"] = Operation("list", "list", "ForAllNamespaces", ListParameters(), null, model + "List"),
            };
        }
    }

    /// <summary><c>NetworkingIstioIoV1ServiceEntry</c>, <c>CoreV1Pod</c>: the middle of kube's operation ids.</summary>
    private static string OperationName(ResourceType type, string version)
    {
        var group = type.Group.Length == 0 ? "Core" : string.Concat(type.Group.Split('.', '-').Select(p => char.ToUpperInvariant(p[0]) + p[1..]));
        return $"{group}{char.ToUpperInvariant(version[0])}{version[1..]}{type.Kind}";
    }

    /// <summary>A v3 schema as Swagger 2.0 writes it: <c>#/definitions/</c>, <c>$ref</c> beside its description, int-or-string as a format.</summary>
    private static JsonNode? ToV2Schema(JsonNode? node)
    {
        switch (node)
        {
            case JsonArray array:
                return new JsonArray(array.Select(ToV2Schema).ToArray());
            case JsonObject schema:
                {
                    var result = new JsonObject();
                    if (schema["allOf"] is JsonArray { Count: 1 } allOf && allOf[0]?["$ref"] is { } wrapped)
                    {
                        result["$ref"] = ToV2Ref(wrapped.ToString());
                    }

                    foreach (var (key, value) in schema)
                    {
                        switch (key)
                        {
                            case "allOf" when result.ContainsKey("$ref"):
                            case "x-kubernetes-preserve-unknown-fields":
                                break;
                            case "$ref":
                                result["$ref"] = ToV2Ref(value!.ToString());
                                break;
                            case "x-kubernetes-int-or-string":
                                result["type"] = "string";
                                result["format"] = "int-or-string";
                                break;
                            case "properties":
                                result[key] = new JsonObject(((JsonObject)value!).Select(p => KeyValuePair.Create(p.Key, ToV2Schema(p.Value))));
                                break;
                            case "items" or "additionalProperties":
                                result[key] = ToV2Schema(value);
                                break;
                            default:
                                result[key] = value?.DeepClone();
                                break;
                        }
                    }

                    return result;
                }

            default:
                return node?.DeepClone();
        }
    }

    private static string ToV2Ref(string reference) => reference.Replace("#/components/schemas/", "#/definitions/", StringComparison.Ordinal);

    private static JsonObject ToV2PathItem(JsonObject item)
    {
        var result = new JsonObject();
        foreach (var (method, value) in item)
        {
            if (method == "parameters")
            {
                result[method] = new JsonArray(((JsonArray)value!).Select(p => (JsonNode)ToV2Parameter((JsonObject)p!)).ToArray());
                continue;
            }

            var operation = (JsonObject)value!;
            var converted = new JsonObject
            {
                ["description"] = operation["description"]?.DeepClone(),
                ["operationId"] = operation["operationId"]?.DeepClone(),
                ["consumes"] = operation["requestBody"]?["content"] is JsonObject content
                    ? new JsonArray(content.Select(c => (JsonNode)c.Key).ToArray())
                    : new JsonArray("*/*"),
                ["produces"] = new JsonArray("application/json", "application/yaml"),
                ["schemes"] = new JsonArray("https"),
            };
            var parameters = new JsonArray(((JsonArray?)operation["parameters"] ?? []).Select(p => (JsonNode)ToV2Parameter((JsonObject)p!)).ToArray());
            if (operation["requestBody"]?["content"] is JsonObject bodyContent && bodyContent.First().Value?["schema"] is { } bodySchema)
            {
                parameters.Add(new JsonObject { ["name"] = "body", ["in"] = "body", ["required"] = true, ["schema"] = ToV2Schema(bodySchema) });
            }

            converted["parameters"] = parameters;
            var responses = new JsonObject();
            foreach (var (code, response) in (JsonObject)operation["responses"]!)
            {
                responses[code] = new JsonObject
                {
                    ["description"] = response?["description"]?.DeepClone(),
                    ["schema"] = ToV2Schema(response?["content"]?["application/json"]?["schema"]),
                };
            }

            converted["responses"] = responses;
            converted["x-kubernetes-action"] = operation["x-kubernetes-action"]?.DeepClone();
            converted["x-kubernetes-group-version-kind"] = operation["x-kubernetes-group-version-kind"]?.DeepClone();
            result[method] = converted;
        }

        return result;
    }

    private static JsonObject ToV2Parameter(JsonObject parameter)
    {
        var result = new JsonObject
        {
            ["name"] = parameter["name"]?.DeepClone(),
            ["in"] = parameter["in"]?.DeepClone(),
            ["description"] = parameter["description"]?.DeepClone(),
        };
        if (parameter["required"] is { } required)
        {
            result["required"] = required.DeepClone();
        }

        result["type"] = parameter["schema"]?["type"]?.DeepClone() ?? "string";
        result["uniqueItems"] = true;
        return result;
    }
}

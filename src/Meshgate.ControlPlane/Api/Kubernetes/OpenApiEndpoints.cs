using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Google.Protobuf;
using Meshgate.Core.Schemas;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using V2 = Openapi.V2;

namespace Meshgate.ControlPlane.Api.Kubernetes;

/// <summary>
/// <c>/openapi/v2</c> (JSON, or gnostic's <c>openapi_v2.Document</c> protobuf when asked, which kubectl does) and
/// <c>/openapi/v3</c> (the index of group versions, each <c>/openapi/v3/apis/GROUP/VERSION?hash=...</c>), built once
/// from <see cref="OpenApiDocuments"/>.
/// </summary>
internal static class OpenApiEndpoints
{
    /// <summary>kubectl asks for <c>...spec.v2@v1.0+protobuf</c>; kube-apiserver answers with this spelling, which Go's MIME parser reads.</summary>
    private const string ProtobufV2 = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf";

    private static readonly Lazy<byte[]> V2Json = new(() => Encoding.UTF8.GetBytes(OpenApiDocuments.V2().ToJsonString()));
    private static readonly Lazy<byte[]> V2Protobuf = new(() => ToProtobuf(OpenApiDocuments.V2()).ToByteArray());
    private static readonly Lazy<IReadOnlyDictionary<string, (byte[] Body, string Hash)>> V3 = new(BuildV3);

    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/openapi/v2", async context =>
        {
            var accept = context.Request.Headers.Accept.ToString();
            var protobuf = MediaType.ParseList(accept).Any(m => m.Type.StartsWith("application/com.github.proto-openapi.spec.v2", StringComparison.Ordinal));
            context.Response.ContentType = protobuf ? ProtobufV2 : "application/json";
            context.Response.Headers.ETag = "\"" + Hash(V2Json.Value) + "\"";
            await context.Response.Body.WriteAsync(protobuf ? V2Protobuf.Value : V2Json.Value, context.RequestAborted);
        });
        app.MapGet("/openapi/v3", context =>
        {
            var paths = new JsonObject();
            foreach (var (path, (_, hash)) in V3.Value)
            {
                paths[path] = new JsonObject { ["serverRelativeURL"] = $"/openapi/v3/{path}?hash={hash}" };
            }

            return KubernetesApi.WriteJsonAsync(context, new JsonObject { ["paths"] = paths });
        });
        app.MapGet("/openapi/v3/{**path}", async context =>
        {
            var path = context.GetRouteValue("path") as string ?? "";
            if (!V3.Value.TryGetValue(path.Trim('/'), out var document))
            {
                await KubernetesApi.WriteStatusAsync(context, new Status($"the server could not find the requested resource (OpenAPI v3 of {path})", "NotFound", 404));
                return;
            }

            context.Response.ContentType = "application/json";
            context.Response.Headers.ETag = "\"" + document.Hash + "\"";
            if (context.Request.Query.ContainsKey("hash"))
            {
                context.Response.Headers.CacheControl = "public, immutable";
            }

            await context.Response.Body.WriteAsync(document.Body, context.RequestAborted);
        });
    }

    private static Dictionary<string, (byte[] Body, string Hash)> BuildV3()
    {
        var documents = new Dictionary<string, (byte[], string)>(StringComparer.Ordinal);
        foreach (var (path, group, version) in OpenApiDocuments.GroupVersions())
        {
            var body = Encoding.UTF8.GetBytes(OpenApiDocuments.V3(group, version).ToJsonString());
            documents[path] = (body, Hash(body));
        }

        return documents;
    }

    private static string Hash(byte[] body) => Convert.ToHexString(SHA512.HashData(body));

    /// <summary>The Swagger 2.0 JSON as gnostic's protobuf (what kube-openapi and kubectl read).</summary>
    internal static V2.Document ToProtobuf(JsonObject document)
    {
        var result = new V2.Document
        {
            Swagger = document["swagger"]!.ToString(),
            Info = new V2.Info { Title = document["info"]!["title"]!.ToString(), Version = document["info"]!["version"]!.ToString() },
            Paths = new V2.Paths(),
            Definitions = new V2.Definitions(),
        };
        foreach (var (path, item) in (JsonObject)document["paths"]!)
        {
            result.Paths.Path.Add(new V2.NamedPathItem { Name = path, Value = PathItem((JsonObject)item!) });
        }

        foreach (var (name, schema) in (JsonObject)document["definitions"]!)
        {
            result.Definitions.AdditionalProperties.Add(new V2.NamedSchema { Name = name, Value = Schema((JsonObject)schema!) });
        }

        return result;
    }

    private static V2.PathItem PathItem(JsonObject item)
    {
        var result = new V2.PathItem();
        foreach (var (key, value) in item)
        {
            switch (key)
            {
                case "parameters":
                    result.Parameters.AddRange(((JsonArray)value!).Select(p => Parameter((JsonObject)p!)));
                    break;
                case "get":
                    result.Get = Operation((JsonObject)value!);
                    break;
                case "put":
                    result.Put = Operation((JsonObject)value!);
                    break;
                case "post":
                    result.Post = Operation((JsonObject)value!);
                    break;
                case "delete":
                    result.Delete = Operation((JsonObject)value!);
                    break;
                case "patch":
                    result.Patch = Operation((JsonObject)value!);
                    break;
            }
        }

        return result;
    }

    private static V2.Operation Operation(JsonObject operation)
    {
        var result = new V2.Operation
        {
            Description = operation["description"]?.ToString() ?? "",
            OperationId = operation["operationId"]?.ToString() ?? "",
            Responses = new V2.Responses(),
        };
        result.Consumes.AddRange(Strings(operation["consumes"]));
        result.Produces.AddRange(Strings(operation["produces"]));
        result.Schemes.AddRange(Strings(operation["schemes"]));
        result.Parameters.AddRange(((JsonArray?)operation["parameters"] ?? []).Select(p => Parameter((JsonObject)p!)));
        foreach (var (code, response) in (JsonObject?)operation["responses"] ?? [])
        {
            var value = new V2.Response { Description = response?["description"]?.ToString() ?? "" };
            if (response?["schema"] is JsonObject schema)
            {
                value.Schema = new V2.SchemaItem { Schema = Schema(schema) };
            }

            result.Responses.ResponseCode.Add(new V2.NamedResponseValue { Name = code, Value = new V2.ResponseValue { Response = value } });
        }

        foreach (var (key, value) in operation)
        {
            if (key.StartsWith("x-", StringComparison.Ordinal))
            {
                result.VendorExtension.Add(Extension(key, value));
            }
        }

        return result;
    }

    private static V2.ParametersItem Parameter(JsonObject parameter)
    {
        var name = parameter["name"]?.ToString() ?? "";
        var description = parameter["description"]?.ToString() ?? "";
        var required = parameter["required"]?.GetValue<bool>() ?? false;
        var location = parameter["in"]?.ToString() ?? "query";
        V2.Parameter result;
        if (location == "body")
        {
            result = new V2.Parameter
            {
                BodyParameter = new V2.BodyParameter { Name = name, In = location, Description = description, Required = required, Schema = Schema((JsonObject)parameter["schema"]!) },
            };
        }
        else if (location == "path")
        {
            result = new V2.Parameter
            {
                NonBodyParameter = new V2.NonBodyParameter
                {
                    PathParameterSubSchema = new V2.PathParameterSubSchema { Name = name, In = location, Description = description, Required = required, Type = parameter["type"]?.ToString() ?? "string", UniqueItems = true },
                },
            };
        }
        else
        {
            result = new V2.Parameter
            {
                NonBodyParameter = new V2.NonBodyParameter
                {
                    QueryParameterSubSchema = new V2.QueryParameterSubSchema { Name = name, In = location, Description = description, Required = required, Type = parameter["type"]?.ToString() ?? "string", UniqueItems = true },
                },
            };
        }

        return new V2.ParametersItem { Parameter = result };
    }

    private static V2.Schema Schema(JsonObject schema)
    {
        var result = new V2.Schema();
        foreach (var (key, value) in schema)
        {
            switch (key)
            {
                case "$ref":
                    result.Ref = value!.ToString();
                    break;
                case "description":
                    result.Description = value!.ToString();
                    break;
                case "format":
                    result.Format = value!.ToString();
                    break;
                case "type":
                    result.Type = new V2.TypeItem();
                    result.Type.Value.Add(value!.ToString());
                    break;
                case "required":
                    result.Required.AddRange(Strings(value));
                    break;
                case "enum":
                    result.Enum.AddRange(((JsonArray)value!).Select(v => new V2.Any { Yaml = v!.ToJsonString() }));
                    break;
                case "items":
                    result.Items = new V2.ItemsItem();
                    result.Items.Schema.Add(Schema((JsonObject)value!));
                    break;
                case "properties":
                    result.Properties = new V2.Properties();
                    foreach (var (name, property) in (JsonObject)value!)
                    {
                        result.Properties.AdditionalProperties.Add(new V2.NamedSchema { Name = name, Value = Schema((JsonObject)property!) });
                    }

                    break;
                case "additionalProperties":
                    result.AdditionalProperties = new V2.AdditionalPropertiesItem { Schema = Schema((JsonObject)value!) };
                    break;
                case "allOf":
                    result.AllOf.AddRange(((JsonArray)value!).Select(s => Schema((JsonObject)s!)));
                    break;
                case var extension when extension.StartsWith("x-", StringComparison.Ordinal):
                    result.VendorExtension.Add(Extension(extension, value));
                    break;
            }
        }

        return result;
    }

    /// <summary>A vendor extension; gnostic keeps its value as YAML (JSON is YAML).</summary>
    private static V2.NamedAny Extension(string name, JsonNode? value) =>
        new() { Name = name, Value = new V2.Any { Yaml = value?.ToJsonString() ?? "null" } };

    private static IEnumerable<string> Strings(JsonNode? node) => (node as JsonArray)?.Select(v => v!.ToString()) ?? [];
}

using System.Text.Json;
using System.Text.Json.Nodes;
using Meshgate.ControlPlane.Store;
using Meshgate.Core.Patching;
using Meshgate.Core.Resources;
using Microsoft.AspNetCore.Http;

namespace Meshgate.ControlPlane.Api.Kubernetes;

public sealed partial class KubernetesApi
{
    /// <summary>
    /// A Deployment's <c>scale</c> subresource (<c>autoscaling/v1 Scale</c>), which <c>kubectl scale</c> reads and
    /// patches: its <c>spec.replicas</c> is the Deployment's.
    /// </summary>
    private async Task ScaleAsync(HttpContext context, ApiPath path)
    {
        var method = context.Request.Method;
        if (HttpMethods.IsGet(method))
        {
            var resource = _store.Current.Get(path.Key) ?? throw ApiError.NotFound(path.Type!, path.Name!);
            await WriteJsonAsync(context, Scale(resource));
            return;
        }

        if (!HttpMethods.IsPut(method) && !HttpMethods.IsPatch(method))
        {
            throw ApiError.MethodNotAllowed($"{method} is not allowed on {path.Type!.Plural}/scale (get, update, patch)");
        }

        var options = WriteOptions.From(context);
        var contentType = MediaType.Parse(context.Request.ContentType).Type;
        JsonNode? body;
        try
        {
            body = contentType == KubernetesProtobuf.ContentType ? KubernetesProtobuf.Decode(await ReadBytesAsync(context)) : ApiJson.ParseBody(await ReadTextAsync(context));
        }
        catch (JsonException e)
        {
            throw ApiError.BadRequest($"the body of the request is not valid JSON: {e.Message}");
        }

        string? previousVersion = null;
        var outcome = _store.Write(path.Key, existing =>
        {
            if (existing is null)
            {
                throw ApiError.NotFound(path.Type!, path.Name!);
            }

            previousVersion = existing.Metadata["resourceVersion"]?.ToString();
            var scale = Scale(existing);
            JsonNode? updated;
            try
            {
                updated = HttpMethods.IsPut(method) ? body : contentType switch
                {
                    "application/merge-patch+json" => JsonMergePatch.Apply(scale, body),
                    "application/json-patch+json" => JsonPatch.Apply(scale, body),
                    "application/strategic-merge-patch+json" => JsonMergePatch.Apply(scale, body),
                    _ => throw ApiError.UnsupportedMediaType("a Scale takes application/merge-patch+json, application/json-patch+json or application/strategic-merge-patch+json"),
                };
            }
            catch (PatchException e)
            {
                throw ApiError.BadRequest(e.Message);
            }

            CheckPreconditions(existing, updated?["metadata"]?["resourceVersion"]?.ToString(), updated?["metadata"]?["uid"]?.ToString());
            if (updated?["spec"]?["replicas"] is not JsonValue replicas || !replicas.TryGetValue<int>(out var count) || count < 0)
            {
                throw ApiError.Invalid(path.Type!, path.Name!, [new StatusCause("must be a non-negative integer", "spec.replicas", "FieldValueInvalid")]);
            }

            var json = (JsonObject)existing.Json.DeepClone();
            var spec = json["spec"] as JsonObject ?? [];
            spec["replicas"] = count;
            json["spec"] = spec;
            return new WriteRequest(new Resource(existing.Type, (JsonObject)JsonNode.Parse(json.ToJsonString())!));
        }, options.DryRun);
        var result = Scale(outcome.Object);
        if (options.DryRun && previousVersion is not null)
        {
            result["metadata"]!["resourceVersion"] = previousVersion;
        }

        await WriteJsonAsync(context, result);
    }

    private static JsonObject Scale(Resource deployment)
    {
        var metadata = new JsonObject();
        foreach (var field in new[] { "name", "namespace", "uid", "resourceVersion", "creationTimestamp" })
        {
            if (deployment.Metadata[field] is { } value)
            {
                metadata[field] = value.DeepClone();
            }
        }

        var selector = deployment.Json["spec"]?["selector"]?["matchLabels"] as JsonObject;
        return new JsonObject
        {
            ["kind"] = "Scale",
            ["apiVersion"] = "autoscaling/v1",
            ["metadata"] = metadata,
            ["spec"] = new JsonObject { ["replicas"] = deployment.Json["spec"]?["replicas"]?.DeepClone() ?? 1 },
            ["status"] = new JsonObject
            {
                ["replicas"] = deployment.Json["status"]?["replicas"]?.DeepClone() ?? 0,
                ["selector"] = selector is null ? "" : string.Join(",", selector.Select(p => $"{p.Key}={p.Value}")),
            },
        };
    }
}

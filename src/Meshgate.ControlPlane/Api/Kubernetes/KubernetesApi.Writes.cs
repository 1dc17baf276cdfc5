using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Meshgate.ControlPlane.Store;
using Meshgate.Core.Patching;
using Meshgate.Core.Resources;
using Meshgate.Core.Validation;
using Meshgate.Core.Yaml;
using Microsoft.AspNetCore.Http;

namespace Meshgate.ControlPlane.Api.Kubernetes;

public sealed partial class KubernetesApi
{
    private const string JsonPatchType = "application/json-patch+json";
    private const string MergePatchType = "application/merge-patch+json";
    private const string StrategicMergePatchType = "application/strategic-merge-patch+json";
    private const string ApplyPatchType = "application/apply-patch+yaml";

    /// <summary>The query options of a write: <c>dryRun</c>, <c>fieldValidation</c>, <c>fieldManager</c>, <c>force</c>.</summary>
    private sealed record WriteOptions(bool DryRun, FieldValidation FieldValidation, string? FieldManager, bool Force)
    {
        public static WriteOptions From(HttpContext context)
        {
            var query = context.Request.Query;
            var dryRun = false;
            foreach (var value in query["dryRun"])
            {
                dryRun = value switch
                {
                    "All" => true,
                    "" => dryRun,
                    _ => throw ApiError.BadRequest($"dryRun: Unsupported value: \"{value}\": supported values: \"All\""),
                };
            }

            var validation = query["fieldValidation"].ToString() switch
            {
                "" or "Strict" => FieldValidation.Strict,
                "Warn" => FieldValidation.Warn,
                "Ignore" => FieldValidation.Ignore,
                var other => throw ApiError.BadRequest($"fieldValidation: Unsupported value: \"{other}\": supported values: \"Ignore\", \"Strict\", \"Warn\""),
            };
            var manager = query["fieldManager"].ToString();
            if (manager.Length > 128)
            {
                throw ApiError.BadRequest("fieldManager: Too long: may not be longer than 128");
            }

            return new WriteOptions(dryRun, validation, manager.Length == 0 ? null : manager, IsTrue(query["force"]));
        }
    }

    private async Task CreateAsync(HttpContext context, ApiPath path)
    {
        var options = WriteOptions.From(context);
        var body = await ReadObjectAsync(context);
        var type = path.Type!;
        CheckKind(body, type, path.Version!);
        var metadata = body["metadata"] as JsonObject ?? throw ApiError.BadRequest("metadata is required");
        var ns = metadata["namespace"]?.ToString();
        if (type.Namespaced && path.Namespace is not null)
        {
            if (!string.IsNullOrEmpty(ns) && ns != path.Namespace)
            {
                throw ApiError.BadRequest("the namespace of the provided object does not match the namespace sent on the request");
            }

            metadata["namespace"] = path.Namespace;
        }

        if (metadata["name"] is null && metadata["generateName"]?.ToString() is { Length: > 0 } prefix)
        {
            metadata["name"] = prefix + RandomSuffix();
        }

        var (resource, warnings) = Validate(body, type, path.Namespace, options.FieldValidation);
        var outcome = _store.Write(resource.Key, existing => existing is null
            ? new WriteRequest(resource)
            : throw ApiError.AlreadyExists(type, resource.Name), options.DryRun);
        AddWarnings(context, warnings);
        await WriteWrittenAsync(context, path, outcome.Object, options.DryRun, previousVersion: null, 201);
    }

    private async Task UpdateAsync(HttpContext context, ApiPath path)
    {
        var options = WriteOptions.From(context);
        var body = await ReadObjectAsync(context);
        var type = path.Type!;
        CheckKind(body, type, path.Version!);
        CheckIdentity(body, path);
        var expected = body["metadata"]?["resourceVersion"]?.ToString();
        var uid = body["metadata"]?["uid"]?.ToString();
        var (resource, warnings) = Validate(body, type, path.Namespace, options.FieldValidation);
        string? previousVersion = null;
        var outcome = _store.Write(path.Key, existing =>
        {
            if (existing is null)
            {
                throw ApiError.NotFound(type, path.Name!);
            }

            CheckPreconditions(existing, expected, uid);
            previousVersion = existing.Metadata["resourceVersion"]?.ToString();
            return path.Subresource == "status" ? WithStatusOf(existing, body) : new WriteRequest(resource);
        }, options.DryRun);
        AddWarnings(context, warnings);
        await WriteWrittenAsync(context, path, outcome.Object, options.DryRun, previousVersion, 200);
    }

    private async Task PatchAsync(HttpContext context, ApiPath path)
    {
        var options = WriteOptions.From(context);
        var type = path.Type!;
        var contentType = MediaType.Parse(context.Request.ContentType).Type;
        var accepted = ApiServing.TakesStrategicMergePatch(type)
            ? new[] { JsonPatchType, MergePatchType, ApplyPatchType, StrategicMergePatchType }
            : [JsonPatchType, MergePatchType, ApplyPatchType];
        if (!accepted.Contains(contentType))
        {
            throw ApiError.UnsupportedMediaType($"the body of the request was in an unknown format - accepted media types include: {string.Join(", ", accepted)}");
        }

        var text = await ReadTextAsync(context);
        JsonNode? patch;
        try
        {
            patch = contentType == ApplyPatchType ? ReadYamlObject(text) : ApiJson.ParseBody(text);
        }
        catch (JsonException e)
        {
            throw ApiError.BadRequest($"error decoding patch: {e.Message}");
        }

        if (contentType == ApplyPatchType)
        {
            if (options.FieldManager is null)
            {
                throw ApiError.BadRequest("PATCH, application/apply-patch+yaml requests need the fieldManager parameter (kubectl sends it)");
            }

            if (path.Subresource is not null)
            {
                throw ApiError.MethodNotAllowed("server-side apply to the status subresource is not supported; apply the object, or update its status");
            }
        }

        IReadOnlyList<ValidationError> warnings = [];
        string? previousVersion = null;
        var created = false;
        var outcome = _store.Write(path.Key, existing =>
        {
            if (existing is null && contentType != ApplyPatchType)
            {
                throw ApiError.NotFound(type, path.Name!);
            }

            previousVersion = existing?.Metadata["resourceVersion"]?.ToString();
            var current = existing is null ? null : Served.Clone(existing, path.Version!);
            JsonObject patched;
            try
            {
                patched = contentType switch
                {
                    MergePatchType => JsonMergePatch.Apply(current, patch) as JsonObject,
                    JsonPatchType => JsonPatch.Apply(current, patch) as JsonObject,
                    StrategicMergePatchType => StrategicMergePatch.Apply(current!, patch, type.DocumentType),
                    _ => ServerApply(existing, patch, path, options),
                } ?? throw ApiError.BadRequest("the patched object is not an object");
            }
            catch (PatchException e)
            {
                throw e.Malformed
                    ? ApiError.BadRequest(e.Message)
                    : new ApiError(new Status($"the patch cannot be applied to {type.Resource} \"{path.Name}\": {e.Message}", "Invalid", 422, new StatusDetails(Name: path.Name, Group: type.Group, Kind: type.Kind)));
            }

            CheckKind(patched, type, path.Version!);
            CheckIdentity(patched, path, patch: true);
            if (existing is not null)
            {
                CheckPreconditions(existing, patched["metadata"]?["resourceVersion"]?.ToString(), patched["metadata"]?["uid"]?.ToString());
            }

            var managedFields = patched["metadata"]?["managedFields"]?.DeepClone();
            var (resource, found) = Validate(patched, type, path.Namespace, options.FieldValidation);
            warnings = found;
            if (path.Subresource == "status")
            {
                return WithStatusOf(existing!, patched);
            }

            if (contentType == ApplyPatchType && managedFields is not null)
            {
                var json = (JsonObject)resource.Json.DeepClone();
                ((JsonObject)json["metadata"]!)["managedFields"] = managedFields;
                resource = resource.WithSameSpec(json);
            }

            created = existing is null;
            return new WriteRequest(resource);
        }, options.DryRun);
        AddWarnings(context, warnings);
        await WriteWrittenAsync(context, path, outcome.Object, options.DryRun, previousVersion, created ? 201 : 200);
    }

    /// <summary>Server-side apply of <paramref name="patch"/> on <paramref name="existing"/> (<see cref="ServerSideApply"/>).</summary>
    private JsonObject ServerApply(Resource? existing, JsonNode? patch, ApiPath path, WriteOptions options)
    {
        var type = path.Type!;
        if (patch is not JsonObject applied)
        {
            throw ApiError.BadRequest("an applied configuration is an object with apiVersion, kind and metadata.name");
        }

        CheckKind(applied, type, path.Version!, required: true);
        CheckIdentity(applied, path, patch: true);
        if (applied["metadata"]?["name"] is null)
        {
            throw ApiError.BadRequest("metadata.name: Required value: name is required");
        }

        var live = existing is null ? null : Served.Clone(existing, path.Version!);
        var result = ServerSideApply.Apply(live, applied, type.DocumentType, options.FieldManager!, options.Force, _time.GetUtcNow());
        if (result.Conflicts.Count > 0)
        {
            throw new ApiError(new Status(ServerSideApply.Describe(result.Conflicts), "Conflict", 409, new StatusDetails(
                result.Conflicts.Select(c => new StatusCause($"conflict with \"{c.Manager}\" using {c.ApiVersion}", c.Field, "FieldManagerConflict")).ToList(),
                path.Name, type.Group, type.Kind)));
        }

        var merged = result.Object;
        if (type.Namespaced && merged["metadata"] is JsonObject metadata)
        {
            metadata["namespace"] ??= path.Namespace;
        }

        return merged;
    }

    private async Task DeleteAsync(HttpContext context, ApiPath path)
    {
        var options = await ReadDeleteOptionsAsync(context);
        var type = path.Type!;
        var deleted = _store.DeleteOne(path.Key, existing =>
        {
            if (options.Preconditions?["uid"]?.ToString() is { Length: > 0 } uid && uid != existing.Metadata["uid"]?.ToString())
            {
                throw ApiError.Conflict(type, path.Name!, $"Precondition failed: UID in precondition: {uid}, UID in object meta: {existing.Metadata["uid"]}");
            }

            if (options.Preconditions?["resourceVersion"]?.ToString() is { Length: > 0 } rv && rv != existing.Metadata["resourceVersion"]?.ToString())
            {
                throw ApiError.Conflict(type, path.Name!, $"Precondition failed: ResourceVersion in precondition: {rv}, ResourceVersion in object meta: {existing.Metadata["resourceVersion"]}");
            }
        }, options.DryRun) ?? throw ApiError.NotFound(type, path.Name!);
        await WriteJsonAsync(context, Served.Clone(deleted, path.Version!));
    }

    private async Task DeleteCollectionAsync(HttpContext context, ApiPath path)
    {
        var type = path.Type!;
        if (!type.Namespaced)
        {
            throw ApiError.MethodNotAllowed($"deleting every {type.Kind} at once is not allowed; name them");
        }

        var options = await ReadDeleteOptionsAsync(context);
        var (items, _) = Select(context, path, _store.Current, paginate: false);
        var deleted = _store.Delete(items.Select(i => i.Key).ToList(), options.DryRun).Where(d => d.Deleted).Select(d => d.Key).ToHashSet();
        var version = path.Version!;
        await WriteJsonAsync(context, new JsonObject
        {
            ["apiVersion"] = type.ApiVersion(version),
            ["kind"] = type.Kind + "List",
            ["metadata"] = ListMetadata(_store.Current.Revision, null),
            ["items"] = new JsonArray(items.Where(i => deleted.Contains(i.Key)).Select(i => (JsonNode)Served.Clone(i, version)).ToArray()),
        });
    }

    private sealed record DeleteOptions(bool DryRun, JsonObject? Preconditions);

    private static async Task<DeleteOptions> ReadDeleteOptionsAsync(HttpContext context)
    {
        if (MediaType.Parse(context.Request.ContentType).Type == KubernetesProtobuf.ContentType)
        {
            var options = KubernetesProtobuf.Decode(await ReadBytesAsync(context));
            return new DeleteOptions(WriteOptions.From(context).DryRun || (options["dryRun"] as JsonArray)?.Any(v => v?.ToString() == "All") == true, options["preconditions"] as JsonObject);
        }

        var text = await ReadTextAsync(context);
        JsonObject? body = null;
        if (text.Trim().Length > 0)
        {
            try
            {
                body = ApiJson.ParseBody(text) as JsonObject ?? throw ApiError.BadRequest("DeleteOptions is a JSON object");
            }
            catch (JsonException e)
            {
                throw ApiError.BadRequest($"DeleteOptions is not valid JSON: {e.Message}");
            }
        }

        var policy = body?["propagationPolicy"]?.ToString() ?? context.Request.Query["propagationPolicy"].ToString();
        if (policy is not ("" or "Orphan" or "Background" or "Foreground"))
        {
            throw ApiError.BadRequest($"propagationPolicy: Unsupported value: \"{policy}\": supported values: \"Foreground\", \"Background\", \"Orphan\"");
        }

        var dryRun = WriteOptions.From(context).DryRun || (body?["dryRun"] as JsonArray)?.Any(v => v?.ToString() == "All") == true;
        return new DeleteOptions(dryRun, body?["preconditions"] as JsonObject);
    }

    /// <summary>The object with <paramref name="body"/>'s status and everything else as stored (the status subresource).</summary>
    private static WriteRequest WithStatusOf(Resource existing, JsonObject body)
    {
        var json = (JsonObject)existing.Json.DeepClone();
        if (body["status"] is { } status)
        {
            json["status"] = status.DeepClone();
        }
        else
        {
            json.Remove("status");
        }

        return new WriteRequest(existing.WithSameSpec(json), WithStatus: true);
    }

    private static void CheckPreconditions(Resource existing, string? resourceVersion, string? uid)
    {
        if (!string.IsNullOrEmpty(resourceVersion) && resourceVersion != existing.Metadata["resourceVersion"]?.ToString())
        {
            throw ApiError.Conflict(existing.Type, existing.Name, "the object has been modified; please apply your changes to the latest version and try again");
        }

        if (!string.IsNullOrEmpty(uid) && uid != existing.Metadata["uid"]?.ToString())
        {
            throw ApiError.Conflict(existing.Type, existing.Name, $"Precondition failed: UID in precondition: {uid}, UID in object meta: {existing.Metadata["uid"]}");
        }
    }

    /// <summary>The body names the URL's group and kind (any served version of it); missing ones are taken from the URL.</summary>
    private static void CheckKind(JsonObject body, ResourceType type, string version, bool required = false)
    {
        var apiVersion = body["apiVersion"]?.ToString();
        var kind = body["kind"]?.ToString();
        if (required && (apiVersion is null || kind is null))
        {
            throw ApiError.BadRequest("apiVersion and kind are required");
        }

        if (apiVersion is null)
        {
            body["apiVersion"] = type.ApiVersion(version);
        }
        else
        {
            var slash = apiVersion.IndexOf('/');
            var group = slash < 0 ? "" : apiVersion[..slash];
            var bodyVersion = slash < 0 ? apiVersion : apiVersion[(slash + 1)..];
            if (group != type.Group || !type.Versions.Contains(bodyVersion))
            {
                throw ApiError.BadRequest($"the API version in the data ({apiVersion}) does not match the expected API version ({type.ApiVersion(version)})");
            }
        }

        if (kind is null)
        {
            body["kind"] = type.Kind;
        }
        else if (kind != type.Kind)
        {
            throw ApiError.BadRequest($"the kind in the data ({kind}) does not match the expected kind ({type.Kind})");
        }
    }

    /// <summary>The body is the object the URL names (its name, and its namespace when it says one).</summary>
    private static void CheckIdentity(JsonObject body, ApiPath path, bool patch = false)
    {
        var metadata = body["metadata"] as JsonObject;
        var name = metadata?["name"]?.ToString();
        if (name is not null && name != path.Name)
        {
            throw patch
                ? ApiError.Invalid(path.Type!, path.Name!, [new StatusCause($"Invalid value: \"{name}\": field is immutable", "metadata.name", "FieldValueInvalid")])
                : ApiError.BadRequest($"the name of the object ({name}) does not match the name on the URL ({path.Name})");
        }

        if (name is null && !patch)
        {
            metadata ??= new JsonObject();
            body["metadata"] = metadata;
            metadata["name"] = path.Name;
        }

        if (path.Type!.Namespaced && metadata?["namespace"]?.ToString() is { Length: > 0 } ns && ns != path.Namespace)
        {
            throw ApiError.BadRequest("the namespace of the provided object does not match the namespace sent on the request");
        }
    }

    /// <summary>Strict validation of one object, as files are validated, with <paramref name="mode"/> for unknown fields.</summary>
    private static (Resource Resource, IReadOnlyList<ValidationError> Warnings) Validate(JsonObject body, ResourceType type, string? ns, FieldValidation mode)
    {
        var document = new SourceDocument("request", 1, 1, body, YamlPositions.None);
        var result = ResourceParser.Parse(document, ns ?? "default", enforceNamespace: false, mode);
        var name = body["metadata"]?["name"]?.ToString() ?? "";
        if (!result.Ok)
        {
            var causes = result.Errors.Where(e => !e.IsWarning).Select(e => new StatusCause(e.Message, e.Path, Reason(e))).ToList();
            throw ApiError.Invalid(type, name, causes);
        }

        if (result.Resources.Count != 1 || result.Resources[0].Type != type)
        {
            throw ApiError.BadRequest($"the body is not one {type.Kind}");
        }

        return (result.Resources[0], result.Errors.Where(e => e.IsWarning).ToList());
    }

    private static string Reason(ValidationError error) => error.Message switch
    {
        var m when m.StartsWith("required field is missing", StringComparison.Ordinal) => "FieldValueRequired",
        var m when m.StartsWith("unknown field", StringComparison.Ordinal) => "FieldValueInvalid",
        var m when m.Contains("is not one of", StringComparison.Ordinal) => "FieldValueNotSupported",
        _ => "FieldValueInvalid",
    };

    /// <summary>Warnings go back as <c>Warning: 299 - "..."</c> headers, which kubectl prints as <c>Warning: ...</c>.</summary>
    private static void AddWarnings(HttpContext context, IReadOnlyList<ValidationError> warnings)
    {
        foreach (var warning in warnings)
        {
            var text = (warning.Path.Length == 0 ? warning.Message : $"{warning.Path}: {warning.Message}").Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal);
            context.Response.Headers.Append("Warning", $"299 - \"{text}\"");
        }
    }

    private async Task WriteWrittenAsync(HttpContext context, ApiPath path, Resource written, bool dryRun, string? previousVersion, int status)
    {
        var json = Served.Clone(written, path.Version!);
        if (dryRun && json["metadata"] is JsonObject metadata)
        {
            // Nothing was stored: the object keeps the version it had (none when it would be created).
            if (previousVersion is null)
            {
                metadata.Remove("resourceVersion");
            }
            else
            {
                metadata["resourceVersion"] = previousVersion;
            }
        }

        await WriteJsonAsync(context, json, status);
    }

    private static async Task<byte[]> ReadBytesAsync(HttpContext context)
    {
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer, context.RequestAborted);
        return buffer.ToArray();
    }

    private static async Task<string> ReadTextAsync(HttpContext context)
    {
        using var reader = new StreamReader(context.Request.Body);
        return await reader.ReadToEndAsync(context.RequestAborted);
    }

    /// <summary>A create or update body: JSON, or YAML (<c>application/yaml</c>); protobuf is refused (415).</summary>
    private static async Task<JsonObject> ReadObjectAsync(HttpContext context)
    {
        var contentType = MediaType.Parse(context.Request.ContentType).Type;
        if (contentType == KubernetesProtobuf.ContentType)
        {
            return KubernetesProtobuf.Decode(await ReadBytesAsync(context));
        }

        if (contentType is not ("" or "application/json" or "application/yaml" or "text/plain" or "*/*"))
        {
            throw ApiError.UnsupportedMediaType($"the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf (got {contentType})");
        }

        var text = await ReadTextAsync(context);
        try
        {
            return (contentType == "application/yaml" ? ReadYamlObject(text) : ApiJson.ParseBody(text)) as JsonObject
                ?? throw ApiError.BadRequest("the body is not an object");
        }
        catch (JsonException e)
        {
            throw ApiError.BadRequest($"the body of the request is not valid JSON: {e.Message}");
        }
    }

    private static JsonNode? ReadYamlObject(string text)
    {
        try
        {
            var documents = YamlReader.Read(text, "request");
            return documents.Count == 1 ? documents[0].Root : throw ApiError.BadRequest($"expected one object, got {documents.Count} documents");
        }
        catch (YamlFormatException e)
        {
            throw ApiError.BadRequest($"error decoding YAML: {e.Message}");
        }
    }

    private static string RandomSuffix()
    {
        const string alphabet = "bcdfghjklmnpqrstvwxz2456789";
        return string.Create(5, 0, (span, _) =>
        {
            for (var i = 0; i < span.Length; i++)
            {
                span[i] = alphabet[RandomNumberGenerator.GetInt32(alphabet.Length)];
            }
        });
    }
}

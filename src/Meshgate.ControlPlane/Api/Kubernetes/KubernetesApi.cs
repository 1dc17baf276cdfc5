using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Meshgate.ControlPlane.Store;
using Meshgate.Core.Resources;
using Meshgate.Core.Yaml;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Meshgate.ControlPlane.Api.Kubernetes;

/// <summary>
/// The Kubernetes API for the kinds the store holds, as kube-apiserver serves it to kubectl and client libraries:
/// discovery, OpenAPI, get/list/watch (with server-side Tables), create, update, patch (JSON, merge, strategic merge,
/// server-side apply), delete and deletecollection, the status subresource, dry runs and field validation, every error
/// a <c>Status</c>. docs/kubernetes-api.md says what is served and what is simplified.
/// </summary>
public sealed partial class KubernetesApi
{
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly ResourceStore _store;
    private readonly TimeProvider _time;

    private KubernetesApi(ResourceStore store, TimeProvider time)
    {
        _store = store;
        _time = time;
    }

    /// <summary>How often a watch that asked for bookmarks gets one while nothing changes.</summary>
    internal static TimeSpan BookmarkInterval { get; set; } = TimeSpan.FromSeconds(30);

    public static void Map(IEndpointRouteBuilder app, ResourceStore store, TimeProvider time)
    {
        var api = new KubernetesApi(store, time);
        app.MapGet("/api", context => api.Guard(context, () => api.DiscoveryRoot(context, core: true)));
        app.MapGet("/apis", context => api.Guard(context, () => api.DiscoveryRoot(context, core: false)));
        app.Map("/api/{**path}", context => api.Guard(context, () => api.HandleAsync(context, core: true)));
        app.Map("/apis/{**path}", context => api.Guard(context, () => api.HandleAsync(context, core: false)));
        OpenApiEndpoints.Map(app);
    }

    /// <summary>Runs a handler; a refusal becomes its <c>Status</c> (unless a stream already started).</summary>
    private async Task Guard(HttpContext context, Func<Task> handler)
    {
        try
        {
            await handler();
        }
        catch (ApiError e) when (!context.Response.HasStarted)
        {
            await WriteStatusAsync(context, e.Status);
        }
        catch (StoreException e) when (!context.Response.HasStarted)
        {
            await WriteStatusAsync(context, ApiError.From(e).Status);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // the client went away
        }
    }

    internal static Task WriteStatusAsync(HttpContext context, Status status)
    {
        context.Response.Clear();
        context.Response.StatusCode = status.Code;
        return context.Response.WriteAsJsonAsync(status, ApiJson.Options);
    }

    private Task DiscoveryRoot(HttpContext context, bool core)
    {
        if (Discovery.AggregatedVersion(context.Request.Headers.Accept) is { } version)
        {
            return WriteJsonAsync(context, Discovery.Aggregated(core, version), contentType: Discovery.AggregatedContentType(version));
        }

        return WriteJsonAsync(context, core ? Discovery.ApiVersions(context.Request.Host.Value ?? "127.0.0.1") : Discovery.GroupList());
    }

    private async Task HandleAsync(HttpContext context, bool core)
    {
        var path = ApiPath.Parse(core, context.GetRouteValue("path") as string);
        var method = context.Request.Method;
        if (path.Type is null)
        {
            if (!HttpMethods.IsGet(method))
            {
                throw ApiError.MethodNotAllowed($"{method} is not allowed on a discovery document");
            }

            await WriteJsonAsync(context, path.Version is null ? Discovery.Group(path.Group) : Discovery.ResourceList(path.Group, path.Version));
            return;
        }

        if (path.Subresource == "scale" && path.Type == ResourceTypes.Deployment && path.Name is not null && path.Namespace is not null)
        {
            await ScaleAsync(context, path);
            return;
        }

        if (path.Subresource is { } subresource && (subresource != "status" || !ApiServing.HasStatus(path.Type)))
        {
            throw ApiError.NoResource($"{path.Type.Plural}/{subresource}");
        }

        if (path.Type.Namespaced && path.Namespace is null && (path.Name is not null || !(HttpMethods.IsGet(method) || HttpMethods.IsPost(method))))
        {
            throw ApiError.NoResource($"{path.Type.Resource} outside a namespace (use /namespaces/NAMESPACE/{path.Type.Plural})");
        }

        switch (method)
        {
            case var m when HttpMethods.IsGet(m) && path.IsCollection:
                if (IsTrue(context.Request.Query["watch"]))
                {
                    await WatchAsync(context, path);
                }
                else
                {
                    await ListAsync(context, path);
                }

                break;
            case var m when HttpMethods.IsGet(m):
                await GetAsync(context, path);
                break;
            case var m when HttpMethods.IsPost(m) && path.IsCollection:
                await CreateAsync(context, path);
                break;
            case var m when HttpMethods.IsPut(m) && !path.IsCollection:
                await UpdateAsync(context, path);
                break;
            case var m when HttpMethods.IsPatch(m) && !path.IsCollection:
                await PatchAsync(context, path);
                break;
            case var m when HttpMethods.IsDelete(m) && path.Subresource is null:
                if (path.IsCollection)
                {
                    await DeleteCollectionAsync(context, path);
                }
                else
                {
                    await DeleteAsync(context, path);
                }

                break;
            default:
                throw ApiError.MethodNotAllowed($"the server does not allow this method on the requested resource ({method} {(path.IsCollection ? path.Type.Plural : $"{path.Type.Plural}/{path.Name}")}{(path.Subresource is null ? "" : "/" + path.Subresource)})");
        }
    }

    private static bool IsTrue(string? value) => value is "true" or "1" or "True";

    private async Task GetAsync(HttpContext context, ApiPath path)
    {
        var negotiated = Negotiated.Choose(context.Request.Headers.Accept, list: false);
        var set = _store.Current;
        var resource = set.Get(path.Key) ?? throw ApiError.NotFound(path.Type!, path.Name!);
        await WriteResourcesAsync(context, path, negotiated, [resource], single: true, set.Revision, null);
    }

    private async Task ListAsync(HttpContext context, ApiPath path)
    {
        var negotiated = Negotiated.Choose(context.Request.Headers.Accept, list: true);
        var set = _store.Current;
        var (items, continueToken) = Select(context, path, set, paginate: true);
        await WriteResourcesAsync(context, path, negotiated, items, single: false, set.Revision, continueToken);
    }

    /// <summary>The objects a list names: its namespace, label and field selectors, then <c>limit</c> and <c>continue</c>.</summary>
    private static (List<Resource> Items, string? Continue) Select(HttpContext context, ApiPath path, ResourceSet set, bool paginate)
    {
        var query = context.Request.Query;
        var labels = LabelSelector.Everything;
        if (query["labelSelector"].ToString() is { Length: > 0 } labelText && !LabelSelector.TryParse(labelText, out labels, out var labelError))
        {
            throw ApiError.BadRequest($"unable to parse requirement: {labelError ?? "invalid label selector"}");
        }

        var fields = FieldSelector.Parse(query["fieldSelector"], path.Type!);
        var candidates = set.List(path.Type!, path.Type!.Namespaced ? path.Namespace : null);
        IEnumerable<Resource> matching = candidates.Where(r => labels.Matches(r.Labels) && fields.Matches(r.Json));
        if (!paginate)
        {
            return (matching.ToList(), null);
        }

        if (query["continue"].ToString() is { Length: > 0 } token)
        {
            var (ns, name) = ReadContinue(token);
            matching = matching.Where(r => string.CompareOrdinal(r.Namespace, ns) > 0 || (r.Namespace == ns && string.CompareOrdinal(r.Name, name) > 0));
        }

        var items = matching.ToList();
        if (int.TryParse(query["limit"], NumberStyles.None, CultureInfo.InvariantCulture, out var limit) && limit > 0 && items.Count > limit)
        {
            var last = items[limit - 1];
            return (items[..limit], WriteContinue(set.Revision, last.Namespace, last.Name));
        }

        return (items, null);
    }

    private static string WriteContinue(long revision, string ns, string name) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes(new JsonObject { ["v"] = "meta.k8s.io/v1", ["rv"] = revision, ["ns"] = ns, ["start"] = name }.ToJsonString()));

    private static (string Namespace, string Name) ReadContinue(string token)
    {
        try
        {
            var json = JsonNode.Parse(Encoding.UTF8.GetString(Convert.FromBase64String(token)))!;
            return (json["ns"]!.GetValue<string>(), json["start"]!.GetValue<string>());
        }
        // ArgumentException: a name given twice in the token's object (read leniently, it throws when first looked up).
        catch (Exception e) when (e is FormatException or JsonException or NullReferenceException or InvalidOperationException or ArgumentException)
        {
            throw ApiError.BadRequest($"continue key is not valid: {e.Message}");
        }
    }

    /// <summary>Writes one object or a list in the negotiated form.</summary>
    private async Task WriteResourcesAsync(HttpContext context, ApiPath path, Negotiated negotiated, IReadOnlyList<Resource> items, bool single, long revision, string? continueToken, int status = 200)
    {
        var type = path.Type!;
        var version = path.Version!;
        switch (negotiated.Representation)
        {
            case Representation.Table:
                await WriteJsonAsync(context, Tables.Table(type, version, items, negotiated.MetaVersion, context.Request.Query["includeObject"], revision, continueToken, _time.GetUtcNow()), status,
                    $"application/json;as=Table;v={negotiated.MetaVersion};g=meta.k8s.io");
                return;
            case Representation.PartialObjectMetadata:
                await WriteJsonAsync(context, Tables.PartialObjectMetadata(items[0], negotiated.MetaVersion), status,
                    $"application/json;as=PartialObjectMetadata;v={negotiated.MetaVersion};g=meta.k8s.io");
                return;
            case Representation.PartialObjectMetadataList:
                await WriteJsonAsync(context, new JsonObject
                {
                    ["kind"] = "PartialObjectMetadataList",
                    ["apiVersion"] = "meta.k8s.io/" + negotiated.MetaVersion,
                    ["metadata"] = ListMetadata(revision, continueToken),
                    ["items"] = new JsonArray(items.Select(i => (JsonNode)Tables.PartialObjectMetadata(i, negotiated.MetaVersion)).ToArray()),
                }, status, $"application/json;as=PartialObjectMetadataList;v={negotiated.MetaVersion};g=meta.k8s.io");
                return;
            case Representation.Yaml:
                var document = single ? Served.Clone(items[0], version) : new JsonObject
                {
                    ["apiVersion"] = type.ApiVersion(version),
                    ["kind"] = type.Kind + "List",
                    ["metadata"] = ListMetadata(revision, continueToken),
                    ["items"] = new JsonArray(items.Select(i => (JsonNode)Served.Clone(i, version)).ToArray()),
                };
                context.Response.StatusCode = status;
                context.Response.ContentType = "application/yaml";
                await context.Response.WriteAsync(YamlWriter.Write(document), context.RequestAborted);
                return;
        }

        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        var writer = new Utf8JsonWriter(context.Response.BodyWriter, WriterOptions);
        if (single)
        {
            Served.View(items[0], version).WriteTo(writer);
        }
        else
        {
            // Streamed from the stored objects: a list of thousands is not copied first.
            writer.WriteStartObject();
            writer.WriteString("apiVersion", type.ApiVersion(version));
            writer.WriteString("kind", type.Kind + "List");
            writer.WritePropertyName("metadata");
            ListMetadata(revision, continueToken).WriteTo(writer);
            writer.WriteStartArray("items");
            foreach (var item in items)
            {
                Served.View(item, version).WriteTo(writer);
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        await writer.FlushAsync(context.RequestAborted);
        await context.Response.BodyWriter.FlushAsync(context.RequestAborted);
    }

    private static JsonObject ListMetadata(long revision, string? continueToken)
    {
        var metadata = new JsonObject { ["resourceVersion"] = revision.ToString(CultureInfo.InvariantCulture) };
        if (continueToken is not null)
        {
            metadata["continue"] = continueToken;
        }

        return metadata;
    }

    internal static async Task WriteJsonAsync(HttpContext context, JsonNode node, int status = 200, string contentType = "application/json")
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = contentType;
        var writer = new Utf8JsonWriter(context.Response.BodyWriter, WriterOptions);
        node.WriteTo(writer);
        await writer.FlushAsync(context.RequestAborted);
        await context.Response.BodyWriter.FlushAsync(context.RequestAborted);
    }
}

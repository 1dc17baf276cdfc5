using System.Buffers;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Meshgate.ControlPlane.Store;
using Meshgate.Core.Resources;
using Microsoft.AspNetCore.Http;

namespace Meshgate.ControlPlane.Api.Kubernetes;

public sealed partial class KubernetesApi
{
    /// <summary>
    /// <c>?watch=true</c>: newline-delimited <c>{"type": "ADDED|MODIFIED|DELETED|BOOKMARK", "object": ...}</c> in commit
    /// order, from the store's change feed. Without a <c>resourceVersion</c> (or with 0) the current objects come first as
    /// ADDED; from a version the feed no longer holds, 410 Expired. Under a Table Accept header each event carries a
    /// one-row Table (the first with the column definitions).
    /// </summary>
    private async Task WatchAsync(HttpContext context, ApiPath path)
    {
        var query = context.Request.Query;
        var type = path.Type!;
        var version = path.Version!;
        var negotiated = Negotiated.Choose(context.Request.Headers.Accept, list: false);
        var labels = LabelSelector.Everything;
        if (query["labelSelector"].ToString() is { Length: > 0 } labelText && !LabelSelector.TryParse(labelText, out labels, out var labelError))
        {
            throw ApiError.BadRequest($"unable to parse requirement: {labelError ?? "invalid label selector"}");
        }

        var fields = FieldSelector.Parse(query["fieldSelector"], type);
        var bookmarks = IsTrue(query["allowWatchBookmarks"]);
        var sendInitial = query["sendInitialEvents"].ToString() is { Length: > 0 } initialText ? IsTrue(initialText) : (bool?)null;
        var set = _store.Current;
        var resourceVersion = query["resourceVersion"].ToString();
        long start;
        bool initial;
        if (resourceVersion is "" or "0")
        {
            start = set.Revision;
            initial = sendInitial ?? true;
        }
        else if (long.TryParse(resourceVersion, NumberStyles.None, CultureInfo.InvariantCulture, out start))
        {
            initial = sendInitial ?? false;
            if (initial)
            {
                start = set.Revision;
            }
            else if (!_store.Changes.CanWatchFrom(start))
            {
                throw ApiError.Expired($"too old resource version: {start} ({set.Revision})");
            }
        }
        else
        {
            throw ApiError.BadRequest($"invalid resourceVersion \"{resourceVersion}\"");
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        if (int.TryParse(query["timeoutSeconds"], NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) && seconds > 0)
        {
            timeout.CancelAfter(TimeSpan.FromSeconds(seconds));
        }

        var cancel = timeout.Token;
        bool Matches(Resource r) => r.Type == type && (!type.Namespaced || path.Namespace is null || r.Namespace == path.Namespace)
            && labels.Matches(r.Labels) && fields.Matches(r.Json);

        // Subscribe before anything is sent, so no change between the snapshot and the stream is lost.
        var changes = Channel.CreateUnbounded<Change>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        var pump = Task.Run(async () =>
        {
            try
            {
                await foreach (var change in _store.Changes.WatchAsync(start, cancel))
                {
                    await changes.Writer.WriteAsync(change, cancel);
                }

                changes.Writer.TryComplete();
            }
            catch (Exception e)
            {
                changes.Writer.TryComplete(e);
            }
        }, CancellationToken.None);

        var table = negotiated.Representation == Representation.Table;
        context.Response.StatusCode = 200;
        context.Response.ContentType = table ? $"application/json;as=Table;v={negotiated.MetaVersion};g=meta.k8s.io" : "application/json";
        context.Response.Headers.CacheControl = "no-cache, private";
        await context.Response.StartAsync(cancel);
        var columnsSent = false;

        async Task SendAsync(string eventType, Resource resource, long? deletedAt = null)
        {
            JsonNode obj;
            if (table)
            {
                obj = Tables.Table(type, version, [resource], negotiated.MetaVersion, query["includeObject"], deletedAt ?? resource.ResourceVersion, null, _time.GetUtcNow(), withColumns: !columnsSent);
                columnsSent = true;
            }
            else if (negotiated.Representation == Representation.PartialObjectMetadata)
            {
                obj = Tables.PartialObjectMetadata(resource, negotiated.MetaVersion);
            }
            else
            {
                obj = deletedAt is null ? Served.View(resource, version) : Served.Clone(resource, version);
            }

            if (deletedAt is { } revision)
            {
                // A deletion is an event of its own revision, as kube-apiserver reports it.
                var metadata = table ? ((obj["rows"] as JsonArray)?[0]?["object"]?["metadata"] as JsonObject) : obj["metadata"] as JsonObject;
                metadata?["resourceVersion"] = revision.ToString(CultureInfo.InvariantCulture);
            }

            await WriteEventAsync(context, eventType, obj, cancel);
        }

        async Task BookmarkAsync(long revision, bool initialEventsEnd = false)
        {
            var metadata = new JsonObject { ["resourceVersion"] = revision.ToString(CultureInfo.InvariantCulture) };
            if (initialEventsEnd)
            {
                metadata["annotations"] = new JsonObject { ["k8s.io/initial-events-end"] = "true" };
            }

            var obj = table
                ? new JsonObject { ["kind"] = "Table", ["apiVersion"] = "meta.k8s.io/" + negotiated.MetaVersion, ["metadata"] = metadata, ["columnDefinitions"] = new JsonArray(), ["rows"] = new JsonArray() }
                : new JsonObject { ["kind"] = type.Kind, ["apiVersion"] = type.ApiVersion(version), ["metadata"] = metadata };
            await WriteEventAsync(context, "BOOKMARK", obj, cancel);
        }

        try
        {
            // Which objects this watch has shown: one that stops matching the selectors is reported deleted.
            var visible = new HashSet<ObjectKey>();
            foreach (var resource in set.List(type, type.Namespaced ? path.Namespace : null).Where(Matches))
            {
                visible.Add(resource.Key);
                if (initial)
                {
                    await SendAsync("ADDED", resource);
                }
            }

            if (initial && sendInitial == true && bookmarks)
            {
                await BookmarkAsync(set.Revision, initialEventsEnd: true);
            }

            var reader = changes.Reader;
            while (!cancel.IsCancellationRequested)
            {
                Change change;
                using (var tick = CancellationTokenSource.CreateLinkedTokenSource(cancel))
                {
                    if (bookmarks)
                    {
                        tick.CancelAfter(BookmarkInterval);
                    }

                    try
                    {
                        change = await reader.ReadAsync(tick.Token);
                    }
                    catch (OperationCanceledException) when (!cancel.IsCancellationRequested)
                    {
                        await BookmarkAsync(_store.Current.Revision);
                        continue;
                    }
                    catch (ChannelClosedException e) when (e.InnerException is StoreException expired)
                    {
                        await WriteEventAsync(context, "ERROR", JsonSerializer.SerializeToNode(new Status(expired.Message, expired.Reason, expired.Code), ApiJson.Options)!, cancel);
                        return;
                    }
                }

                var resource = change.Object;
                if (resource.Type != type)
                {
                    continue;
                }

                var matches = Matches(resource);
                switch (change.Type)
                {
                    case ChangeType.Deleted when visible.Remove(resource.Key) | matches:
                        await SendAsync("DELETED", resource, change.Revision);
                        break;
                    case ChangeType.Added when matches:
                        visible.Add(resource.Key);
                        await SendAsync("ADDED", resource);
                        break;
                    case ChangeType.Modified when matches:
                        await SendAsync(visible.Add(resource.Key) ? "ADDED" : "MODIFIED", resource);
                        break;
                    case ChangeType.Modified when visible.Remove(resource.Key):
                        // It no longer matches the selectors: gone from this watch's view.
                        await SendAsync("DELETED", resource, change.Revision);
                        break;
                }
            }
        }
        catch (OperationCanceledException)
        {
            // the timeout passed, or the client went away: the stream simply ends
        }
        catch (ChannelClosedException)
        {
            // the store is closing
        }
        finally
        {
            await timeout.CancelAsync();
            await pump;
        }
    }

    private static async Task WriteEventAsync(HttpContext context, string type, JsonNode obj, CancellationToken cancellationToken)
    {
        var writer = new Utf8JsonWriter(context.Response.BodyWriter, WriterOptions);
        writer.WriteStartObject();
        writer.WriteString("type", type);
        writer.WritePropertyName("object");
        obj.WriteTo(writer);
        writer.WriteEndObject();
        await writer.FlushAsync(cancellationToken);
        context.Response.BodyWriter.Write("\n"u8);
        await context.Response.BodyWriter.FlushAsync(cancellationToken);
    }
}

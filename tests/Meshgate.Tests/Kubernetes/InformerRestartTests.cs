using System.Net;
using System.Text.Json;
using System.Text.Json.Serialization;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Meshgate.ControlPlane;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace Meshgate.Tests.Kubernetes;

/// <summary>
/// A KubernetesClient informer's list and watch of ServiceEntries (the loop client-go's reflector runs: list, watch from
/// the list's resourceVersion, resume from the last event's, list again after 410 Gone) across a control-plane restart
/// on the same data directory and port: it sees every change once, in order, with resourceVersions that keep growing.
/// </summary>
public sealed class InformerRestartTests : IAsyncLifetime
{
    private const string Group = "networking.istio.io";
    private const string Version = "v1";
    private const string Plural = "serviceentries";
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    private readonly string _data = Directory.CreateTempSubdirectory("meshgate-informer-").FullName;
    private ControlPlaneServer? _server;
    private int _port;

    public async Task InitializeAsync() => await StartAsync();

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        Directory.Delete(_data, recursive: true);
    }

    /// <summary>Starts the control plane on the data directory; after the first start, on the same port.</summary>
    private async Task StartAsync()
    {
        _server = ControlPlaneServer.Create(
            new ControlPlaneOptions { DataDirectory = _data, ApiEndpoint = new IPEndPoint(IPAddress.Loopback, _port), DiscoveryEndpoint = new IPEndPoint(IPAddress.Loopback, 0) },
            NullLoggerFactory.Instance);
        await _server.StartAsync();
        _port = _server.ApiAddress.Port;
    }

    private async Task RestartAsync()
    {
        await _server!.DisposeAsync();
        _server = null;
        await StartAsync();
    }

    private k8s.Kubernetes Client() => new(ApiAccess.ClientConfiguration(_server!));

    [Fact]
    [Obsolete("WatchAsync is obsolete in KubernetesClient; it is what its informers use")]
    public async Task Informer_AcrossARestart_SeesEveryChangeOnceInOrder()
    {
        using var timeout = new CancellationTokenSource(Deadline);
        var informer = new Informer(new k8s.Kubernetes(ApiAccess.ClientConfiguration(_server!)));
        var running = informer.RunAsync(timeout.Token);
        await informer.WaitForSyncAsync(timeout.Token);

        using (var client = Client())
        {
            await CreateAsync(client, "a", "a.example.com");
            await PatchAsync(client, "a", "a2.example.com");
            await CreateAsync(client, "b", "b.example.com");
        }

        await informer.WaitForEventsAsync(3, timeout.Token);
        var revisionBefore = _server!.Store.Current.Revision;
        await RestartAsync();
        var revisionAfter = _server!.Store.Current.Revision;

        using (var client = Client())
        {
            await PatchAsync(client, "b", "b2.example.com");
            await client.CustomObjects.DeleteNamespacedCustomObjectAsync(Group, Version, "default", Plural, "a", cancellationToken: timeout.Token);
            await CreateAsync(client, "c", "c.example.com");
        }

        await informer.WaitForEventsAsync(6, timeout.Token);
        await timeout.CancelAsync();
        await running;

        var events = informer.Events;
        Assert.Equal(
            ["Added a a.example.com", "Modified a a2.example.com", "Added b b.example.com", "Modified b b2.example.com", "Deleted a a2.example.com", "Added c c.example.com"],
            events.Select(e => e.Text));
        var versions = events.Select(e => long.Parse(e.ResourceVersion, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(versions.Order(), versions);
        Assert.Equal(versions.Count, versions.Distinct().Count());
        Assert.Equal(revisionBefore, revisionAfter); // the revision survives the restart (and no write happened at start)
        Assert.True(versions[3] > revisionBefore, $"a change after the restart has resourceVersion {versions[3]}, not above {revisionBefore}");
    }

    [Fact]
    [Obsolete("WatchAsync is obsolete in KubernetesClient; it is what its informers use")]
    public async Task Watch_FromARevisionBeforeTheRestart_IsExpired()
    {
        using var timeout = new CancellationTokenSource(Deadline);
        using (var client = Client())
        {
            await CreateAsync(client, "a", "a.example.com");
            await PatchAsync(client, "a", "a2.example.com");
        }

        var before = _server!.Store.Current.Revision;
        await RestartAsync();
        using var restarted = Client();

        // The feed of the new run starts after its revision: a watch from before it would silently miss the changes in
        // between, so it is told to list again (410), as kube-apiserver tells a client whose version was compacted.
        var expired = await Assert.ThrowsAsync<HttpOperationException>(async () =>
        {
            var watch = restarted.CustomObjects.ListNamespacedCustomObjectWithHttpMessagesAsync<ServiceEntryList>(
                Group, Version, "default", Plural, watch: true, resourceVersion: (before - 1).ToString(System.Globalization.CultureInfo.InvariantCulture), cancellationToken: timeout.Token);
            await foreach (var _ in watch.WatchAsync<ServiceEntryObject, ServiceEntryList>(cancellationToken: timeout.Token))
            {
                Assert.Fail("a watch from before the restart's revision delivered an event");
            }
        });
        Assert.Equal(HttpStatusCode.Gone, expired.Response.StatusCode);
        Assert.Contains("\"reason\":\"Expired\"", expired.Response.Content);

        // From the revision itself nothing was missed: the watch is served.
        var watch = restarted.CustomObjects.ListNamespacedCustomObjectWithHttpMessagesAsync<ServiceEntryList>(
            Group, Version, "default", Plural, watch: true, resourceVersion: before.ToString(System.Globalization.CultureInfo.InvariantCulture), cancellationToken: timeout.Token);
        var writes = Task.Run(() => CreateAsync(restarted, "b", "b.example.com"), timeout.Token);
        await foreach (var (type, item) in watch.WatchAsync<ServiceEntryObject, ServiceEntryList>(cancellationToken: timeout.Token))
        {
            Assert.Equal((WatchEventType.Added, "b"), (type, item.Metadata.Name));
            break;
        }

        await writes;
    }

    private static Task CreateAsync(k8s.Kubernetes client, string name, string host) =>
        client.CustomObjects.CreateNamespacedCustomObjectAsync(
            new Dictionary<string, object>
            {
                ["apiVersion"] = $"{Group}/{Version}",
                ["kind"] = "ServiceEntry",
                ["metadata"] = new Dictionary<string, object> { ["name"] = name, ["namespace"] = "default" },
                ["spec"] = new Dictionary<string, object> { ["hosts"] = new[] { host }, ["resolution"] = "DNS", ["ports"] = new[] { new Dictionary<string, object> { ["number"] = 80, ["name"] = "http", ["protocol"] = "HTTP" } } },
            },
            Group, Version, "default", Plural);

    private static Task PatchAsync(k8s.Kubernetes client, string name, string host) =>
        client.CustomObjects.PatchNamespacedCustomObjectAsync(
            new V1Patch(JsonSerializer.Serialize(new { spec = new { hosts = new[] { host } } }), V1Patch.PatchType.MergePatch), Group, Version, "default", Plural, name);

    /// <summary>One event as the informer delivered it: <c>TYPE NAME HOST</c>, and its resourceVersion.</summary>
    private sealed record InformerEvent(string Text, string ResourceVersion);

    /// <summary>
    /// The reflector of client-go (tools/cache/reflector.go) in small: list, then watch from the list's resourceVersion;
    /// when the watch ends or the server is gone, watch again from the last resourceVersion seen; on 410 Gone, list again
    /// and deliver the difference from what it holds (as its DeltaFIFO's Replace does). A retry after a refused connection
    /// waits 50 ms (client-go backs off too); the loop ends with the token.
    /// </summary>
    private sealed class Informer(k8s.Kubernetes client)
    {
        private readonly Dictionary<string, ServiceEntryObject> _known = [];
        private readonly List<InformerEvent> _events = [];
        private readonly TaskCompletionSource _synced = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public IReadOnlyList<InformerEvent> Events
        {
            get
            {
                lock (_events)
                {
                    return [.. _events];
                }
            }
        }

        public int Relists { get; private set; }

        public Task WaitForSyncAsync(CancellationToken cancellationToken) => _synced.Task.WaitAsync(cancellationToken);

        public async Task WaitForEventsAsync(int count, CancellationToken cancellationToken)
        {
            while (Events.Count < count)
            {
                if (cancellationToken.IsCancellationRequested)
                {
                    Assert.Fail($"the informer saw {Events.Count} events, not {count}, before the deadline: {string.Join("; ", Events.Select(e => e.Text))}");
                }

                await Task.Delay(20, CancellationToken.None);
            }
        }

        [Obsolete("WatchAsync is obsolete in KubernetesClient; it is what its informers use")]
        public async Task RunAsync(CancellationToken cancellationToken)
        {
            string? version = null;
            using (client)
            {
                while (!cancellationToken.IsCancellationRequested)
                {
                    try
                    {
                        version ??= await ListAsync(cancellationToken);
                        var watch = client.CustomObjects.ListNamespacedCustomObjectWithHttpMessagesAsync<ServiceEntryList>(
                            Group, Version, "default", Plural, watch: true, resourceVersion: version, allowWatchBookmarks: true, cancellationToken: cancellationToken);
                        await foreach (var (type, item) in watch.WatchAsync<ServiceEntryObject, ServiceEntryList>(cancellationToken: cancellationToken))
                        {
                            if (type == WatchEventType.Error)
                            {
                                version = null; // an expired version arrives as an ERROR event too: list again
                                break;
                            }

                            if (type != WatchEventType.Bookmark)
                            {
                                Deliver(type.ToString(), item);
                            }

                            version = item.Metadata.ResourceVersion;
                        }
                    }
                    catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Gone)
                    {
                        version = null;
                    }
                    catch (Exception e) when (!cancellationToken.IsCancellationRequested && e is HttpRequestException or IOException or HttpOperationException)
                    {
                        // The control plane is restarting: try again from the same version.
                        await Task.Delay(50, CancellationToken.None);
                    }
                    catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                    {
                    }
                }
            }
        }

        private async Task<string> ListAsync(CancellationToken cancellationToken)
        {
            var list = await client.CustomObjects.ListNamespacedCustomObjectAsync<ServiceEntryList>(Group, Version, "default", Plural, cancellationToken: cancellationToken);
            if (_synced.Task.IsCompleted)
            {
                Relists++;
            }

            var listed = list.Items.ToDictionary(i => i.Metadata.Name);
            foreach (var (name, gone) in _known.Where(k => !listed.ContainsKey(k.Key)).ToList())
            {
                Deliver("Deleted", gone);
            }

            foreach (var item in list.Items)
            {
                if (!_known.TryGetValue(item.Metadata.Name, out var held))
                {
                    Deliver("Added", item);
                }
                else if (held.Metadata.ResourceVersion != item.Metadata.ResourceVersion)
                {
                    Deliver("Modified", item);
                }
            }

            _synced.TrySetResult();
            return list.Metadata.ResourceVersion;
        }

        private void Deliver(string type, ServiceEntryObject item)
        {
            if (type == "Deleted")
            {
                _known.Remove(item.Metadata.Name);
            }
            else
            {
                _known[item.Metadata.Name] = item;
            }

            var host = item.Spec.TryGetProperty("hosts", out var hosts) ? hosts[0].GetString() : "";
            lock (_events)
            {
                _events.Add(new InformerEvent($"{type} {item.Metadata.Name} {host}", item.Metadata.ResourceVersion));
            }
        }
    }

    public sealed class ServiceEntryObject : IKubernetesObject<V1ObjectMeta>
    {
        [JsonPropertyName("apiVersion")]
        public string ApiVersion { get; set; } = "";

        [JsonPropertyName("kind")]
        public string Kind { get; set; } = "";

        [JsonPropertyName("metadata")]
        public V1ObjectMeta Metadata { get; set; } = new();

        [JsonPropertyName("spec")]
        public JsonElement Spec { get; set; }
    }

    public sealed class ServiceEntryList : IKubernetesObject<V1ListMeta>, IItems<ServiceEntryObject>
    {
        [JsonPropertyName("apiVersion")]
        public string ApiVersion { get; set; } = "";

        [JsonPropertyName("kind")]
        public string Kind { get; set; } = "";

        [JsonPropertyName("metadata")]
        public V1ListMeta Metadata { get; set; } = new();

        [JsonPropertyName("items")]
        public IList<ServiceEntryObject> Items { get; set; } = [];
    }
}

using k8s;
using k8s.Autorest;
using k8s.Models;
using Meshgate.Tests.Commands;
using Xunit;

namespace Meshgate.Tests.Kubernetes;

/// <summary>The KubernetesClient library (what .NET controllers use) against the control plane: list, watch, writes.</summary>
public sealed class KubernetesClientTests : IAsyncLifetime
{
    private readonly CliHarness _cli = new();
    private k8s.Kubernetes _client = null!;

    public async Task InitializeAsync()
    {
        await _cli.InitializeAsync();
        _client = new k8s.Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile(_cli.KubeconfigPath));
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _cli.DisposeAsync();
    }

    private static V1ConfigMap ConfigMap(string name, string value) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "default", Labels = new Dictionary<string, string> { ["app"] = "watched" } },
        Data = new Dictionary<string, string> { ["value"] = value },
    };

    [Fact]
    [Obsolete]
    public async Task ListThenWatch_SeesEveryChangeInOrder()
    {
        await _client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("before", "0"), "default");
        var list = await _client.CoreV1.ListNamespacedConfigMapAsync("default", labelSelector: "app=watched");
        Assert.Equal(["before"], list.Items.Select(i => i.Metadata.Name));

        // Changes before the watch is open, then after: the watch starts at the list's version and misses none.
        await _client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("a", "1"), "default");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var watch = _client.CoreV1.ListNamespacedConfigMapWithHttpMessagesAsync("default", labelSelector: "app=watched", watch: true, resourceVersion: list.Metadata.ResourceVersion, cancellationToken: timeout.Token);
        var events = new List<string>();
        var writes = Task.Run(async () =>
        {
            var a = await _client.CoreV1.ReadNamespacedConfigMapAsync("a", "default");
            a.Data["value"] = "2";
            await _client.CoreV1.ReplaceNamespacedConfigMapAsync(a, "a", "default");
            await _client.CoreV1.PatchNamespacedConfigMapAsync(new V1Patch("""{"data": {"value": "3"}}""", V1Patch.PatchType.MergePatch), "a", "default");
            await _client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("b", "1"), "default");
            await _client.CoreV1.DeleteNamespacedConfigMapAsync("a", "default");
        });

        await foreach (var (type, item) in watch.WatchAsync<V1ConfigMap, V1ConfigMapList>(cancellationToken: timeout.Token))
        {
            events.Add($"{type} {item.Metadata.Name} {(item.Data is { } data && data.TryGetValue("value", out var value) ? value : "")}");
            if (events.Count == 5)
            {
                break;
            }
        }

        await writes;
        Assert.Equal(["Added a 1", "Modified a 2", "Modified a 3", "Added b 1", "Deleted a 3"], events);
    }

    [Fact]
    public async Task Replace_WithAStaleResourceVersion_IsAConflict()
    {
        var created = await _client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("cm", "1"), "default");
        created.Data["value"] = "2";
        var updated = await _client.CoreV1.ReplaceNamespacedConfigMapAsync(created, "cm", "default");
        created.Data["value"] = "3";

        var stale = await Assert.ThrowsAsync<HttpOperationException>(() => _client.CoreV1.ReplaceNamespacedConfigMapAsync(created, "cm", "default"));
        var again = await Assert.ThrowsAsync<HttpOperationException>(() => _client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("cm", "9"), "default"));

        Assert.NotEqual(created.Metadata.ResourceVersion, updated.Metadata.ResourceVersion);
        Assert.Equal(System.Net.HttpStatusCode.Conflict, stale.Response.StatusCode);
        Assert.Contains("\"reason\":\"Conflict\"", stale.Response.Content);
        Assert.Contains("the object has been modified", stale.Response.Content);
        Assert.Equal(System.Net.HttpStatusCode.Conflict, again.Response.StatusCode);
        Assert.Contains("\"reason\":\"AlreadyExists\"", again.Response.Content);
        Assert.Equal("2", (await _client.CoreV1.ReadNamespacedConfigMapAsync("cm", "default")).Data["value"]);
    }
}

using Meshgate.Core.Resources;
using Xunit;

namespace Meshgate.Tests.Kubernetes;

/// <summary>
/// Deletion with finalizers through the real kubectl, as a Kubernetes API server does it: an object with
/// <c>metadata.finalizers</c> is marked with <c>deletionTimestamp</c> and stays until a client removes them; a namespace
/// holding such an object stays <c>Terminating</c> until it is gone.
/// </summary>
public sealed class FinalizerTests : IAsyncLifetime
{
    private const string HeldServiceEntry = """
        apiVersion: networking.istio.io/v1
        kind: ServiceEntry
        metadata:
          name: held
          namespace: held-ns
          finalizers: [example.com/hold]
        spec:
          hosts: [held.example.com]
          ports:
          - number: 80
            name: http
            protocol: HTTP
          resolution: DNS
        """;

    private readonly KubectlHarness _k = new();

    public Task InitializeAsync() => _k.InitializeAsync();

    public Task DisposeAsync() => _k.DisposeAsync();

    private static readonly ObjectKey Held = new(ResourceTypes.ServiceEntry, "held-ns", "held");
    private static readonly ObjectKey HeldNamespace = new(ResourceTypes.Namespace, "", "held-ns");

    private async Task ApplyAsync(string name, string yaml)
    {
        var path = Path.Combine(_k.Home, name);
        await File.WriteAllTextAsync(path, yaml);
        await _k.OkAsync("apply", "-f", path);
    }

    [Fact]
    public async Task Delete_ObjectWithFinalizer_IsMarkedUntilTheFinalizerIsRemoved()
    {
        await _k.OkAsync("create", "namespace", "held-ns");
        await ApplyAsync("held.yaml", HeldServiceEntry);

        Assert.Equal("serviceentry.networking.istio.io \"held\" deleted\n", await _k.OkAsync("delete", "se", "held", "-n", "held-ns", "--wait=false"));

        var marked = _k.Cli.Server.Store.Current.Get(Held);
        Assert.NotNull(marked);
        Assert.NotNull(marked.Metadata["deletionTimestamp"]);
        Assert.NotEqual("", await _k.OkAsync("get", "se", "held", "-n", "held-ns", "-o", "jsonpath={.metadata.deletionTimestamp}"));

        // Adding a finalizer to an object being deleted is refused; removing the last one completes the deletion.
        var added = await _k.RunAsync("patch", "se", "held", "-n", "held-ns", "--type=merge", "-p", """{"metadata":{"finalizers":["example.com/hold","example.com/other"]}}""");
        Assert.NotEqual(0, added.ExitCode);
        Assert.Contains("no new finalizers can be added if the object is being deleted", added.Error);

        await _k.OkAsync("patch", "se", "held", "-n", "held-ns", "--type=merge", "-p", """{"metadata":{"finalizers":null}}""");
        Assert.Null(_k.Cli.Server.Store.Current.Get(Held));
        var gone = await _k.RunAsync("get", "se", "held", "-n", "held-ns");
        Assert.Contains("\"held\" not found", gone.Error);
    }

    [Fact]
    public async Task DeleteNamespace_WithAHeldObject_StaysTerminatingThenGoesWithIt()
    {
        await _k.OkAsync("create", "namespace", "held-ns");
        await ApplyAsync("held.yaml", HeldServiceEntry);
        await ApplyAsync("free.yaml", HeldServiceEntry.Replace("name: held\n", "name: free\n").Replace("  finalizers: [example.com/hold]\n", ""));

        await _k.OkAsync("delete", "namespace", "held-ns", "--wait=false");

        Assert.Null(_k.Cli.Server.Store.Current.Get(new ObjectKey(ResourceTypes.ServiceEntry, "held-ns", "free")));
        Assert.NotNull(_k.Cli.Server.Store.Current.Get(Held));
        Assert.Matches(@"^held-ns\s+Terminating\s+", (await _k.OkAsync("get", "namespace", "held-ns", "--no-headers")).Trim());
        var create = await _k.RunAsync("create", "configmap", "late", "-n", "held-ns");
        Assert.NotEqual(0, create.ExitCode);
        Assert.Contains("because it is being terminated", create.Error);

        await _k.OkAsync("patch", "se", "held", "-n", "held-ns", "--type=json", "-p", """[{"op":"remove","path":"/metadata/finalizers"}]""");

        Assert.Null(_k.Cli.Server.Store.Current.Get(Held));
        Assert.Null(_k.Cli.Server.Store.Current.Get(HeldNamespace));
        Assert.Contains("\"held-ns\" not found", (await _k.RunAsync("get", "namespace", "held-ns")).Error);
    }
}

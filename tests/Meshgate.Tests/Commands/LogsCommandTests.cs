using Meshgate.ControlPlane.Api;
using Xunit;

namespace Meshgate.Tests.Commands;

/// <summary><c>meshgate logs</c> against a real control plane whose data directory holds a proxy's log.</summary>
public sealed class LogsCommandTests : IAsyncLifetime
{
    private readonly CliHarness _cli = new();

    public async Task InitializeAsync()
    {
        await _cli.InitializeAsync();
        await _cli.OkStdinAsync("""
            apiVersion: v1
            kind: Pod
            metadata:
              name: istio-egressgateway-abc12
              namespace: istio-system
              labels: {istio: egressgateway}
            spec:
              containers:
              - name: istio-proxy
                image: meshgate
            ---
            apiVersion: v1
            kind: Pod
            metadata:
              name: sleep-xyz98
              namespace: default
              labels: {app: sleep}
            spec:
              containers:
              - name: istio-proxy
                image: meshgate
            """, "apply", "-f", "-");
        var log = PodLogApi.PathFor(Path.Combine(_cli.DataDirectory, "logs"), "istio-system", "istio-egressgateway-abc12");
        Directory.CreateDirectory(Path.GetDirectoryName(log)!);
        await File.WriteAllLinesAsync(log, Enumerable.Range(1, 25).Select(i => $"line {i}"));
    }

    public Task DisposeAsync() => _cli.DisposeAsync();

    [Fact]
    public async Task SelectorShowsTheLastTenLinesAsKubectlDoes()
    {
        var output = await _cli.OkAsync("logs", "-l", "istio=egressgateway", "-c", "istio-proxy", "-n", "istio-system");
        Assert.Equal(Enumerable.Range(16, 10).Select(i => $"line {i}"), output.TrimEnd('\n').Split('\n'));
    }

    [Fact]
    public async Task PodByNameShowsEverythingOrTheTail()
    {
        var all = await _cli.OkAsync("logs", "istio-egressgateway-abc12", "-n", "istio-system");
        Assert.Equal(25, all.TrimEnd('\n').Split('\n').Length);
        var tail = await _cli.OkAsync("logs", "pod/istio-egressgateway-abc12", "-n", "istio-system", "--tail", "2", "--prefix");
        Assert.Equal("[pod/istio-egressgateway-abc12/istio-proxy] line 24\n[pod/istio-egressgateway-abc12/istio-proxy] line 25\n", tail);
    }

    [Fact]
    public async Task APodWithoutALogFilePrintsNothing()
    {
        Assert.Equal("", await _cli.OkAsync("logs", "sleep-xyz98"));
    }

    [Fact]
    public async Task ErrorsNameWhatIsWrong()
    {
        var missing = await _cli.RunAsync("logs", "nope", "-n", "istio-system");
        Assert.Equal(1, missing.ExitCode);
        Assert.Equal("Error from server (NotFound): pods \"nope\" not found\n", missing.Error);

        var container = await _cli.RunAsync("logs", "sleep-xyz98", "-c", "sleep");
        Assert.Contains("container sleep is not valid for pod sleep-xyz98", container.Error, StringComparison.Ordinal);

        var neither = await _cli.RunAsync("logs");
        Assert.Contains("give a pod name or -l SELECTOR", neither.Error, StringComparison.Ordinal);

        var none = await _cli.RunAsync("logs", "-l", "app=nothing");
        Assert.Equal(0, none.ExitCode);
        Assert.Equal("No resources found in default namespace.\n", none.Error);
    }
}

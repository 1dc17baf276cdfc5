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
            ---
            apiVersion: v1
            kind: Pod
            metadata:
              name: sleep-7d9f8
              namespace: default
              labels: {app: curl}
            spec:
              containers:
              - name: sleep
                image: curl
              - name: istio-proxy
                image: meshgate
            ---
            apiVersion: v1
            kind: Pod
            metadata:
              name: httpbin-5c4b2
              namespace: default
              labels: {app: httpbin}
              annotations: {kubectl.kubernetes.io/default-container: istio-proxy}
            spec:
              containers:
              - name: httpbin
                image: httpbin
              - name: istio-proxy
                image: meshgate
            """, "apply", "-f", "-");
        foreach (var (pod, container) in new[] { ("sleep-7d9f8", "sleep"), ("sleep-7d9f8", "istio-proxy"), ("httpbin-5c4b2", "httpbin"), ("httpbin-5c4b2", "istio-proxy") })
        {
            var path = PodLogApi.ContainerPathFor(Logs, "default", pod, container);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            await File.WriteAllTextAsync(path, $"{container} of {pod} 1\n{container} of {pod} 2\n");
        }

        var log = PodLogApi.PathFor(Logs, "istio-system", "istio-egressgateway-abc12");
        Directory.CreateDirectory(Path.GetDirectoryName(log)!);
        await File.WriteAllLinesAsync(log, Enumerable.Range(1, 25).Select(i => $"line {i}"));
    }

    public Task DisposeAsync() => _cli.DisposeAsync();

    private string Logs => Path.Combine(_cli.DataDirectory, "logs");

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

    [Fact]
    public void ContainerLogsLiveInAFolderPerPod()
    {
        Assert.Equal(Path.Combine("/data/logs", "default", "sleep-7d9f8", "istio-proxy.log"), PodLogApi.ContainerPathFor("/data/logs", "default", "sleep-7d9f8", "istio-proxy"));
        Assert.Equal(Path.Combine("/data/logs", "default", "sleep-7d9f8.log"), PodLogApi.PathFor("/data/logs", "default", "sleep-7d9f8"));
    }

    [Fact]
    public async Task WithoutDashCTheFirstOfSeveralContainersIsTakenAndSaidAsKubectlSaysIt()
    {
        var result = await _cli.RunAsync("logs", "sleep-7d9f8");
        Assert.Equal(0, result.ExitCode);
        Assert.Equal("sleep of sleep-7d9f8 1\nsleep of sleep-7d9f8 2\n", result.Out);
        Assert.Equal("Defaulted container \"sleep\" out of: sleep, istio-proxy\n", result.Error);

        var selected = await _cli.RunAsync("logs", "-l", "app=curl", "--tail", "1", "--prefix");
        Assert.Equal("[pod/sleep-7d9f8/sleep] sleep of sleep-7d9f8 2\n", selected.Out);
        Assert.Equal("Defaulted container \"sleep\" out of: sleep, istio-proxy\n", selected.Error);
    }

    [Fact]
    public async Task TheDefaultContainerAnnotationIsTakenSilently()
    {
        var result = await _cli.RunAsync("logs", "httpbin-5c4b2", "--prefix");
        Assert.Equal("[pod/httpbin-5c4b2/istio-proxy] istio-proxy of httpbin-5c4b2 1\n[pod/httpbin-5c4b2/istio-proxy] istio-proxy of httpbin-5c4b2 2\n", result.Out);
        Assert.Equal("", result.Error);
    }

    [Fact]
    public async Task DashCPicksAnyContainerOfThePod()
    {
        var result = await _cli.RunAsync("logs", "sleep-7d9f8", "-c", "istio-proxy", "--tail", "1");
        Assert.Equal("istio-proxy of sleep-7d9f8 2\n", result.Out);
        Assert.Equal("", result.Error);
        Assert.Equal("httpbin of httpbin-5c4b2 1\nhttpbin of httpbin-5c4b2 2\n", await _cli.OkAsync("logs", "httpbin-5c4b2", "-c", "httpbin"));

        var wrong = await _cli.RunAsync("logs", "sleep-7d9f8", "-c", "nope");
        Assert.Equal(1, wrong.ExitCode);
        Assert.Equal("Error from server (BadRequest): container nope is not valid for pod sleep-7d9f8\n", wrong.Error);
    }

    [Fact]
    public async Task TheApiDefaultsTheContainerItself()
    {
        using var http = _cli.CreateHttpClient();
        Assert.Equal("sleep of sleep-7d9f8 1\nsleep of sleep-7d9f8 2\n", await http.GetStringAsync("/api/v1/namespaces/default/pods/sleep-7d9f8/log"));
        Assert.Equal("istio-proxy of httpbin-5c4b2 2\n", await http.GetStringAsync("/api/v1/namespaces/default/pods/httpbin-5c4b2/log?tailLines=1"));
        Assert.Equal("line 25\n", await http.GetStringAsync("/api/v1/namespaces/istio-system/pods/istio-egressgateway-abc12/log?container=istio-proxy&tailLines=1"));
    }

    [Fact]
    public async Task FollowWaitsForAContainerLogThatDoesNotExistYet()
    {
        using var http = _cli.CreateHttpClient();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        using var response = await http.GetAsync("/api/v1/namespaces/default/pods/sleep-xyz98/log?container=istio-proxy&follow=true", HttpCompletionOption.ResponseHeadersRead, deadline.Token);
        Assert.True(response.IsSuccessStatusCode);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(deadline.Token));
        var path = PodLogApi.ContainerPathFor(Logs, "default", "sleep-xyz98", "istio-proxy");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await File.WriteAllTextAsync(path, "started\n", deadline.Token);
        Assert.Equal("started", await reader.ReadLineAsync(deadline.Token));
    }
}

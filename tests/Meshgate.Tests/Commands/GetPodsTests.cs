using System.Globalization;
using Meshgate.Commands;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Meshgate.Tests.Commands;

/// <summary><c>meshgate get pods</c> prints what <c>kubectl get pods</c> prints, for a kubelet's pods and a registered proxy's.</summary>
public sealed class GetPodsTests : IAsyncLifetime
{
    private readonly CliHarness _cli = new();
    private FakeTimeProvider _time = null!;

    public async Task InitializeAsync()
    {
        await _cli.InitializeAsync();
        _cli.StorePod(Sleep(""));
        _cli.StorePod("""
            {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "istio-egressgateway-abc12", "namespace": "default"},
             "spec": {"containers": [{"name": "istio-proxy", "image": "meshgate"}]},
             "status": {"phase": "Running", "podIP": "127.0.0.1", "podIPs": [{"ip": "127.0.0.1"}]}}
            """);

        // AGE 5m, and the last restart 40s before now.
        var created = DateTimeOffset.Parse(
            (await _cli.OkAsync("get", "pod", "sleep-7d9f8", "-o", "jsonpath={.metadata.creationTimestamp}")).Trim(), CultureInfo.InvariantCulture);
        _time = new FakeTimeProvider(created + TimeSpan.FromMinutes(5));
        _cli.StorePod(Sleep((created + TimeSpan.FromMinutes(5) - TimeSpan.FromSeconds(40)).UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture)));
    }

    public Task DisposeAsync() => _cli.DisposeAsync();

    private static string Sleep(string finishedAt) => """
        {"apiVersion": "v1", "kind": "Pod",
         "metadata": {"name": "sleep-7d9f8", "namespace": "default", "labels": {"app": "sleep"},
                      "annotations": {"meshgate.io/netns": "mg-default-sleep-7d9f8", "kubectl.kubernetes.io/default-container": "sleep"}},
         "spec": {"nodeName": "meshgate", "containers": [
           {"name": "sleep", "command": ["/bin/sleep", "infinity"]},
           {"name": "istio-proxy", "command": ["meshgate", "proxy"]}]},
         "status": {"phase": "Running", "podIP": "10.244.0.7", "podIPs": [{"ip": "10.244.0.7"}], "hostIP": "10.244.0.1",
           "conditions": [{"type": "Ready", "status": "False"}],
           "containerStatuses": [
             {"name": "sleep", "ready": false, "restartCount": 3, "started": false,
              "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 40s restarting failed container"}} LAST_STATE},
             {"name": "istio-proxy", "ready": true, "restartCount": 0, "started": true, "state": {"running": {"startedAt": "2026-01-01T00:00:00Z"}}}]}}
        """.Replace("LAST_STATE", finishedAt.Length > 0 ? $", \"lastState\": {{\"terminated\": {{\"exitCode\": 1, \"reason\": \"Error\", \"finishedAt\": \"{finishedAt}\"}}}}" : "", StringComparison.Ordinal);

    private async Task<string> GetAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await Meshgate.Cli.RunAsync([.. args, "--kubeconfig", _cli.KubeconfigPath], new CliContext(new StringReader(""), output, error), _time);
        Assert.True(code == 0, error.ToString());
        return output.ToString();
    }

    [Fact]
    public async Task TheTableIsKubectls()
    {
        Assert.Equal(
            """
            NAME                        READY   STATUS             RESTARTS      AGE
            istio-egressgateway-abc12   1/1     Running            0             5m
            sleep-7d9f8                 1/2     CrashLoopBackOff   3 (40s ago)   5m

            """.ReplaceLineEndings("\n"),
            await GetAsync("get", "pods"));
    }

    [Fact]
    public async Task WideAddsIpNodeNominatedNodeAndReadinessGatesAfterAge()
    {
        Assert.Equal(
            """
            NAME                        READY   STATUS             RESTARTS      AGE   IP           NODE       NOMINATED NODE   READINESS GATES
            istio-egressgateway-abc12   1/1     Running            0             5m    127.0.0.1    <none>     <none>           <none>
            sleep-7d9f8                 1/2     CrashLoopBackOff   3 (40s ago)   5m    10.244.0.7   meshgate   <none>           <none>

            """.ReplaceLineEndings("\n"),
            await GetAsync("get", "pods", "-o", "wide"));
    }

    [Fact]
    public async Task JsonPathPrintsNamesSpaceSeparatedAsKubectlDoes()
    {
        Assert.Equal("istio-egressgateway-abc12 sleep-7d9f8", await GetAsync("get", "pods", "-o", "jsonpath={.items..metadata.name}"));
        Assert.Equal("sleep-7d9f8", await GetAsync("get", "pod", "-l", "app=sleep", "-o", "jsonpath={.items..metadata.name}"));
        Assert.Equal("sleep istio-proxy", await GetAsync("get", "pod", "sleep-7d9f8", "-o", "jsonpath={.spec.containers[*].name}"));
        Assert.Equal("CrashLoopBackOff", await GetAsync("get", "pod", "sleep-7d9f8", "-o", "jsonpath={.status.containerStatuses[?(@.name==\"sleep\")].state.waiting.reason}"));
    }
}

using System.Text.RegularExpressions;
using Meshgate.Tests.Capture;
using Xunit;

namespace Meshgate.Tests.EndToEnd;

/// <summary>
/// The local cluster's kubelet and installer, for real: a crashing container is restarted and counted, a proxy that
/// dies makes its pod not ready until it is back, opting out of injection works, <c>meshgate install</c> removes and
/// restores the egress gateway, and a cluster killed with SIGKILL is cleaned up by the next start and by <c>down</c>.
/// </summary>
[Collection(LocalClusterCollection.Name)]
public sealed class ClusterLifecycleTests
{
    [RootFact]
    public async Task Pods_RestartsReadinessAndOptOut_AsKubeletReportsThem()
    {
        await using var cluster = await LocalClusterRun.StartAsync();

        // A container that exits is restarted with a back-off and counted; the pod says why it is not ready.
        await cluster.StepAsync("""
            kubectl apply -f - <<EOF
            apiVersion: v1
            kind: Pod
            metadata:
              name: crasher
              labels:
                sidecar.istio.io/inject: "false"
            spec:
              containers:
              - name: main
                image: busybox
                command: ["sh", "-c", "echo starting; exit 3"]
            EOF
            """);
        var crashing = await cluster.WaitForAsync("kubectl get pod crasher", o => Regex.IsMatch(o, @"crasher\s+0/1\s+CrashLoopBackOff\s+[2-9]"), "the crashing pod to be restarted twice");
        Assert.Matches(@"^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\n", crashing);
        Assert.Equal("main", await cluster.StepAsync("kubectl get pod crasher -o jsonpath='{.spec.containers[*].name}'")); // opted out: no sidecar
        Assert.Contains("starting", await cluster.StepAsync("kubectl logs crasher"), StringComparison.Ordinal);
        Assert.Equal("3", await cluster.StepAsync("kubectl get pod crasher -o jsonpath='{.status.containerStatuses[0].lastState.terminated.exitCode}'"));

        // The sleep pod's proxy killed: the pod is not ready (1/2) until the kubelet has it back and connected.
        var pod = (await cluster.StepAsync("kubectl get pod -l app=sleep -o jsonpath='{.items[0].metadata.name}'")).Trim();
        await cluster.StepAsync($"pkill -KILL -f -- '--[n]ame {pod}'");
        await cluster.WaitForAsync($"kubectl get pod {pod}", o => Regex.IsMatch(o, $@"{pod}\s+1/2\s"), "the pod to be not ready without its proxy");
        var back = await cluster.WaitForAsync($"kubectl get pod {pod}", o => Regex.IsMatch(o, $@"{pod}\s+2/2\s+Running\s+1\b"), "the proxy to be restarted and ready");
        Assert.Matches($@"{pod}\s+2/2\s+Running\s+1 \(\d+s ago\)\s", back);

        // Deleting the pod stops its containers and removes its network namespace.
        await cluster.StepAsync("kubectl delete pod crasher");
        await cluster.WaitForAsync("ip netns list | grep -c '^mgk-default.crasher' || true", o => o.Trim() == "0", "the crasher's namespace to go");
    }

    [RootFact]
    public async Task Install_RemovesAndRestoresTheEgressGateway_AndKeepsTheInstalledFlags()
    {
        await using var cluster = await LocalClusterRun.StartAsync();
        var removed = await cluster.StepAsync("kubectl get pod -l istio=egressgateway -n istio-system -o name && istioctl install --set 'components.egressGateways[0].enabled=false'");
        Assert.Contains("✔ Egress gateway istio-egressgateway removed", removed, StringComparison.Ordinal);
        await cluster.WaitForAsync("kubectl get pod -l istio=egressgateway -n istio-system -o name", o => o.Trim().Length == 0, "the gateway's pod to go");
        Assert.DoesNotContain("istio-egressgateway", await cluster.StepAsync("kubectl get svc -n istio-system"), StringComparison.Ordinal);

        // An IstioOperator file, as the page's "If you used an IstioOperator CR" fragment, brings it back; install waits for it.
        var restored = await cluster.StepAsync("""
            cat > operator.yaml <<EOF
            apiVersion: install.istio.io/v1alpha1
            kind: IstioOperator
            spec:
              meshConfig:
                accessLogFile: /dev/stdout
              components:
                egressGateways:
                - name: istio-egressgateway
                  enabled: true
            EOF
            istioctl install -f operator.yaml
            """, TimeSpan.FromSeconds(120));
        Assert.Contains("✔ Egress gateways installed", restored, StringComparison.Ordinal);
        Assert.Matches(@"istio-egressgateway-\S+\s+1/1\s+Running", await cluster.StepAsync("kubectl get pod -l istio=egressgateway -n istio-system"));

        // Unsupported settings are refused by name, and nothing changes.
        var (code, _, error) = await cluster.BashAsync("istioctl install --set values.global.proxy.privileged=true");
        Assert.NotEqual(0, code);
        Assert.Contains("\"values.global.proxy.privileged\" is not a setting Meshgate knows", error, StringComparison.Ordinal);
        Assert.Contains("meshConfig.accessLogFile=/dev/stdout", await cluster.StepAsync("kubectl get configmap istio -n istio-system -o jsonpath='{.metadata.annotations.meshgate\\.io/install-sets}'"), StringComparison.Ordinal);
    }

    [RootFact]
    public async Task KilledCluster_IsCleanedUpByTheNextStartAndByDown()
    {
        var directory = Directory.CreateTempSubdirectory("meshgate-killed-").FullName;
        try
        {
            var port = MeshgateProcess.FreePort();
            await using (var up = MeshgateProcess.Start("up", "--cluster", "--data", Path.Combine(directory, "data"), "--listen", $"127.0.0.1:{port}"))
            {
                await up.WaitForOutputAsync("meshgate up: ready", TimeSpan.FromSeconds(120));
                await up.KillAsync(); // SIGKILL: no clean-up of its own
            }

            var (_, left) = await Bash.RunAsync("ip netns list | grep -c '^mgk-' || true");
            Assert.NotEqual("0", left.Trim()); // what it made is still there

            // The next start removes it first and runs.
            await using (var again = MeshgateProcess.Start("up", "--cluster", "--data", Path.Combine(directory, "data"), "--listen", $"127.0.0.1:{port}"))
            {
                await again.WaitForOutputAsync("meshgate up: ready", TimeSpan.FromSeconds(120));
                Assert.Contains("network namespaces left by an earlier cluster", again.Output, StringComparison.Ordinal);
                await again.KillAsync();
            }

            // down removes what a killed cluster left: namespaces, their processes, /etc/netns files.
            var (code, output) = await MeshgateProcess.RunAsync("", "down");
            Assert.True(code == 0, output);
            Assert.Contains("nothing of a local cluster is left", output, StringComparison.Ordinal);
            var (_, after) = await Bash.RunAsync("ip netns list | grep -c '^mgk-' || true; ls /etc/netns 2>/dev/null | grep -c '^mgk-' || true; pgrep -f '[m]gk-internet' | wc -l");
            Assert.Equal("0\n0\n0", after.Trim());
        }
        finally
        {
            await MeshgateProcess.RunAsync("", "down");
            Directory.Delete(directory, recursive: true);
        }
    }
}

using Meshgate.Demo;
using Meshgate.Tests.Capture;
using Xunit;

namespace Meshgate.Tests.EndToEnd;

/// <summary>
/// The specification as a test: every command of the Egress Gateways page, in order, for each tab, in a real local
/// cluster, with kubectl and istioctl being meshgate and nothing else changed (<see cref="SeedRunner"/>), each output
/// checked against what the page shows (<see cref="SeedOutputMatcher"/>); then nothing the page made may be left.
/// </summary>
[Collection(LocalClusterCollection.Name)]
public sealed class WholeDocumentTests
{
    [RootFact]
    public Task IstioApisTab_EveryCommandAsWritten() => RunTabAsync(SeedDocument.IstioApis);

    [RootFact]
    public Task GatewayApiTab_EveryCommandAsWritten() => RunTabAsync(SeedDocument.GatewayApi);

    /// <summary>The same with the real kubectl (the kubeconfig <c>up --cluster</c> writes, a fresh discovery cache):
    /// only istioctl is meshgate.</summary>
    [RootFact]
    public Task IstioApisTab_WithTheRealKubectl() => RunTabAsync(SeedDocument.IstioApis, realKubectl: true);

    [RootFact]
    public Task GatewayApiTab_WithTheRealKubectl() => RunTabAsync(SeedDocument.GatewayApi, realKubectl: true);

    private static async Task RunTabAsync(string tab, bool realKubectl = false)
    {
        await using var cluster = await LocalClusterRun.StartAsync();
        var plan = SeedRunner.Plan(SeedDocument.Parse(SeedDocument.Text(), tab));
        var transcript = new System.Text.StringBuilder();
        var options = new SeedRunOptions(MeshgateProcess.Executable, cluster.Kubeconfig, cluster.Directory);
        if (realKubectl)
        {
            var kubeconfig = Path.Combine(cluster.DataDirectory, "kubeconfig");
            Assert.Contains("export KUBECONFIG=" + kubeconfig, cluster.UpOutput, StringComparison.Ordinal);
            options = options with
            {
                Kubectl = $"command '{ExternalTools.Require("kubectl")}' --cache-dir '{Path.Combine(cluster.Directory, "kubectl-cache")}'",
                Environment = new Dictionary<string, string> { ["KUBECONFIG"] = kubeconfig },
            };
        }

        var runner = new SeedRunner(options, line => transcript.AppendLine(line));
        var results = await runner.RunAsync(plan, CancellationToken.None);

        var failed = results.FirstOrDefault(r => r.Mismatch is not null);
        Assert.True(failed is null,
            failed is null ? "" : $"section \"{failed.Step.Section}\", line {failed.Step.Line}: {failed.Mismatch}\n$ {failed.Command}\n{failed.Output}\n--- transcript ---\n{transcript}");
        Assert.Equal(plan.Count, results.Count);

        // Every cleanup ran: nothing the page created is left.
        foreach (var kind in new[] { "serviceentries", "gateways.networking.istio.io", "virtualservices", "destinationrules", "gateways.gateway.networking.k8s.io", "httproutes", "tlsroutes", "networkpolicies" })
        {
            var left = await cluster.StepAsync($"kubectl get {kind} -A -o jsonpath='{{.items[*].metadata.name}}'");
            Assert.True(left.Trim().Length == 0, $"{kind} left: {left}");
        }

        Assert.DoesNotContain("test-egress", await cluster.StepAsync("kubectl get namespaces"), StringComparison.Ordinal);
        var labels = await cluster.StepAsync("kubectl get namespace istio-system -o jsonpath='{.metadata.labels}'; kubectl get namespace kube-system -o jsonpath='{.metadata.labels}'; kubectl get namespace default -o jsonpath='{.metadata.labels}'");
        Assert.DoesNotContain("\"istio\":\"system\"", labels, StringComparison.Ordinal);
        Assert.DoesNotContain("\"kube-system\":\"true\"", labels, StringComparison.Ordinal);
        Assert.DoesNotContain("\"gateway\":\"true\"", labels, StringComparison.Ordinal);
        await cluster.WaitForAsync("kubectl get pod -l app=sleep -A -o jsonpath='{.items[*].metadata.name}'", o => o.Trim().Length == 0, "the sleep pods to be gone after the page's cleanup");
    }
}

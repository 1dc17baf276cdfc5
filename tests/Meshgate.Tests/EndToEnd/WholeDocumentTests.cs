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

    private static async Task RunTabAsync(string tab)
    {
        await using var cluster = await LocalClusterRun.StartAsync();
        var plan = SeedRunner.Plan(SeedDocument.Parse(SeedDocument.Text(), tab));
        var transcript = new System.Text.StringBuilder();
        var runner = new SeedRunner(new SeedRunOptions(MeshgateProcess.Executable, cluster.Server, cluster.Directory), line => transcript.AppendLine(line));
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

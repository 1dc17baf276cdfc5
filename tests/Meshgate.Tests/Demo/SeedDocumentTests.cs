using Meshgate.Demo;
using Xunit;

namespace Meshgate.Tests.Demo;

/// <summary>The Egress Gateways page read into the commands of each tab, in the document's order.</summary>
public sealed class SeedDocumentTests
{
    [Fact]
    public void IstioApisTab_CommandsInOrder_WithOutputsAndIncludes()
    {
        var steps = SeedDocument.Parse(SeedDocument.Text(), SeedDocument.IstioApis);
        var text = string.Join("\n", steps.Select(s => s.Include is { } include ? $"[{s.Section}] INCLUDE {include}" : $"[{s.Section}] $ {s.Command.Split('\n')[0]}{(s.Output.Count > 0 ? $" => {s.Output.Count} lines" : "")}{(s.SimilarLine is null ? "" : " + similar line")}"));
        Assert.Equal(
            """
            [Before you begin] $ kubectl apply -f @samples/sleep/sleep.yaml@
            [Before you begin] $ export SOURCE_POD=$(kubectl get pod -l app=sleep -o jsonpath={.items..metadata.name})
            [Before you begin] $ istioctl install <flags-you-used-to-install-Istio> --set meshConfig.accessLogFile=/dev/stdout
            [Deploy Istio egress gateway] $ kubectl get pod -l istio=egressgateway -n istio-system
            """,
            string.Join("\n", text.Split('\n').Take(4)));
        Assert.Contains("[Egress gateway for HTTP traffic] $ kubectl exec \"$SOURCE_POD\" -c sleep -- curl -sSL -o /dev/null -D - http://edition.cnn.com/politics => 8 lines", text, StringComparison.Ordinal);
        Assert.Contains("[Egress gateway for HTTP traffic] $ kubectl logs -l istio=egressgateway -c istio-proxy -n istio-system | tail + similar line", text, StringComparison.Ordinal);
        Assert.Contains("[Apply Kubernetes network policies] INCLUDE Egress gateway for HTTPS traffic", text, StringComparison.Ordinal);
        Assert.Contains("[Apply Kubernetes network policies / Cleanup network policies] INCLUDE Cleanup HTTPS gateway", text, StringComparison.Ordinal);
        Assert.DoesNotContain("gtw", text, StringComparison.Ordinal);
        Assert.EndsWith("[Cleanup] $ kubectl delete -f @samples/sleep/sleep.yaml@", text, StringComparison.Ordinal);
        var heredoc = steps.First(s => s.Command.StartsWith("kubectl apply -f - <<EOF", StringComparison.Ordinal));
        Assert.EndsWith("\nEOF", heredoc.Command, StringComparison.Ordinal);
        Assert.Contains("\nkind: ServiceEntry\n", heredoc.Command, StringComparison.Ordinal);
    }

    [Fact]
    public void GatewayApiTab_HasItsOwnCommands()
    {
        var steps = SeedDocument.Parse(SeedDocument.Text(), SeedDocument.GatewayApi);
        Assert.Contains(steps, s => s.Command == "kubectl delete gtw cnn-egress-gateway");
        Assert.Contains(steps, s => s.Command == "kubectl label namespace default gateway=true");
        Assert.DoesNotContain(steps, s => s.Command == "kubectl delete gateway istio-egressgateway");
    }
}

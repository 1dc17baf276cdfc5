using Meshgate.Tests.Capture;
using Xunit;

namespace Meshgate.Tests.EndToEnd;

/// <summary><c>meshgate demo</c> as root, the README's first command: the page as written in a local cluster, both tabs, and nothing left after it.</summary>
[Collection(LocalClusterCollection.Name)]
public sealed class ClusterDemoTests
{
    [RootFact]
    public async Task Demo_AsRoot_RunsThePageAsWrittenInBothTabs_AndLeavesNothing()
    {
        var (code, output) = await MeshgateProcess.RunAsync(TimeSpan.FromMinutes(5), "", "demo");

        Assert.True(code == 0, output);
        Assert.Contains("# ===== The Istio APIs tab", output, StringComparison.Ordinal);
        Assert.Contains("# ===== The Gateway API tab", output, StringComparison.Ordinal);
        Assert.Contains("$ kubectl exec \"$SOURCE_POD\" -c sleep -- curl -sSL -o /dev/null -D - http://edition.cnn.com/politics\nHTTP/1.1 301 Moved Permanently", output, StringComparison.Ordinal);
        Assert.Contains("URI:spiffe://cluster.local/ns/istio-system/sa/istio-egressgateway-service-account", output, StringComparison.Ordinal);
        Assert.Contains("sleep istio-proxy", output, StringComparison.Ordinal);
        Assert.DoesNotContain("# not what the document shows", output, StringComparison.Ordinal);
        Assert.Contains("Done: every command of the page ran as written, in both tabs, and printed what the page shows.", output, StringComparison.Ordinal);
        var (_, namespaces) = await Bash.RunAsync("ip netns list | grep '^mgk-' || true");
        Assert.Equal("", namespaces.Trim());
    }
}

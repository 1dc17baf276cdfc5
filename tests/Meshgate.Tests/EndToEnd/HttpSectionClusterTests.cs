using System.Text.RegularExpressions;
using Meshgate.Tests.Capture;
using Xunit;

namespace Meshgate.Tests.EndToEnd;

/// <summary>
/// The seed document's "Egress gateway for HTTP traffic" section in the local cluster, both tabs, with the document's
/// <c>kubectl exec "$SOURCE_POD" -c sleep -- curl ...</c> from the injected sleep pod: 301 then HTTP/2 200 before and
/// after the gateway is configured, the gateway's log line, and the cleanup.
/// </summary>
[Collection(LocalClusterCollection.Name)]
public sealed class HttpSectionClusterTests
{
    private const string SourcePod = "export SOURCE_POD=$(kubectl get pod -l app=sleep -o jsonpath={.items..metadata.name})\n";
    private const string Curl = SourcePod + "kubectl exec \"$SOURCE_POD\" -c sleep -- curl -sSL -o /dev/null -D - http://edition.cnn.com/politics";

    [RootFact]
    public async Task IstioApisTab_RedirectThenOk_ThroughTheEgressGateway()
    {
        await using var cluster = await LocalClusterRun.StartAsync();
        await cluster.StepAsync($"kubectl apply -f - < {Seed("http-serviceentry.yaml")}");
        AssertRedirectThenOk(await cluster.StepAsync(Curl));

        await cluster.StepAsync($"kubectl apply -f - < {Seed("http-istio-gateway-destinationrule.yaml")}\nkubectl apply -f - < {Seed("http-istio-virtualservice.yaml")}");
        AssertRedirectThenOk(await cluster.StepAsync(Curl));
        var log = await cluster.WaitForAsync("kubectl logs -l istio=egressgateway -c istio-proxy -n istio-system | tail", o => o.Contains("\"GET /politics HTTP/", StringComparison.Ordinal), "the gateway's log line");
        AssertLine(log, """\] "GET /politics HTTP/2" 301 - via_upstream - "-" 0 \d+ \d+ \d+ "10\.244\.\d+\.\d+" "curl/[^"]+" "[0-9a-f-]{36}" "edition\.cnn\.com" "198\.51\.100\.10:80" outbound\|80\|\|edition\.cnn\.com """);

        await cluster.StepAsync("""
            kubectl delete serviceentry cnn
            kubectl delete gateway istio-egressgateway
            kubectl delete virtualservice direct-cnn-through-egress-gateway
            kubectl delete destinationrule egressgateway-for-cnn
            """);
    }

    [RootFact]
    public async Task GatewayApiTab_RedirectThenOk_ThroughTheDeployedGateway()
    {
        await using var cluster = await LocalClusterRun.StartAsync();
        await cluster.StepAsync($"kubectl apply -f - < {Seed("http-serviceentry.yaml")}");
        AssertRedirectThenOk(await cluster.StepAsync(Curl));

        await cluster.StepAsync($"kubectl apply -f - < {Seed("http-gatewayapi-gateway.yaml")}");
        await cluster.WaitForAsync("kubectl get pod -l gateway.networking.k8s.io/gateway-name=cnn-egress-gateway", o => Regex.IsMatch(o, @"cnn-egress-gateway-istio-\S+\s+1/1\s+Running"), "the gateway's pod");
        await cluster.StepAsync($"kubectl apply -f - < {Seed("http-gatewayapi-httproutes.yaml")}");
        AssertRedirectThenOk(await cluster.StepAsync(Curl));
        var log = await cluster.WaitForAsync("kubectl logs -l gateway.networking.k8s.io/gateway-name=cnn-egress-gateway -c istio-proxy | tail", o => o.Contains("\"GET /politics HTTP/", StringComparison.Ordinal), "the gateway's log line");
        AssertLine(log, """\] "GET /politics HTTP/[12.]+" 301 - via_upstream - "-" 0 \d+ \d+ \d+ "10\.244\.\d+\.\d+" "curl/[^"]+" "[0-9a-f-]{36}" "edition\.cnn\.com" "198\.51\.100\.10:80" outbound\|80\|\|edition\.cnn\.com .* default\.forward-cnn-from-egress-gateway\.0""");

        await cluster.StepAsync("""
            kubectl delete serviceentry cnn
            kubectl delete gtw cnn-egress-gateway
            kubectl delete httproute direct-cnn-to-egress-gateway
            kubectl delete httproute forward-cnn-from-egress-gateway
            """);
        await cluster.WaitForAsync("kubectl get pod -l gateway.networking.k8s.io/gateway-name=cnn-egress-gateway 2>&1", o => !o.Contains("cnn-egress-gateway-istio", StringComparison.Ordinal), "the gateway's pod to go");
    }

    /// <summary>The document's output: <c>HTTP/1.1 301 Moved Permanently</c>, <c>location: https://edition.cnn.com/politics</c>, then <c>HTTP/2 200</c> with <c>Content-Type: text/html; charset=utf-8</c>.</summary>
    private static void AssertRedirectThenOk(string headers)
    {
        Assert.StartsWith("HTTP/1.1 301 Moved Permanently\n", headers, StringComparison.Ordinal);
        Assert.Matches(@"(?im)^location: https://edition\.cnn\.com/politics$", headers);
        Assert.Matches(@"(?m)^HTTP/2 200 $", headers);
        Assert.Matches(@"(?im)^content-type: text/html; charset=utf-8$", headers);
    }

    private static void AssertLine(string log, string pattern)
    {
        var line = log.Split('\n').Last(l => l.Contains("\"GET /politics HTTP/", StringComparison.Ordinal));
        Assert.True(Regex.IsMatch(line, pattern), $"the gateway's line does not match {pattern}:\n{line}");
    }

    private static string Seed(string file) => Path.Combine(TestPaths.TestData, "Seed", file);
}

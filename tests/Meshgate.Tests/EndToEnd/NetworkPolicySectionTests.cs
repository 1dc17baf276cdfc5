using System.Text.RegularExpressions;
using Meshgate.Tests.Capture;
using Xunit;

namespace Meshgate.Tests.EndToEnd;

/// <summary>
/// The seed document's "Apply Kubernetes network policies" section in a real local cluster, both tabs: its commands as
/// the document writes them (kubectl and istioctl are meshgate; <c>@samples/sleep/sleep.yaml@</c> is the sample's
/// path), and every output it shows checked: the bare pod's <c>1/1</c> and <c>200</c>, the timeout once the policy is
/// in place, <c>sleep istio-proxy</c> and <c>200</c> through the egress gateway once injected, the gateway's log line,
/// and a cleanup that leaves nothing behind.
/// </summary>
[Collection(LocalClusterCollection.Name)]
public sealed partial class NetworkPolicySectionTests
{
    private const string Pod = "$(kubectl get pod -n test-egress -l app=sleep -o jsonpath={.items..metadata.name})";

    [RootFact]
    public async Task IstioApisTab_BarePodIsBlocked_InjectedPodGoesThroughTheEgressGateway()
    {
        await using var cluster = await LocalClusterRun.StartAsync();
        // 1) The steps of "Egress gateway for HTTPS traffic", Istio APIs.
        await cluster.StepAsync($"kubectl apply -f {Seed("https-serviceentry.yaml")} && kubectl apply -f {Seed("https-istio-gateway-destinationrule-virtualservice.yaml")}");

        await BarePodReachesTheSiteUntilThePolicyAsync(cluster, "kubectl label namespace istio-system istio=system", Seed("netpol-istio-networkpolicy.yaml"));

        await InjectAsync(cluster);
        await cluster.StepAsync($"kubectl apply -n test-egress -f - < {Seed("netpol-istio-destinationrule-test-egress.yaml")}");
        var pod = await SendThroughGatewayAsync(cluster);

        // 14) The egress gateway's log shows the connection from the injected pod.
        var line = await cluster.WaitForAsync("kubectl logs -l istio=egressgateway -n istio-system", o => o.Contains("outbound|443||edition.cnn.com", StringComparison.Ordinal), "the gateway's log line");
        AssertGatewayLine(line, pod);

        // Cleanup, as written.
        await cluster.StepAsync("""
            kubectl delete -f samples/sleep/sleep.yaml -n test-egress
            kubectl delete destinationrule egressgateway-for-cnn -n test-egress
            kubectl delete networkpolicy allow-egress-to-istio-system-and-kube-dns -n test-egress
            kubectl label namespace kube-system kube-system-
            kubectl label namespace istio-system istio-
            kubectl delete namespace test-egress
            """);
        await AssertCleanAsync(cluster, "istio-system", "istio");
    }

    [RootFact]
    public async Task GatewayApiTab_BarePodIsBlocked_InjectedPodGoesThroughTheGateway()
    {
        await using var cluster = await LocalClusterRun.StartAsync();
        // 1) The steps of "Egress gateway for HTTPS traffic", Gateway API.
        await cluster.StepAsync($"kubectl apply -f {Seed("https-serviceentry.yaml")} && kubectl apply -f {Seed("https-gatewayapi-gateway-tlsroutes.yaml")}");
        await cluster.WaitForAsync("kubectl get gtw cnn-egress-gateway", o => Regex.IsMatch(o, @"cnn-egress-gateway\s+istio\s+\S+\s+True"), "the Gateway to be programmed");

        await BarePodReachesTheSiteUntilThePolicyAsync(cluster, "kubectl label namespace istio-system istio=system\nkubectl label namespace default gateway=true", Seed("netpol-gatewayapi-networkpolicy.yaml"));

        await InjectAsync(cluster);
        var pod = await SendThroughGatewayAsync(cluster);

        var line = await cluster.WaitForAsync("kubectl logs -l gateway.networking.k8s.io/gateway-name=cnn-egress-gateway -c istio-proxy | tail", o => o.Contains("outbound|443||edition.cnn.com", StringComparison.Ordinal), "the gateway's log line");
        AssertGatewayLine(line, pod);

        await cluster.StepAsync("""
            kubectl delete -f samples/sleep/sleep.yaml -n test-egress
            kubectl delete networkpolicy allow-egress-to-istio-system-and-kube-dns -n test-egress
            kubectl label namespace kube-system kube-system-
            kubectl label namespace istio-system istio-
            kubectl label namespace default gateway-
            kubectl delete namespace test-egress
            """);
        await AssertCleanAsync(cluster, "default", "gateway");
    }

    /// <summary>
    /// A held-out variant of the section: another namespace, another site, and a policy written with <c>ipBlock</c> (the
    /// pod network only) instead of selectors. The outcome must be the same: reachable before, blocked after, reachable
    /// again through the egress gateway once injected.
    /// </summary>
    [RootFact]
    public async Task HeldOutVariant_OtherNamespaceSiteAndIpBlockPolicy_SameOutcome()
    {
        await using var cluster = await LocalClusterRun.StartAsync("--site", "example.org");
        await cluster.StepAsync($"for f in {Seed("https-serviceentry.yaml")} {Seed("https-istio-gateway-destinationrule-virtualservice.yaml")}; do sed 's/edition\\.cnn\\.com/example.org/g' $f | kubectl apply -f -; done");
        await cluster.StepAsync("kubectl create namespace egress-lab && kubectl apply -n egress-lab -f samples/sleep/sleep.yaml");
        const string pod = "$(kubectl get pod -n egress-lab -l app=sleep -o jsonpath={.items..metadata.name})";
        await cluster.WaitForAsync($"kubectl get pod \"{pod}\" -n egress-lab", o => Regex.IsMatch(o, @"\s1/1\s+Running\s"), "the bare pod to run");
        const string curl = $"kubectl exec \"{pod}\" -n egress-lab -c sleep -- curl -sS -o /dev/null -w \"%{{http_code}}\\n\" https://example.org/";
        Assert.Equal("200\n", await cluster.StepAsync(curl));

        await cluster.StepAsync("""
            kubectl apply -n egress-lab -f - <<EOF
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata:
              name: pod-network-only
            spec:
              podSelector: {}
              policyTypes:
              - Egress
              egress:
              - to:
                - ipBlock:
                    cidr: 10.244.0.0/16
            EOF
            """);
        var (code, _, error) = await cluster.BashAsync(curl, TimeSpan.FromSeconds(60));
        Assert.NotEqual(0, code);
        Assert.Contains("Failed to connect to example.org port 443", error, StringComparison.Ordinal);

        await cluster.StepAsync("kubectl label namespace egress-lab istio-injection=enabled && kubectl delete deployment sleep -n egress-lab && kubectl apply -f samples/sleep/sleep.yaml -n egress-lab");
        await cluster.WaitForAsync($"kubectl get pod \"{pod}\" -n egress-lab", o => Regex.IsMatch(o, @"\s2/2\s+Running\s"), "the injected pod to be ready");
        await cluster.StepAsync($"kubectl apply -n egress-lab -f - < {Seed("netpol-istio-destinationrule-test-egress.yaml")}");
        Assert.Equal("200\n", await cluster.StepAsync(curl));
        var log = await cluster.WaitForAsync("kubectl logs -l istio=egressgateway -n istio-system", o => o.Contains("outbound|443||example.org", StringComparison.Ordinal), "the gateway's log line");
        Assert.Contains(" example.org -", log.Split('\n').Last(l => l.Contains("outbound|443||example.org", StringComparison.Ordinal)), StringComparison.Ordinal);

        await cluster.StepAsync("kubectl delete namespace egress-lab");
        await cluster.WaitForAsync("ip netns list | grep -c '^mgk-egress-lab' || true", o => o.Trim() == "0", "egress-lab's pod namespaces to be removed");
    }

    /// <summary>Steps 2 to 9: a bare pod in test-egress gets 200, the namespaces are labelled, the policy applied, and the same request times out.</summary>
    private static async Task BarePodReachesTheSiteUntilThePolicyAsync(LocalClusterRun cluster, string labelSystemNamespaces, string policyFile)
    {
        await cluster.StepAsync("kubectl create namespace test-egress");
        await cluster.StepAsync("kubectl apply -n test-egress -f samples/sleep/sleep.yaml");

        // 4) One container, no sidecar: 1/1 Running.
        var listing = await cluster.WaitForAsync($"kubectl get pod \"{Pod}\" -n test-egress", o => o.Contains("Running", StringComparison.Ordinal), "the bare sleep pod to run");
        Assert.Matches(@"^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\nsleep-[a-z0-9]{10}-[a-z0-9]{5}\s+1/1\s+Running\s+0\s+\d+s\n$", listing);

        // 5) No policy yet: 200.
        var ok = await cluster.StepAsync($"kubectl exec \"{Pod}\" -n test-egress -c sleep -- curl -s -o /dev/null -w \"%{{http_code}}\\n\"  https://edition.cnn.com/politics");
        Assert.Equal("200\n", ok);

        // 6-8) Labels and the policy, as written.
        await cluster.StepAsync(labelSystemNamespaces);
        await cluster.StepAsync("kubectl label ns kube-system kube-system=true");
        await cluster.StepAsync($"cat {policyFile} | kubectl apply -n test-egress -f -");

        // 9) The same request now fails: the policy drops it, so the connection times out.
        var (code, output, error) = await cluster.BashAsync($"kubectl exec \"{Pod}\" -n test-egress -c sleep -- curl -v -sS https://edition.cnn.com/politics", TimeSpan.FromSeconds(60));
        Assert.NotEqual(0, code);
        Assert.Equal("", output);
        Assert.Contains("Trying 198.51.100.10:443...", error, StringComparison.Ordinal);
        Assert.Contains("Connection timed out", error, StringComparison.Ordinal);
    }

    /// <summary>Steps 10 to 12: injection enabled, the Deployment redeployed, and the new pod has two containers.</summary>
    private static async Task InjectAsync(LocalClusterRun cluster)
    {
        await cluster.StepAsync("kubectl label namespace test-egress istio-injection=enabled");
        await cluster.StepAsync("kubectl delete deployment sleep -n test-egress\nkubectl apply -f samples/sleep/sleep.yaml -n test-egress");
        await cluster.WaitForAsync($"kubectl get pod \"{Pod}\" -n test-egress", o => Regex.IsMatch(o, @"\s2/2\s+Running\s"), "the injected pod to be ready");
        var containers = await cluster.StepAsync($"kubectl get pod \"{Pod}\" -n test-egress -o jsonpath='{{.spec.containers[*].name}}'");
        Assert.Equal("sleep istio-proxy", containers);
    }

    /// <summary>Step 13: 200 again, through the sidecar and the egress gateway; returns the pod's IP.</summary>
    private static async Task<string> SendThroughGatewayAsync(LocalClusterRun cluster)
    {
        var ok = await cluster.StepAsync($"kubectl exec \"{Pod}\" -n test-egress -c sleep -- curl -sS -o /dev/null -w \"%{{http_code}}\\n\" https://edition.cnn.com/politics");
        Assert.Equal("200\n", ok);
        return (await cluster.StepAsync($"kubectl get pod \"{Pod}\" -n test-egress -o jsonpath='{{.status.podIP}}'")).Trim();
    }

    /// <summary>The document's line: <c>"- - -" 0 - ... "151.101.193.67:443" outbound|443||edition.cnn.com LOCAL GATEWAY:443 SOURCE:PORT edition.cnn.com -</c>.</summary>
    private static void AssertGatewayLine(string log, string podIp)
    {
        var line = log.Split('\n').Last(l => l.Contains("outbound|443||edition.cnn.com", StringComparison.Ordinal));
        Assert.Matches(GatewayLine(), line);
        Assert.Contains($" {podIp}:", line, StringComparison.Ordinal); // the downstream is the injected pod
    }

    [GeneratedRegex("""^\[\d{4}-\d\d-\d\dT[\d:.]+Z\] "- - -" 0 - (- - "-"|"-" "-") \d+ \d+ \d+ - "-" "-" "-" "-" "198\.51\.100\.10:443" outbound\|443\|\|edition\.cnn\.com 10\.244\.\d+\.\d+:\d+ 10\.244\.\d+\.\d+:\d+ 10\.244\.\d+\.\d+:\d+ edition\.cnn\.com -$""")]
    private static partial Regex GatewayLine();

    private static async Task AssertCleanAsync(LocalClusterRun cluster, string labelledNamespace, string label)
    {
        var namespaces = await cluster.StepAsync("kubectl get namespaces");
        Assert.DoesNotContain("test-egress", namespaces, StringComparison.Ordinal);
        var labels = await cluster.StepAsync($"kubectl get namespace {labelledNamespace} -o jsonpath='{{.metadata.labels}}'; kubectl get namespace kube-system -o jsonpath='{{.metadata.labels}}'");
        Assert.DoesNotContain($"\"{label}\"", labels, StringComparison.Ordinal);
        Assert.DoesNotContain("\"kube-system\":\"true\"", labels, StringComparison.Ordinal);
        await cluster.WaitForAsync("ip netns list | grep -c '^mgk-test-egress' || true", o => o.Trim() == "0", "test-egress's pod namespaces to be removed");
    }

    private static string Seed(string file) => Path.Combine(TestPaths.TestData, "Seed", file);
}

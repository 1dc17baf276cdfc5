using Meshgate.Tests.Push;
using Xunit;

namespace Meshgate.Tests.Commands;

/// <summary>The specification's kubectl steps, in its order, as a user types them.</summary>
public sealed class SeedWalkthroughTests : IAsyncLifetime
{
    private readonly CliHarness _cli = new();

    public Task InitializeAsync() => _cli.InitializeAsync();

    public Task DisposeAsync() => _cli.DisposeAsync();

    private static string Seed(string file) => Path.Combine(TestPaths.TestData, "Seed", file);

    [Fact]
    public async Task HttpSection_IstioApis_ApplyGetReapplyDelete()
    {
        Assert.Equal("serviceaccount/sleep created\nservice/sleep created\ndeployment.apps/sleep created\n",
            await _cli.OkAsync("apply", "-f", Seed("sleep.yaml")));
        Assert.Equal("serviceentry.networking.istio.io/cnn created\n", await _cli.OkAsync("apply", "-f", Seed("http-serviceentry.yaml")));
        Assert.Equal("gateway.networking.istio.io/istio-egressgateway created\ndestinationrule.networking.istio.io/egressgateway-for-cnn created\n",
            await _cli.OkAsync("apply", "-f", Seed("http-istio-gateway-destinationrule.yaml")));
        Assert.Equal("virtualservice.networking.istio.io/direct-cnn-through-egress-gateway created\n",
            await _cli.OkAsync("apply", "-f", Seed("http-istio-virtualservice.yaml")));

        var table = await _cli.OkAsync("get", "vs");
        Assert.Matches(@"^NAME\s+GATEWAYS\s+HOSTS\s+AGE\ndirect-cnn-through-egress-gateway\s+\[""istio-egressgateway"",""mesh""\]\s+\[""edition.cnn.com""\]\s+\d+s\n$", table);
        Assert.Equal("serviceentry.networking.istio.io/cnn unchanged\n", await _cli.OkAsync("apply", "-f", Seed("http-serviceentry.yaml")));

        Assert.Equal("serviceentry.networking.istio.io \"cnn\" deleted\n", await _cli.OkAsync("delete", "serviceentry", "cnn"));
        Assert.Equal("gateway.networking.istio.io \"istio-egressgateway\" deleted\n", await _cli.OkAsync("delete", "gateway", "istio-egressgateway"));
        Assert.Equal("virtualservice.networking.istio.io \"direct-cnn-through-egress-gateway\" deleted\n", await _cli.OkAsync("delete", "virtualservice", "direct-cnn-through-egress-gateway"));
        Assert.Equal("destinationrule.networking.istio.io \"egressgateway-for-cnn\" deleted\n", await _cli.OkAsync("delete", "destinationrule", "egressgateway-for-cnn"));
        var empty = await _cli.RunAsync("get", "se,gw,vs,dr");
        Assert.Equal("", empty.Out);
        Assert.Equal("No resources found in default namespace.\n", empty.Error);
    }

    [Fact]
    public async Task HttpsSection_GatewayApi_ApplyAndDeleteWithShortNames()
    {
        await _cli.OkAsync("apply", "-f", Seed("https-serviceentry.yaml"));
        var applied = await _cli.OkAsync("apply", "-f", Seed("https-gatewayapi-gateway-tlsroutes.yaml"));

        Assert.Equal("gateway.gateway.networking.k8s.io/cnn-egress-gateway created\ntlsroute.gateway.networking.k8s.io/direct-cnn-to-egress-gateway created\ntlsroute.gateway.networking.k8s.io/forward-cnn-from-egress-gateway created\n", applied);
        // The control plane writes the Gateway's status after the apply returns, as Istio does: wait for it, then the row is settled.
        await ProxyUnderTest.WaitUntilAsync(
            async () => (await _cli.OkAsync("get", "gtw", "cnn-egress-gateway", "-o", "json")).Contains("\"Programmed\"", StringComparison.Ordinal),
            "the control plane writes the Gateway's Programmed condition");
        Assert.Matches(@"^NAME\s+CLASS\s+ADDRESS\s+PROGRAMMED\s+AGE\ncnn-egress-gateway\s+istio\s+cnn-egress-gateway-istio\.default\.svc\.cluster\.local\s+False\s+\d+s\n$", await _cli.OkAsync("get", "gtw"));
        Assert.Equal("gateway.gateway.networking.k8s.io \"cnn-egress-gateway\" deleted\n", await _cli.OkAsync("delete", "gtw", "cnn-egress-gateway"));
        Assert.Equal("tlsroute.gateway.networking.k8s.io \"direct-cnn-to-egress-gateway\" deleted\n", await _cli.OkAsync("delete", "tlsroute", "direct-cnn-to-egress-gateway"));
        Assert.Equal("tlsroute.gateway.networking.k8s.io \"forward-cnn-from-egress-gateway\" deleted\n", await _cli.OkAsync("delete", "tlsroute", "forward-cnn-from-egress-gateway"));
    }

    [Fact]
    public async Task NetworkPolicySection_NamespacesLabelsAndCleanup()
    {
        Assert.Equal("namespace/test-egress created\n", await _cli.OkAsync("create", "namespace", "test-egress"));
        Assert.Equal("serviceaccount/sleep created\nservice/sleep created\ndeployment.apps/sleep created\n",
            await _cli.OkAsync("apply", "-n", "test-egress", "-f", Seed("sleep.yaml")));
        Assert.Equal("namespace/istio-system labeled\n", await _cli.OkAsync("label", "namespace", "istio-system", "istio=system"));
        Assert.Equal("namespace/kube-system labeled\n", await _cli.OkAsync("label", "ns", "kube-system", "kube-system=true"));
        var policy = await File.ReadAllTextAsync(Seed("netpol-istio-networkpolicy.yaml"));
        Assert.Equal("networkpolicy.networking.k8s.io/allow-egress-to-istio-system-and-kube-dns created\n",
            await _cli.OkStdinAsync(policy, "apply", "-n", "test-egress", "-f", "-"));
        Assert.Equal("destinationrule.networking.istio.io/egressgateway-for-cnn created\n",
            await _cli.OkAsync("apply", "-n", "test-egress", "-f", Seed("netpol-istio-destinationrule-test-egress.yaml")));
        Assert.Equal("namespace/test-egress labeled\n", await _cli.OkAsync("label", "namespace", "test-egress", "istio-injection=enabled"));

        Assert.Equal("test-egress", await _cli.OkAsync("get", "ns", "-l", "istio-injection=enabled", "-o", "jsonpath={.items..metadata.name}"));
        Assert.Equal("istio-system\n", await _cli.OkAsync("get", "namespace", "-l", "istio=system", "-o", "name").ContinueWith(t => t.Result.Replace("namespace/", "")));

        Assert.Equal("serviceaccount \"sleep\" deleted\nservice \"sleep\" deleted\ndeployment.apps \"sleep\" deleted\n",
            await _cli.OkAsync("delete", "-f", Seed("sleep.yaml"), "-n", "test-egress"));
        Assert.Equal("namespace/kube-system unlabeled\n", await _cli.OkAsync("label", "namespace", "kube-system", "kube-system-"));
        Assert.Equal("namespace/istio-system unlabeled\n", await _cli.OkAsync("label", "namespace", "istio-system", "istio-"));
        Assert.Equal("namespace \"test-egress\" deleted\n", await _cli.OkAsync("delete", "namespace", "test-egress"));
        var gone = await _cli.RunAsync("get", "networkpolicy", "-n", "test-egress", "allow-egress-to-istio-system-and-kube-dns");
        Assert.Equal(1, gone.ExitCode);
        Assert.Equal("Error from server (NotFound): networkpolicies.networking.k8s.io \"allow-egress-to-istio-system-and-kube-dns\" not found\n", gone.Error);
    }

    [Fact]
    public async Task Apply_MultiDocumentWithOneBadDocument_StoresNothingAndNamesIt()
    {
        var good = await File.ReadAllTextAsync(Seed("http-istio-gateway-destinationrule.yaml"));
        var bad = good + "\n---\napiVersion: networking.istio.io/v1alpha3\nkind: ServiceEntry\nmetadata:\n  name: cnn\nspec:\n  hosts: [edition.cnn.com]\n  ports:\n  - number: 70000\n    name: http\n    protocol: HTTP\n  resolution: DNS\n";

        var result = await _cli.RunWithStdinAsync(bad, "apply", "-f", "-");

        Assert.Equal(1, result.ExitCode);
        Assert.Equal("", result.Out);
        Assert.Equal("error: ServiceEntry default/cnn (stdin, document 3, line 33): spec.ports[0].number: 70000 is not a port (1-65535)\n", result.Error);
        Assert.Equal("No resources found in default namespace.\n", (await _cli.RunAsync("get", "gw,dr")).Error);
    }

    [Fact]
    public async Task Get_WhenControlPlaneIsDown_SaysSoAndHowToStartIt()
    {
        var address = _cli.Server.ApiAddress.ToString();
        await _cli.Server.StopAsync();

        var result = await _cli.RunAsync("get", "se");

        Assert.Equal(1, result.ExitCode);
        Assert.Equal($"error: cannot reach the Meshgate control plane at {address} (connection refused); start it with './meshgate up' (or 'meshgate controlplane'), or point KUBECONFIG (or --server) at it\n", result.Error);
    }
}

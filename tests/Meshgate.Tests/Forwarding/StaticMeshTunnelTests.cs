using System.Net;
using Meshgate.Tests.Listeners;
using Meshgate.Tests.Proxy;
using Xunit;

namespace Meshgate.Tests.Forwarding;

/// <summary>
/// The mesh tunnel between two proxies run from static configurations (no control plane, no identity agent): each
/// names its own certificate and the mesh root as secrets <c>default</c> and <c>ROOTCA</c>, as Envoy's static secrets
/// stand in for SDS. The sidecar wraps its hop in mutual TLS (ALPN <c>istio</c>) and the gateway's plaintext HTTP
/// listener unwraps it; a gateway without those secrets cannot, and the sidecar's request fails.
/// </summary>
public sealed class StaticMeshTunnelTests : IDisposable
{
    private const string SleepIdentity = "spiffe://cluster.local/ns/default/sa/sleep";
    private const string GatewayIdentity = "spiffe://cluster.local/ns/istio-system/sa/istio-egressgateway-service-account";

    private readonly SpiffeCertificates _ca = new();

    public void Dispose() => _ca.Dispose();

    [Fact]
    public async Task SidecarToGateway_ThroughTheTunnel_OriginAnswersAndTheGatewayKnowsTheSidecar()
    {
        await using var origin = await HttpOrigin.StartAsync("through the tunnel");
        await using var gateway = await ProxyHarness.StartAsync(Gateway(origin.Port, Secrets("istio-egressgateway", GatewayIdentity)));
        await using var sidecar = await ProxyHarness.StartAsync(Sidecar(gateway.Port, Secrets("sleep", SleepIdentity)));
        using var client = new HttpClient();

        for (var i = 0; i < 3; i++)
        {
            var response = await client.GetAsync($"http://127.0.0.1:{sidecar.Port}/hop{i}");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("through the tunnel", await response.Content.ReadAsStringAsync());
        }

        // The gateway saw the sidecar's certificate (its metrics label every request with the peer's identity).
        var lines = await gateway.LogLinesAsync(3);
        Assert.All(lines, line => Assert.Contains(" 200 - via_upstream ", line, StringComparison.Ordinal));
        Assert.Contains(gateway.Proxy.Metrics.Requests(), counter => counter.Key.SourcePrincipal == SleepIdentity && counter.Key.ResponseCode == 200);
    }

    [Fact]
    public async Task GatewayWithoutTheSecrets_CannotUnwrap_SidecarAnswers503Uf()
    {
        await using var origin = await HttpOrigin.StartAsync("never");
        await using var gateway = await ProxyHarness.StartAsync(Gateway(origin.Port, ""));
        await using var sidecar = await ProxyHarness.StartAsync(Sidecar(gateway.Port, Secrets("sleep", SleepIdentity)));
        using var client = new HttpClient();

        var response = await client.GetAsync($"http://127.0.0.1:{sidecar.Port}/hop");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Contains(" 503 UF ", Assert.Single(await sidecar.LogLinesAsync(1)), StringComparison.Ordinal);
    }

    private string Secrets(string name, string identity)
    {
        using var certificate = _ca.Issue(name, [], [identity]);
        var (chain, key) = SpiffeCertificates.Pem(certificate);
        return $"""
            secrets:
            - name: default
              certificateChain: |
            {Indent(chain)}
              privateKey: |
            {Indent(key)}
            - name: ROOTCA
              trustedCa: |
            {Indent(_ca.RootPem)}
            """;
    }

    private static string Indent(string pem) => string.Join("\n", pem.Trim().Split('\n').Select(l => "    " + l));

    private static string Gateway(int originPort, string secrets) => ProxyHarness.SingleClusterYaml(originPort, tail: secrets);

    private static string Sidecar(int gatewayPort, string secrets) => ProxyHarness.SingleClusterYaml(
        gatewayPort, "outbound|80||istio-egressgateway.istio-system.svc.cluster.local", "tls: {mode: ISTIO_MUTUAL, tunnel: true}", secrets);
}

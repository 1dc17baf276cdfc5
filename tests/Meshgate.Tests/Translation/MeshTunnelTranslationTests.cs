using Meshgate.Core.ProxyConfiguration;
using Meshgate.Core.Translation;

using Xunit;

namespace Meshgate.Tests.Translation;

/// <summary>
/// Identity on every hop: a sidecar with a workload certificate wraps its traffic to Meshgate gateways that have one in
/// the mesh's mutual TLS (ISTIO_MUTUAL, tunnel), unless a DestinationRule says otherwise.
/// </summary>
public class MeshTunnelTranslationTests
{
    private const string GatewayCluster = "outbound|80|cnn|istio-egressgateway.istio-system.svc.cluster.local";
    private const string PassthroughCluster = "outbound|443|cnn|istio-egressgateway.istio-system.svc.cluster.local";

    private static string Input(string destinationRuleSpec = "  subsets:\n  - name: cnn\n", bool gatewayCertificate = true) =>
        File.ReadAllText(Path.Combine(TestPaths.TestData, "Translation", "http-3-virtualservice", "input.yaml"))
            .Replace("    meshgate.io/role: gateway\n", "    meshgate.io/role: gateway\n" + (gatewayCertificate ? "    meshgate.io/workload-certificate: \"true\"\n" : ""), StringComparison.Ordinal)
            .Replace("  host: istio-egressgateway.istio-system.svc.cluster.local\n  subsets:\n  - name: cnn\n", "  host: istio-egressgateway.istio-system.svc.cluster.local\n" + destinationRuleSpec, StringComparison.Ordinal);

    private static Cluster Translate(string yaml, bool sidecarCertificate = true, string cluster = GatewayCluster)
    {
        var resources = TranslationFixtures.Parse(yaml);
        var node = TranslationFixtures.Sleep() with { HasWorkloadCertificate = sidecarCertificate };
        var config = Translator.Translate(resources, Translator.MeshSettingsFrom(resources), node, "1");
        Assert.Empty(TranslationFixtures.Validate(config));
        return Assert.Single(config.Clusters.AsSpan().ToArray(), c => c.Name == cluster);
    }

    [Fact]
    public void SidecarToGateway_BothWithCertificates_WrappedInTheMeshTunnelCheckingTheGatewaysIdentity()
    {
        var tls = Translate(Input()).Tls;
        Assert.NotNull(tls);
        Assert.Equal(TlsMode.IstioMutual, tls.Mode);
        Assert.True(tls.Tunnel);
        Assert.Equal(["spiffe://cluster.local/ns/istio-system/sa/istio-egressgateway-service-account"], tls.SubjectAltNames.AsSpan().ToArray());
    }

    [Fact]
    public void SidecarToGateway_PassthroughPort_AlsoWrapped()
    {
        var yaml = Input().Replace("  - number: 80\n    name: http\n    protocol: HTTP\n    hosts:\n    - edition.cnn.com\n",
            "  - number: 80\n    name: http\n    protocol: HTTP\n    hosts:\n    - edition.cnn.com\n  - number: 443\n    name: tls\n    protocol: TLS\n    hosts:\n    - edition.cnn.com\n    tls:\n      mode: PASSTHROUGH\n", StringComparison.Ordinal)
            + """

            ---
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata:
              name: tls-through-gateway
            spec:
              hosts: [edition.cnn.com]
              gateways: [mesh]
              tls:
              - match:
                - {port: 443, sniHosts: [edition.cnn.com]}
                route:
                - destination: {host: istio-egressgateway.istio-system.svc.cluster.local, subset: cnn, port: {number: 443}}
            """;
        Assert.True(Translate(yaml, cluster: PassthroughCluster).Tls?.Tunnel);
    }

    [Fact]
    public void DestinationRuleDisable_PlaintextAsSaid()
    {
        var yaml = Input("  trafficPolicy:\n    tls:\n      mode: DISABLE\n  subsets:\n  - name: cnn\n");
        Assert.Null(Translate(yaml).Tls);
    }

    [Fact]
    public void DestinationRuleIstioMutual_ExplicitNotTunneled()
    {
        var yaml = Input("  trafficPolicy:\n    tls:\n      mode: ISTIO_MUTUAL\n  subsets:\n  - name: cnn\n");
        var tls = Translate(yaml).Tls;
        Assert.NotNull(tls);
        Assert.False(tls.Tunnel);
    }

    [Fact]
    public void SidecarWithoutCertificate_Plaintext()
    {
        Assert.Null(Translate(Input(), sidecarCertificate: false).Tls);
    }

    [Fact]
    public void GatewayWithoutCertificate_Plaintext()
    {
        Assert.Null(Translate(Input(gatewayCertificate: false)).Tls);
    }

    [Fact]
    public void ExternalService_NeverWrapped()
    {
        var resources = TranslationFixtures.Parse(Input());
        var node = TranslationFixtures.Sleep() with { HasWorkloadCertificate = true };
        var config = Translator.Translate(resources, Translator.MeshSettingsFrom(resources), node, "1");
        Assert.Null(Assert.Single(config.Clusters.AsSpan().ToArray(), c => c.Name == "outbound|443||edition.cnn.com").Tls);
    }
}

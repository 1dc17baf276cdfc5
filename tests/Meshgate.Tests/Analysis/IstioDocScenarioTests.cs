using System.Collections.Immutable;
using Meshgate.Core.Analysis;
using Meshgate.Core.Resources;
using Meshgate.Core.Translation;
using Meshgate.Core.Validation;
using Xunit;

namespace Meshgate.Tests.Analysis;

/// <summary>
/// No false alarms: each scenario of Istio's egress pages, Istio API and Gateway API (TestData/IstioDocs, applied as the
/// pages apply them), analyzes clean, with the egress gateway `meshgate up` runs and the client Pod in default; the
/// Gateway API Gateways' deployments are not in the files, as in a files-only analysis.
/// </summary>
public sealed class IstioDocScenarioTests
{
    private const string Tlso = "egress-gateway-tls-origination--";

    public static TheoryData<string, string[]> Scenarios => new()
    {
        { "egress gateway, HTTP", ["egress-gateway--egress_gateway_for_http_traffic_1.yaml", "egress-gateway--egress_gateway_for_http_traffic_3.yaml", "egress-gateway--egress_gateway_for_http_traffic_5.yaml"] },
        { "egress gateway, HTTPS", ["egress-gateway--egress_gateway_for_https_traffic_1.yaml", "egress-gateway--egress_gateway_for_https_traffic_3.yaml"] },
        { "egress gateway, network policy section", ["egress-gateway--egress_gateway_for_https_traffic_1.yaml", "egress-gateway--egress_gateway_for_https_traffic_3.yaml", "test-egress:egress-gateway--apply_kubernetes_network_policies_14.yaml"] },
        { "accessing external services", ["egress-control--access_an_external_http_service_1.yaml", "egress-control--access_an_external_https_service_1.yaml", "egress-control--manage_traffic_to_external_services_2.yaml"] },
        { "TLS origination at the sidecar", ["egress-tls-origination--apply_origination.yaml"] },
        { "TLS origination at the egress gateway", [$"{Tlso}perform_tls_origination_with_an_egress_gateway_1.yaml", $"{Tlso}perform_tls_origination_with_an_egress_gateway_3.yaml", $"{Tlso}perform_tls_origination_with_an_egress_gateway_5.yaml", $"{Tlso}perform_tls_origination_with_an_egress_gateway_7.yaml"] },
        { "mutual TLS origination at the egress gateway", [$"{Tlso}deploy_a_mutual_tls_server_5.yaml", $"{Tlso}configure_mutual_tls_origination_for_egress_traffic_3.yaml", $"{Tlso}configure_mutual_tls_origination_for_egress_traffic_5.yaml", $"istio-system:{Tlso}configure_mutual_tls_origination_for_egress_traffic_7.yaml"] },
        { "wildcard host, direct", ["wildcard-egress-hosts--configure_direct_traffic_to_a_wildcard_host_1.yaml"] },
        { "wildcard host through the egress gateway", ["wildcard-egress-hosts--configure_egress_gateway_traffic_to_a_wildcard_host_1.yaml", "wildcard-egress-hosts--configure_egress_gateway_traffic_to_a_wildcard_host_2.yaml", "wildcard-egress-hosts--configure_egress_gateway_traffic_to_a_wildcard_host_3.yaml"] },
        { "egress gateway, HTTP, Gateway API", ["egress-gateway--egress_gateway_for_http_traffic_1.yaml", "egress-gateway--egress_gateway_for_http_traffic_4.yaml", "egress-gateway--egress_gateway_for_http_traffic_6.yaml"] },
        { "egress gateway, HTTPS, Gateway API", ["egress-gateway--egress_gateway_for_https_traffic_1.yaml", "egress-gateway--egress_gateway_for_https_traffic_4.yaml"] },
        { "TLS origination at the egress gateway, Gateway API", [$"{Tlso}perform_tls_origination_with_an_egress_gateway_1.yaml", $"{Tlso}perform_tls_origination_with_an_egress_gateway_4.yaml", $"{Tlso}perform_tls_origination_with_an_egress_gateway_6.yaml"] },
        // Hop 1 is a mesh VirtualService to the Service deployed for the Gateway (nginx-egressgateway-istio), hop 2 an HTTPRoute.
        { "mutual TLS origination at the egress gateway, Gateway API", [$"{Tlso}deploy_a_mutual_tls_server_5.yaml", $"{Tlso}configure_mutual_tls_origination_for_egress_traffic_4.yaml", $"{Tlso}configure_mutual_tls_origination_for_egress_traffic_6.yaml", $"{Tlso}configure_mutual_tls_origination_for_egress_traffic_8.yaml"] },
        { "Kubernetes ExternalName Service", ["egress-kubernetes-services--kubernetes_externalname_service_to_access_an_external_service_1.yaml", "egress-kubernetes-services--kubernetes_externalname_service_to_access_an_external_service_4.yaml"] },
    };

    [Theory]
    [MemberData(nameof(Scenarios))]
    public void Analyze_IstioDocScenario_NoFindings(string scenario, string[] files)
    {
        var objects = ImmutableDictionary.CreateBuilder<ObjectKey, Resource>();
        foreach (var resource in ConfigAnalyzer.DefaultResources(new MeshSettings()).Concat(SeedConfiguration.Build([SeedConfiguration.SleepPod]).Objects.Values))
        {
            objects[resource.Key] = resource;
        }

        foreach (var entry in files)
        {
            // "ns:file" is a file the page applies with -n ns.
            var colon = entry.IndexOf(':');
            var (ns, file) = colon < 0 ? ("default", entry) : (entry[..colon], entry[(colon + 1)..]);
            var parsed = ResourceParser.ParseText(File.ReadAllText(Path.Combine(TestPaths.TestData, "IstioDocs", file)), file, ns);
            Assert.True(parsed.Ok, string.Join("\n", parsed.Errors));
            foreach (var resource in parsed.Resources)
            {
                objects[resource.Key] = resource;
            }
        }

        var findings = ConfigAnalyzer.Analyze(new ResourceSet(1, objects.ToImmutable()), new MeshSettings());

        Assert.True(findings.Count == 0, $"{scenario}:\n{string.Join("\n", findings)}");
    }

    [Fact]
    public void Analyze_WildcardThroughGatewayWithResolutionNone_ReportsTheLoop()
    {
        // The wildcard page (Istio API: files 1 and 3): the hop-2 host must resolve with DNS; NONE (the default) loops at the gateway.
        var documents = new[] { "1", "3" }
            .Select(n => File.ReadAllText(Path.Combine(TestPaths.TestData, "IstioDocs", $"wildcard-egress-hosts--configure_egress_gateway_traffic_to_a_wildcard_host_{n}.yaml")))
            .Select(text => text.Replace("resolution: DNS", "resolution: NONE", StringComparison.Ordinal))
            .Prepend(SeedConfiguration.GatewayService)
            .Prepend(SeedConfiguration.GatewayPod);

        var findings = ConfigAnalyzer.Analyze(SeedConfiguration.Build(documents), new MeshSettings());

        var finding = Assert.Single(findings);
        Assert.Equal("MG0001", finding.Code.Code);
        Assert.Equal("spec.resolution", finding.Field);
    }
}

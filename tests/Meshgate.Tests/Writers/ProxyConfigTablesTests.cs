using System.Text.Json.Nodes;
using Meshgate.Core.ProxyConfiguration;
using Meshgate.Writers;
using Xunit;

namespace Meshgate.Tests.Writers;

/// <summary>The tables of <c>meshgate proxy-config</c>, on the sample egress gateway configuration.</summary>
public sealed class ProxyConfigTablesTests
{
    private static readonly ProxyConfig Sample = ProxyConfigLoader.Load(
        File.ReadAllText(Path.Combine(TestPaths.RepositoryRoot, "samples", "proxy", "egress-gateway.yaml")), "sample").Config!;

    [Fact]
    public void Listeners_Sample_OneRowPerChain()
    {
        Assert.Equal("""
            ADDRESS     PORT    MATCH                  DESTINATION
            127.0.0.1   18080   ALL                    Route: http.18080
            127.0.0.1   18443   SNI: edition.cnn.com   Cluster: outbound|443||edition.cnn.com

            """.Replace("\r", ""), ProxyConfigTables.Listeners(Sample));
    }

    [Fact]
    public void RoutesAndClusters_Sample_IstioColumns()
    {
        Assert.Equal("""
            NAME         DOMAINS           MATCH   VIRTUAL SERVICE
            http.18080   edition.cnn.com   /*      -

            """.Replace("\r", ""), ProxyConfigTables.Routes(Sample));
        Assert.Equal("""
            SERVICE FQDN      PORT   SUBSET   DIRECTION   TYPE         DESTINATION RULE
            edition.cnn.com   80     -        outbound    STRICT_DNS   -
            edition.cnn.com   443    -        outbound    STRICT_DNS   -

            """.Replace("\r", ""), ProxyConfigTables.Clusters(Sample));
    }

    [Fact]
    public void Endpoints_ResolvedAndUnresolved_HealthyAndUnhealthyRows()
    {
        var clusters = JsonNode.Parse("""
            {"configVersion":"1","clusters":[{"name":"outbound|80||edition.cnn.com","discovery":"STRICT_DNS","endpoints":[
              {"address":"edition.cnn.com","port":80,"weight":1,"resolved":["151.101.3.5","::1"]},
              {"address":"gone.example","port":80,"weight":1,"resolved":[]}]}]}
            """);

        Assert.Equal("""
            ENDPOINT          STATUS      OUTLIER CHECK   CLUSTER
            151.101.3.5:80    HEALTHY     OK              outbound|80||edition.cnn.com
            [::1]:80          HEALTHY     OK              outbound|80||edition.cnn.com
            gone.example:80   UNHEALTHY   OK              outbound|80||edition.cnn.com

            """.Replace("\r", ""), ProxyConfigTables.Endpoints(clusters));
    }
}

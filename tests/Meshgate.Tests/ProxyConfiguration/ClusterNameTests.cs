using Meshgate.Core.ProxyConfiguration;

using Xunit;

namespace Meshgate.Tests.ProxyConfiguration;

public class ClusterNameTests
{
    [Theory]
    [InlineData(80, "", "edition.cnn.com", "outbound|80||edition.cnn.com")]
    [InlineData(443, "", "edition.cnn.com", "outbound|443||edition.cnn.com")]
    [InlineData(80, "cnn", "istio-egressgateway.istio-system.svc.cluster.local", "outbound|80|cnn|istio-egressgateway.istio-system.svc.cluster.local")]
    public void Outbound_PortSubsetHost_IstioName(int port, string subset, string host, string expected)
    {
        Assert.Equal(expected, ClusterName.Outbound(port, subset, host));
    }

    [Fact]
    public void TryParse_OutboundSubsetName_ReadsEveryPart()
    {
        Assert.True(ClusterName.TryParse("outbound|80|cnn|istio-egressgateway.istio-system.svc.cluster.local", out var name));

        Assert.Equal(new ClusterName(TrafficDirection.Outbound, 80, "cnn", "istio-egressgateway.istio-system.svc.cluster.local"), name);
        Assert.Equal("outbound|80|cnn|istio-egressgateway.istio-system.svc.cluster.local", name.ToString());
    }

    [Fact]
    public void TryParse_InboundWithoutHost_Reads()
    {
        Assert.True(ClusterName.TryParse(ClusterName.Inbound(8080, "", ""), out var name));

        Assert.Equal(new ClusterName(TrafficDirection.Inbound, 8080, "", ""), name);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("BlackHoleCluster")]
    [InlineData("PassthroughCluster")]
    [InlineData("outbound|80|edition.cnn.com")]
    [InlineData("outbound|80||edition.cnn.com|extra")]
    [InlineData("sideways|80||edition.cnn.com")]
    [InlineData("outbound|0||edition.cnn.com")]
    [InlineData("outbound|65536||edition.cnn.com")]
    [InlineData("outbound|+80||edition.cnn.com")]
    [InlineData("outbound|http||edition.cnn.com")]
    [InlineData("outbound|80||")]
    public void TryParse_NotAnIstioClusterName_False(string? text)
    {
        Assert.False(ClusterName.TryParse(text, out var name));
        Assert.Equal(default, name);
    }
}

using Meshgate.ControlPlane.Push;
using Meshgate.Core.ProxyConfiguration;
using Xunit;

namespace Meshgate.Tests.Push;

/// <summary>A key's snapshot is serialized once; each proxy's copy is exactly what serializing its own config gives.</summary>
public sealed class SnapshotJsonTests
{
    private static ProxyConfig Config(string id) => new()
    {
        Version = "7-2",
        Node = new Node { Id = id, Role = ProxyRole.Sidecar, Namespace = "default", ServiceAccount = "sleep" },
        Listeners = [new Listener { Name = "tcp", Address = "127.0.0.1", Port = 18080, Protocol = ListenerProtocol.Tcp, DefaultFilterChain = new FilterChain { Cluster = Cluster.BlackHole } }],
        Clusters = [Cluster.BlackHoleCluster],
    };

    [Theory]
    [InlineData("sidecar~127.0.1.1~sleep-1.default~default.svc.cluster.local")]
    [InlineData("sidecar~127.0.1.12~sleep-12.default~default.svc.cluster.local")]
    [InlineData("gateway~10.0.0.1~\"odd\\name\".default~x")]
    public void EachProxyGetsItsOwnNodeIdAndOtherwiseTheSameBytes(string id)
    {
        var json = SnapshotJson.Create(Config("sidecar~127.0.1.2~sleep-2.default~default.svc.cluster.local"));

        Assert.Equal(ProxyConfigLoader.ToJson(Config(id)), System.Text.Encoding.UTF8.GetString(json.For(id).Span));
    }

    [Fact]
    public void ASnapshotWithoutNodeIsTheSameForEveryone()
    {
        var config = Config("x") with { Node = null };

        Assert.Equal(ProxyConfigLoader.ToJson(config), System.Text.Encoding.UTF8.GetString(SnapshotJson.Create(config).For("anyone").Span));
    }
}

using Meshgate.ControlPlane.Push;
using Meshgate.Core.ProxyConfiguration;

using Xunit;

namespace Meshgate.Tests.Push;

/// <summary>
/// <see cref="SnapshotComposer"/> writes the snapshot's top-level fields by hand (to copy unchanged objects' bytes), so
/// a field added to <see cref="ProxyConfig"/> would be silently left out of every pushed snapshot. These tests tie the
/// composer to the serializer: the same field list, and the same bytes for a configuration that sets every field.
/// </summary>
public sealed class SnapshotComposerTests
{
    [Fact]
    public void ProxyConfig_Fields_AreTheOnesTheComposerWrites()
    {
        var names = ProxyConfigJson.Options.GetTypeInfo(typeof(ProxyConfig)).Properties.Select(p => p.Name).Order(StringComparer.Ordinal);

        // If this fails, a field was added to ProxyConfig: write it in SnapshotComposer.Compose too, then add it here.
        Assert.Equal(["accessLog", "clusters", "egress", "listeners", "node", "routeTables", "secrets", "version"], names);
    }

    [Fact]
    public void Compose_EveryFieldSet_SameBytesAsTheSerializer()
    {
        var loaded = ProxyConfigLoader.Load(File.ReadAllText(Path.Combine(TestPaths.RepositoryRoot, "samples", "proxy", "egress-gateway.yaml")), "egress-gateway.yaml");
        var config = loaded.Config! with
        {
            Node = new Node { Id = "router~10.0.0.9~egress.istio-system~istio-system.svc.cluster.local", Role = ProxyRole.Gateway, Namespace = "istio-system" },
            AccessLog = new AccessLogSettings { Path = "/dev/stdout" },
            Egress = new EgressSettings { AllowedCidrs = ["127.0.0.77"] },
        };
        Assert.NotEmpty(config.Listeners);
        Assert.NotEmpty(config.Clusters);

        var composed = SnapshotComposer.Compose(config, null);

        Assert.Equal(ProxyConfigLoader.ToJsonUtf8(config), composed.Index.Json);
    }
}

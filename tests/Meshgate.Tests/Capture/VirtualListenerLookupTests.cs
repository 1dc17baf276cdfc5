using System.Net;
using Meshgate.Core.ProxyConfiguration;
using Meshgate.Proxy;
using Meshgate.Proxy.Upstream;
using Xunit;

namespace Meshgate.Tests.Capture;

public class VirtualListenerLookupTests
{
    [Fact]
    public void VirtualListener_ExactAddressFirstThenWildcardThenNone()
    {
        var config = SidecarSnapshots.Sidecar(15001, Cluster.Passthrough, 80, "edition.cnn.com", "10.0.0.1:80", 443, "edition.cnn.com", "10.0.0.1:443");
        var exact = config.Listeners[1] with { Name = "10.0.0.9_80", Address = "10.0.0.9" };
        config = config with { Listeners = [.. config.Listeners, exact] };
        Assert.Empty(ProxyConfigValidator.Validate(config));
        var snapshot = new ProxySnapshot(config, EndpointResolver.Create([], TimeProvider.System));

        Assert.Equal("10.0.0.9_80", snapshot.VirtualListener(IPAddress.Parse("10.0.0.9"), 80)?.Listener.Name);
        Assert.Equal("10.0.0.9_80", snapshot.VirtualListener(IPAddress.Parse("::ffff:10.0.0.9"), 80)?.Listener.Name);
        Assert.Equal("0.0.0.0_80", snapshot.VirtualListener(IPAddress.Parse("10.0.0.8"), 80)?.Listener.Name);
        Assert.Equal("0.0.0.0_80", snapshot.VirtualListener(null, 80)?.Listener.Name);
        Assert.Equal("0.0.0.0_443", snapshot.VirtualListener(null, 443)?.Listener.Name);
        Assert.Null(snapshot.VirtualListener(IPAddress.Parse("10.0.0.9"), 8080));
        Assert.Null(snapshot.VirtualListener(null, 15001)); // the capture listener binds: it is no virtual listener
    }
}

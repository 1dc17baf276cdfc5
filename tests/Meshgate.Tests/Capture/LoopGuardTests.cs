using System.Net;
using Meshgate.Proxy.Upstream;
using Xunit;

namespace Meshgate.Tests.Capture;

public class LoopGuardTests
{
    [Fact]
    public void IsSelf_ExactListener_OnlyThatAddressAndPort()
    {
        var guard = new LoopGuard();
        guard.Update([new IPEndPoint(IPAddress.Parse("127.0.0.1"), 8080)]);

        Assert.True(guard.IsSelf(new IPEndPoint(IPAddress.Parse("127.0.0.1"), 8080)));
        Assert.True(guard.IsSelf(new IPEndPoint(IPAddress.Parse("::ffff:127.0.0.1"), 8080)));
        Assert.False(guard.IsSelf(new IPEndPoint(IPAddress.Parse("127.0.0.2"), 8080)));
        Assert.False(guard.IsSelf(new IPEndPoint(IPAddress.Parse("127.0.0.1"), 8081)));
    }

    [Fact]
    public void IsSelf_WildcardListener_AnyLocalAddressButNoRemoteOne()
    {
        var guard = new LoopGuard();
        guard.Update([new IPEndPoint(IPAddress.Any, 8443)]);

        Assert.True(guard.IsSelf(new IPEndPoint(IPAddress.Loopback, 8443)));
        Assert.True(guard.IsSelf(new IPEndPoint(IPAddress.Parse("127.0.0.53"), 8443)));
        Assert.False(guard.IsSelf(new IPEndPoint(IPAddress.Parse("192.0.2.10"), 8443))); // TEST-NET-1: never local
        Assert.False(guard.IsSelf(new IPEndPoint(IPAddress.Loopback, 443)));
    }

    [Fact]
    public void Update_ListenersGone_NothingIsSelf()
    {
        var guard = new LoopGuard();
        guard.Update([new IPEndPoint(IPAddress.Loopback, 8080)]);
        guard.Update([]);

        Assert.False(guard.IsSelf(new IPEndPoint(IPAddress.Loopback, 8080)));
    }
}

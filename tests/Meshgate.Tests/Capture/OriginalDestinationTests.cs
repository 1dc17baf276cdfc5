using System.Net;
using Meshgate.Proxy.Capture;
using Xunit;

namespace Meshgate.Tests.Capture;

public class OriginalDestinationTests
{
    [Theory]
    [InlineData("edition.cnn.com:443", 0, "edition.cnn.com", 443, false)]
    [InlineData("edition.cnn.com", 80, "edition.cnn.com", 80, false)]
    [InlineData("EDITION.cnn.com:8080", 80, "EDITION.cnn.com", 8080, false)]
    [InlineData("10.0.0.5:3306", 0, "10.0.0.5", 3306, true)]
    [InlineData("[::1]:443", 0, "::1", 443, true)]
    [InlineData("[2001:db8::1]", 80, "2001:db8::1", 80, true)]
    [InlineData("under_score.example:1", 0, "under_score.example", 1, false)]
    public void TryParse_Authority_HostAndPort(string authority, int defaultPort, string host, int port, bool isIp)
    {
        Assert.True(OriginalDestination.TryParse(authority, defaultPort, out var destination));

        Assert.Equal(host, destination.Host);
        Assert.Equal(port, destination.Port);
        Assert.Equal(isIp, destination.Address is not null);
    }

    [Theory]
    [InlineData("edition.cnn.com", 0)] // CONNECT needs a port (RFC 9112 §3.2.3)
    [InlineData("edition.cnn.com:", 80)]
    [InlineData(":443", 0)]
    [InlineData("", 80)]
    [InlineData("edition.cnn.com:0", 0)]
    [InlineData("edition.cnn.com:65536", 0)]
    [InlineData("edition.cnn.com:+443", 0)]
    [InlineData("edition.cnn.com:4431234", 0)]
    [InlineData("[::1:443", 0)]
    [InlineData("[::1]x443", 0)]
    [InlineData("[edition.cnn.com]:443", 0)]
    [InlineData("[10.0.0.1]:443", 0)]
    [InlineData("::1:443", 0)]
    [InlineData("user@edition.cnn.com:443", 0)]
    [InlineData("edition/cnn.com:443", 0)]
    [InlineData("edition cnn.com:443", 0)]
    [InlineData("edition.cnn.com:443\0", 0)]
    public void TryParse_Malformed_False(string authority, int defaultPort)
    {
        Assert.False(OriginalDestination.TryParse(authority, defaultPort, out _));
    }

    [Fact]
    public void ToString_Ipv6_Bracketed()
    {
        Assert.Equal("[::1]:443", OriginalDestination.From(new IPEndPoint(IPAddress.IPv6Loopback, 443)).ToString());
        Assert.Equal("edition.cnn.com:80", new OriginalDestination("edition.cnn.com", null, 80).ToString());
    }
}

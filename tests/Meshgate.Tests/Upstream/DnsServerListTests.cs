using Meshgate.Proxy.Upstream;
using Xunit;

namespace Meshgate.Tests.Upstream;

public sealed class DnsServerListTests
{
    [Theory]
    [InlineData(new[] { "127.0.0.1:5353" }, "127.0.0.1:5353")]
    [InlineData(new[] { "127.0.0.1:5353,127.0.0.2:53" }, "127.0.0.1:5353 127.0.0.2:53")]
    [InlineData(new[] { "127.0.0.1:5353", "127.0.0.2:5354" }, "127.0.0.1:5353 127.0.0.2:5354")]
    [InlineData(new[] { " 127.0.0.1:5353 , [::1]:5353 " }, "127.0.0.1:5353 [::1]:5353")]
    [InlineData(new[] { "127.0.0.1" }, "127.0.0.1:53")]
    [InlineData(new[] { "::1" }, "[::1]:53")]
    [InlineData(new[] { "127.0.0.1:53,127.0.0.1:53" }, "127.0.0.1:53")]
    [InlineData(new[] { "" }, "")]
    public void TryParse_Valid_ServersInOrder(string[] values, string expected)
    {
        Assert.True(DnsServerList.TryParse(values, out var servers, out var error), error);
        Assert.Equal(expected, string.Join(" ", servers));
    }

    [Theory]
    [InlineData("dns.example:53")]
    [InlineData("127.0.0.1:0")]
    [InlineData("127.0.0.1:70000")]
    [InlineData("127.0.0.1:port")]
    [InlineData("[::1]")]
    public void TryParse_Invalid_FalseNamingTheValue(string value)
    {
        Assert.False(DnsServerList.TryParse(["127.0.0.1:5353", value], out _, out var error));
        Assert.Equal($"\"{value}\" is not a DNS server address: expected IP:PORT, e.g. 127.0.0.1:5353 or [::1]:53", error);
    }
}

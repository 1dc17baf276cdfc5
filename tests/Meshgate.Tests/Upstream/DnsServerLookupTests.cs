using System.Net;
using Meshgate.Proxy.Upstream;
using Meshgate.Tests.EndToEnd;
using Xunit;

namespace Meshgate.Tests.Upstream;

/// <summary>One lookup through DnsClient against a real dnsmasq: TTLs, address families, errors.</summary>
public sealed class DnsServerLookupTests : IAsyncLifetime
{
    private DnsmasqServer _dns = null!;

    public async Task InitializeAsync()
    {
        _dns = await DnsmasqServer.StartAsync(new Dictionary<string, string>
        {
            ["edition.cnn.com"] = "127.0.0.77",
            ["dual.example"] = "127.0.0.80 127.0.0.81 ::1",
            ["v6only.example"] = "::1",
        });
    }

    public async Task DisposeAsync() => await _dns.DisposeAsync();

    private Task<LookupResult> LookupAsync(string name) =>
        new DnsServerLookup([_dns.Endpoint], new HostsFile("/nonexistent/hosts"), TimeSpan.FromMilliseconds(500)).LookupAsync(name, CancellationToken.None);

    [Fact]
    public async Task LookupAsync_Answer_AddressesWithTheRecordsTtl()
    {
        var result = await LookupAsync("edition.cnn.com");

        Assert.True(result.IsAnswer, result.Error);
        Assert.Equal(new[] { IPAddress.Parse("127.0.0.77") }, result.Addresses);
        Assert.Equal(TimeSpan.FromSeconds(1), result.Ttl); // dnsmasq --local-ttl=1
    }

    [Fact]
    public async Task LookupAsync_BothFamilies_IPv4Only()
    {
        var result = await LookupAsync("dual.example");

        Assert.Equal(["127.0.0.80", "127.0.0.81"], result.Addresses.Select(a => a.ToString()).Order());
    }

    [Fact]
    public async Task LookupAsync_OnlyIPv6_IPv6()
    {
        var result = await LookupAsync("v6only.example");

        Assert.True(result.IsAnswer, result.Error);
        Assert.Equal(new[] { IPAddress.IPv6Loopback }, result.Addresses);
    }

    [Fact]
    public async Task LookupAsync_ServerRefuses_Failure()
    {
        var result = await LookupAsync("unknown.example");

        Assert.False(result.IsAnswer);
        Assert.Equal("Refused", result.Error);
    }

    [Fact]
    public async Task LookupAsync_ServerDown_FailureWithinTheQueryTimeouts()
    {
        await _dns.StopAsync();
        var started = DateTime.UtcNow;

        var result = await LookupAsync("edition.cnn.com");

        Assert.Equal("timeout", result.Error);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(10), "one retry of 500 ms per family, in parallel");
    }
}

using Meshgate.Proxy.Upstream;
using Meshgate.Tests.EndToEnd;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Meshgate.Tests.Upstream;

/// <summary>
/// The resolver against a real DNS server (dnsmasq on loopback, TTL 1 s) on a fake clock: answers followed
/// after their TTL, the last good answer kept while the server is down, /etc/hosts first.
/// </summary>
public sealed class EndpointResolverDnsTests : IAsyncLifetime
{
    private const string Host = "edition.cnn.com";
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2024, 1, 11, 21, 9, 42, TimeSpan.Zero));
    private readonly string _hostsPath = Path.Combine(Path.GetTempPath(), $"meshgate-hosts-{Guid.NewGuid():N}");
    private DnsmasqServer _dns = null!;

    public async Task InitializeAsync()
    {
        _dns = await DnsmasqServer.StartAsync(new Dictionary<string, string> { [Host] = "127.0.0.77", ["other.example"] = "127.0.0.88" });
    }

    public async Task DisposeAsync()
    {
        await _dns.DisposeAsync();
        File.Delete(_hostsPath);
    }

    /// <summary>Resolves with dnsmasq after a hosts file of the test's (absent unless a test writes it).</summary>
    private EndpointResolver Resolver() => new(new DnsServerLookup([_dns.Endpoint], new HostsFile(_hostsPath), queryTimeout: TimeSpan.FromMilliseconds(500)), _time);

    private static async Task<string> ResolveAsync(EndpointResolver resolver, string host = Host)
    {
        var addresses = await resolver.ResolveAsync(host, CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(30));
        return string.Join(",", addresses.Select(a => a.ToString()));
    }

    [Fact]
    public async Task ResolveAsync_DnsServer_AnswerFromThatServer()
    {
        var resolver = Resolver();

        Assert.Equal("127.0.0.77", await ResolveAsync(resolver));
        Assert.Equal("127.0.0.88", await ResolveAsync(resolver, "other.example"));
        Assert.StartsWith($"{_dns.Endpoint} (after ", resolver.Description);
    }

    [Fact]
    public async Task ResolveAsync_AnswerChanged_FollowedAfterTheTtl()
    {
        var resolver = Resolver();
        Assert.Equal("127.0.0.77", await ResolveAsync(resolver));

        await _dns.SetAsync(Host, "127.0.0.78");
        var beforeTtl = await ResolveAsync(resolver);
        _time.Advance(TimeSpan.FromSeconds(1)); // dnsmasq's --local-ttl=1
        var afterTtl = await ResolveAsync(resolver);

        Assert.Equal("127.0.0.77", beforeTtl);
        Assert.Equal("127.0.0.78", afterTtl);
    }

    [Fact]
    public async Task ResolveAsync_ServerDownThenBack_LastGoodKeptThenNewAnswerAfterBackoff()
    {
        var resolver = Resolver();
        Assert.Equal("127.0.0.77", await ResolveAsync(resolver));

        await _dns.StopAsync();
        _time.Advance(TimeSpan.FromSeconds(1));
        var whileDown = await ResolveAsync(resolver); // asks, fails, keeps the last good answer

        await _dns.SetAsync(Host, "127.0.0.79"); // the answer it will give once started again
        await _dns.StartAgainAsync();
        var duringBackoff = await ResolveAsync(resolver); // 1 s backoff: not asked yet
        _time.Advance(EndpointResolver.FirstBackoff);
        var afterBackoff = await ResolveAsync(resolver);

        Assert.Equal("127.0.0.77", whileDown);
        Assert.Equal("127.0.0.77", duringBackoff);
        Assert.Equal("127.0.0.79", afterBackoff);
    }

    [Fact]
    public async Task ResolveAsync_NameInHostsFile_HostsFileBeforeTheServer()
    {
        await File.WriteAllTextAsync(_hostsPath, "127.0.0.99 edition.cnn.com\n");
        var resolver = Resolver();

        Assert.Equal("127.0.0.99", await ResolveAsync(resolver));
        Assert.Equal("127.0.0.88", await ResolveAsync(resolver, "other.example"));
    }

    [Fact]
    public async Task ResolveAsync_NameTheServerRefuses_NoAddress()
    {
        // dnsmasq forwards nothing here, so it refuses names it does not hold: a failure with nothing to keep.
        Assert.Equal("", await ResolveAsync(Resolver(), "unknown.example"));
    }
}

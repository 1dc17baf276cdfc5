using System.Net;
using Meshgate.Proxy.Upstream;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Meshgate.Tests.Upstream;

/// <summary>The resolver's cache on a fake clock: TTL bounds, backoff, last good answer, coalescing.</summary>
public sealed class EndpointResolverTests
{
    private const string Host = "edition.cnn.com";
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2024, 1, 11, 21, 9, 42, TimeSpan.Zero));
    private readonly ScriptedLookup _lookup = new();
    private readonly EndpointResolver _resolver;

    public EndpointResolverTests()
    {
        _resolver = new EndpointResolver(_lookup, _time);
    }

    private async Task<string> ResolveAsync()
    {
        var addresses = await _resolver.ResolveAsync(Host, CancellationToken.None);
        return string.Join(",", addresses.Select(a => a.ToString()));
    }

    [Fact]
    public async Task ResolveAsync_IpLiteral_ReturnedWithoutLookup()
    {
        var addresses = await _resolver.ResolveAsync("127.0.0.5", CancellationToken.None);

        Assert.Equal(new[] { IPAddress.Parse("127.0.0.5") }, addresses);
        Assert.Equal(0, _lookup.Calls);
    }

    [Fact]
    public async Task ResolveAsync_WithinTtl_ServedFromCacheThenRefreshed()
    {
        _lookup.Next = ScriptedLookup.Answer("127.0.0.77", 10);
        Assert.Equal("127.0.0.77", await ResolveAsync());
        _lookup.Next = ScriptedLookup.Answer("127.0.0.78", 10);

        _time.Advance(TimeSpan.FromSeconds(9.9));
        Assert.Equal("127.0.0.77", await ResolveAsync());
        Assert.Equal(1, _lookup.Calls);

        _time.Advance(TimeSpan.FromSeconds(0.1));
        Assert.Equal("127.0.0.78", await ResolveAsync());
        Assert.Equal(2, _lookup.Calls);
    }

    [Theory]
    [InlineData(0, 1)]      // a TTL of 0 would mean a query per request
    [InlineData(1, 1)]
    [InlineData(86400, 300)] // a day-long TTL would hide a moved host
    public async Task ResolveAsync_Ttl_BoundedToOneSecondAndFiveMinutes(int ttl, int kept)
    {
        _lookup.Next = ScriptedLookup.Answer("127.0.0.77", ttl);
        await ResolveAsync();

        _time.Advance(TimeSpan.FromSeconds(kept) - TimeSpan.FromMilliseconds(1));
        await ResolveAsync();
        Assert.Equal(1, _lookup.Calls);

        _time.Advance(TimeSpan.FromMilliseconds(1));
        await ResolveAsync();
        Assert.Equal(2, _lookup.Calls);
    }

    [Fact]
    public async Task ResolveAsync_RefreshFails_KeepsLastGoodAndBacksOffExponentially()
    {
        _lookup.Next = ScriptedLookup.Answer("127.0.0.77", 1);
        await ResolveAsync();
        _lookup.Next = LookupResult.Failed("timeout");
        _time.Advance(TimeSpan.FromSeconds(1));

        var calls = 1;
        foreach (var backoff in new[] { 1, 2, 4, 8, 16, 30, 30 })
        {
            Assert.Equal("127.0.0.77", await ResolveAsync()); // this one asks and fails
            Assert.Equal(++calls, _lookup.Calls);
            _time.Advance(TimeSpan.FromSeconds(backoff) - TimeSpan.FromMilliseconds(1));
            Assert.Equal("127.0.0.77", await ResolveAsync()); // within the backoff: nobody asks
            Assert.Equal(calls, _lookup.Calls);
            _time.Advance(TimeSpan.FromMilliseconds(1));
        }

        _lookup.Next = ScriptedLookup.Answer("127.0.0.79", 1);
        Assert.Equal("127.0.0.79", await ResolveAsync());
        _lookup.Next = LookupResult.Failed("timeout");
        _time.Advance(TimeSpan.FromSeconds(1));
        await ResolveAsync();
        _time.Advance(TimeSpan.FromSeconds(1)); // the backoff starts again at 1 s after a success
        await ResolveAsync();
        Assert.Equal(calls + 3, _lookup.Calls);
    }

    [Fact]
    public async Task ResolveAsync_FirstLookupFails_NoAddressAndNoQueryUntilBackoffEnds()
    {
        _lookup.Next = LookupResult.Failed("Refused");

        Assert.Equal("", await ResolveAsync());
        Assert.Equal("", await ResolveAsync());
        Assert.Equal(1, _lookup.Calls);

        _lookup.Next = ScriptedLookup.Answer("127.0.0.77", 5);
        _time.Advance(EndpointResolver.FirstBackoff);
        Assert.Equal("127.0.0.77", await ResolveAsync());
    }

    [Fact]
    public async Task ResolveAsync_NameGone_EmptyAnswerReplacesLastGood()
    {
        _lookup.Next = ScriptedLookup.Answer("127.0.0.77", 1);
        await ResolveAsync();
        _lookup.Next = LookupResult.Answer([], TimeSpan.FromSeconds(5)); // NXDOMAIN is an answer, not a failure

        _time.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal("", await ResolveAsync());
    }

    [Fact]
    public async Task ResolveAsync_ManyConcurrentRequests_OneLookup()
    {
        _lookup.Next = ScriptedLookup.Answer("127.0.0.77", 1);
        _lookup.Hold();

        var requests = Enumerable.Range(0, 100).Select(_ => Task.Run(ResolveAsync)).ToList();
        await WaitUntilAsync(() => _lookup.Calls == 1);
        _lookup.Release();

        Assert.All(await Task.WhenAll(requests), a => Assert.Equal("127.0.0.77", a));
        Assert.Equal(1, _lookup.Calls);
    }

    [Fact]
    public async Task ResolveAsync_SlowRefresh_LastGoodServedAfterRefreshWaitAndNewAnswerNext()
    {
        _lookup.Next = ScriptedLookup.Answer("127.0.0.77", 1);
        await ResolveAsync();
        _time.Advance(TimeSpan.FromSeconds(1));
        _lookup.Hold();
        _lookup.Next = ScriptedLookup.Answer("127.0.0.78", 1);

        var waiting = ResolveAsync();
        await WaitUntilAsync(() => _lookup.Calls == 2);
        Assert.False(waiting.IsCompleted);
        _time.Advance(EndpointResolver.RefreshWait);

        Assert.Equal("127.0.0.77", await waiting.WaitAsync(TimeSpan.FromSeconds(10)));
        var joining = ResolveAsync(); // joins the refresh in flight rather than asking again
        _time.Advance(EndpointResolver.RefreshWait);
        Assert.Equal("127.0.0.77", await joining.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(2, _lookup.Calls);

        _lookup.Release();

        Assert.Equal("127.0.0.78", await ResolveAsync().WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(2, _lookup.Calls);
    }

    [Fact]
    public async Task ResolveAsync_NoDnsServers_SystemResolver()
    {
        var resolver = EndpointResolver.Create([], _time);

        var addresses = await resolver.ResolveAsync("localhost", CancellationToken.None);

        Assert.Contains(addresses, IPAddress.IsLoopback);
        Assert.StartsWith("the system resolver", resolver.Description);
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 2)]
    [InlineData(3, 4)]
    [InlineData(5, 16)]
    [InlineData(6, 30)]
    [InlineData(1000, 30)]
    public void Backoff_DoublesFromOneSecondUpToThirty(int failures, int seconds)
    {
        Assert.Equal(TimeSpan.FromSeconds(seconds), EndpointResolver.Backoff(failures));
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not met in time");
            await Task.Delay(10);
        }
    }
}

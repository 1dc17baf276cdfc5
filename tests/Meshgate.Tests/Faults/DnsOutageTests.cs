using Xunit;

namespace Meshgate.Tests.Faults;

/// <summary>
/// DNS fails for longer than the TTL (dnsmasq, answering with TTL 1 s, stopped: queries are refused) for the DNS-resolved
/// ServiceEntry edition.cnn.com. Envoy keeps a DNS cluster's last resolved hosts when a resolution fails; the gateway
/// does the same (and asks again with a backoff), so requests keep reaching the last good address. When DNS answers
/// again (here with a new address), resolution resumes and requests follow the new answer.
/// </summary>
public sealed class DnsOutageTests : IAsyncLifetime
{
    private const string MovedOrigin = "127.0.0.165";
    private FaultMesh _mesh = null!;

    public async Task InitializeAsync() => _mesh = await FaultMesh.StartAsync("127.0.0.163", "127.0.0.164", $"127.0.0.164,{MovedOrigin}");

    public async Task DisposeAsync() => await _mesh.DisposeAsync();

    [Fact]
    public async Task DnsDownLongerThanTtl_RequestsKeepTheLastGoodAddress_ThenResolutionResumes()
    {
        await _mesh.StartOriginAsync(MovedOrigin, "moved\n");
        await _mesh.Dns.StopAsync();

        // Until the gateway has seen the lookup fail twice (so at least two TTLs and a backoff have passed without an
        // answer), and for a while after, every request goes through to the last good address.
        var sent = 0;
        await _mesh.WaitUntilAsync(async () =>
        {
            var result = await _mesh.RequestAsync();
            sent++;
            Assert.True(result.Ok, $"request {sent} with DNS down: {result}\n{_mesh.Output}");
            return Failures(_mesh.Gateway.Output) >= 2;
        }, "the gateway to log two failed lookups of edition.cnn.com");
        Assert.Contains("using 127.0.0.164", _mesh.Gateway.Output, StringComparison.Ordinal);
        for (var i = 0; i < 10; i++)
        {
            var result = await _mesh.RequestAsync();
            Assert.True(result.Ok, $"request {i} after two failed lookups: {result}\n{_mesh.Output}");
        }

        // DNS answers again, with a new address: resolution resumes (after the current backoff) and traffic follows it.
        await _mesh.Dns.SetAsync("edition.cnn.com", MovedOrigin);
        await _mesh.Dns.StartAgainAsync();
        await _mesh.WaitUntilAsync(async () =>
        {
            var result = await _mesh.RequestAsync();
            Assert.True(result.Ok || result is { CurlExit: 0, Status: 200, Body: "moved\n" }, $"request while DNS recovers: {result}\n{_mesh.Output}");
            return result.Body == "moved\n";
        }, "a request to reach the address DNS answers now");
        Assert.Contains($"resolving edition.cnn.com works again after", _mesh.Gateway.Output, StringComparison.Ordinal);
        for (var i = 0; i < 5; i++)
        {
            var result = await _mesh.RequestAsync();
            Assert.True(result is { CurlExit: 0, Status: 200, Body: "moved\n" }, $"request {i} after DNS came back: {result}\n{_mesh.Output}");
        }
    }

    private static int Failures(string output) =>
        output.Split('\n').Count(l => l.Contains("resolving edition.cnn.com failed", StringComparison.Ordinal));
}

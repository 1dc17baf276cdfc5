using Xunit;

namespace Meshgate.Tests.Faults;

/// <summary>
/// The upstream site goes away (nginx stopped: its port refuses connections) and comes back. Envoy answers such a
/// request 503 after its retries (Istio's default policy retries connect failures twice), flagged
/// <c>UF,URX</c> (upstream connection failure, retry limit exceeded) at the gateway; nothing waits for a timeout.
/// When the site is back, requests succeed again without anything done to the proxies.
/// </summary>
public sealed class OriginGoneTests : IAsyncLifetime
{
    private FaultMesh _mesh = null!;

    public async Task InitializeAsync() => _mesh = await FaultMesh.StartAsync("127.0.0.161", "127.0.0.162", "127.0.0.162");

    public async Task DisposeAsync() => await _mesh.DisposeAsync();

    [Fact]
    public async Task OriginStoppedThenStarted_503FlaggedUfUrxWithoutHanging_ThenRequestsSucceedAgain()
    {
        await _mesh.StopOriginAsync();

        // Every request while the site is down fails the same way, quickly (curl's bound is 10 s; connects are refused).
        for (var i = 0; i < 5; i++)
        {
            var result = await _mesh.RequestAsync($"/down-{i}");
            Assert.True(result.CurlExit == 0 && result.Status == 503, $"request {i} with the origin down: {result}\n{_mesh.Output}");
        }

        var gateway = await AccessLinesAsync(() => _mesh.Gateway.Output, "/down-", 5);
        Assert.All(gateway, line => Assert.Contains("\" 503 UF,URX ", line, StringComparison.Ordinal));
        Assert.All(gateway, line => Assert.Contains("outbound|80||edition.cnn.com", line, StringComparison.Ordinal));
        // The sidecar passes the gateway's 503 on (its own retries of a 503 answer end the same way): never a 200.
        var sidecar = await AccessLinesAsync(() => _mesh.Sidecar.Output, "/down-", 5);
        Assert.All(sidecar, line => Assert.Contains("\" 503 ", line, StringComparison.Ordinal));

        // The site comes back on the same address: the next requests go through, nothing restarted or reconfigured.
        await _mesh.StartOriginAsync();
        await _mesh.WaitUntilAsync(async () => (await _mesh.RequestAsync()).Ok, "a request to succeed after the origin is back", TimeSpan.FromSeconds(30));
        for (var i = 0; i < 5; i++)
        {
            var result = await _mesh.RequestAsync();
            Assert.True(result.Ok, $"request {i} after the origin came back: {result}\n{_mesh.Output}");
        }
    }

    /// <summary>Polls until <paramref name="count"/> access-log lines name a path containing <paramref name="path"/>.</summary>
    private async Task<List<string>> AccessLinesAsync(Func<string> output, string path, int count)
    {
        List<string> lines = [];
        await _mesh.WaitUntilAsync(() =>
        {
            lines = output().Split('\n').Where(l => l.StartsWith('[') && l.Contains(path, StringComparison.Ordinal)).ToList();
            return Task.FromResult(lines.Count >= count);
        }, $"{count} access-log lines for {path}", TimeSpan.FromSeconds(15));
        return lines;
    }
}

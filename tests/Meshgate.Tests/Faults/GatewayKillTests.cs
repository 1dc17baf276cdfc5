using System.Diagnostics;
using Xunit;

namespace Meshgate.Tests.Faults;

/// <summary>
/// The egress gateway is killed (SIGKILL) under traffic from the sidecar and started again (same pod name, same
/// address): the only requests that fail are those in flight or sent while it is down, they fail with an answer (503
/// from the sidecar, never a hang), and traffic flows again with nothing done to the sidecar.
/// </summary>
public sealed class GatewayKillTests : IAsyncLifetime
{
    private FaultMesh _mesh = null!;

    public async Task InitializeAsync() => _mesh = await FaultMesh.StartAsync("127.0.0.166", "127.0.0.167", "127.0.0.167");

    public async Task DisposeAsync() => await _mesh.DisposeAsync();

    [Fact]
    public async Task GatewayKilledAndRestartedUnderTraffic_OnlyRequestsWhileDownFail_ThenTrafficFlows()
    {
        // Sequential requests until told to stop (bounded: at most 3,000, at most 120 s).
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        var results = new List<RequestResult>();
        var traffic = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested && Count(results) < 3000)
            {
                var result = await _mesh.RequestAsync();
                lock (results)
                {
                    results.Add(result);
                }
            }
        });

        await _mesh.WaitUntilAsync(() => Task.FromResult(Count(results) >= 20), "traffic before the kill");
        var killed = Stopwatch.GetTimestamp();
        await _mesh.Gateway.KillAsync();
        var dead = Stopwatch.GetTimestamp(); // the process is gone: from here, nothing can reach the origin
        var atKill = Count(results);
        await _mesh.WaitUntilAsync(() => Task.FromResult(Count(results) >= atKill + 10), "traffic while the gateway is down");
        var restarting = Stopwatch.GetTimestamp();

        await _mesh.RestartGatewayAsync();
        await _mesh.WaitSyncedAsync();
        var ready = Stopwatch.GetTimestamp(); // listening, and the sidecar runs the configuration that names it again
        var atReady = Count(results);
        await _mesh.WaitUntilAsync(() => Task.FromResult(Count(results) >= atReady + 30), "traffic after the restart");
        await stop.CancelAsync();
        await traffic;

        List<RequestResult> all;
        lock (results)
        {
            all = [.. results];
        }

        var summary = $"{all.Count} requests, {all.Count(r => !r.Ok)} failed:\n{string.Join('\n', all.Select(r => $"{Ms(r.Started, killed)}..{Ms(r.Ended, killed)} ms: {r}"))}\n(down at 0..{Ms(restarting, killed)} ms, ready at {Ms(ready, killed)} ms)";

        // A failure is allowed only for a request that overlapped the outage: in flight at the kill, or sent before the
        // new gateway was ready. Every failure is an answer (503), not a hang or a dropped connection.
        foreach (var failure in all.Where(r => !r.Ok))
        {
            Assert.True(failure.Ended >= killed && failure.Started <= ready, $"a request outside the outage failed: {failure}\n{summary}");
            Assert.True(failure is { CurlExit: 0, Status: 503 }, $"a request failed without a 503: {failure}\n{summary}");
        }

        // The fault was real: requests sent while the gateway process was gone all failed (the sidecar has no other way out).
        var whileDown = all.Where(r => r.Started >= dead && r.Ended <= restarting).ToList();
        Assert.True(whileDown.Count >= 5, $"only {whileDown.Count} requests ran entirely while the gateway was down\n{summary}");
        Assert.All(whileDown, r => Assert.False(r.Ok, $"a request succeeded with the gateway down\n{summary}"));

        // And it ended: after the restart, with nothing done to the sidecar, every request succeeds.
        var after = all.Where(r => r.Started > ready).ToList();
        Assert.True(after.Count >= 30 && after.All(r => r.Ok), $"requests after the restart: {after.Count(r => r.Ok)} of {after.Count} succeeded\n{summary}");
        Assert.Contains("discovery: connected", _mesh.Gateway.Output, StringComparison.Ordinal);
    }

    private static int Count(List<RequestResult> results)
    {
        lock (results)
        {
            return results.Count;
        }
    }

    private static long Ms(long timestamp, long origin) => (long)Stopwatch.GetElapsedTime(origin, timestamp).TotalMilliseconds;
}

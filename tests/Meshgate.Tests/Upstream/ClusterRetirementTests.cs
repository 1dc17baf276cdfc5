using System.Net;
using Meshgate.Core.ProxyConfiguration;
using Meshgate.Tests.Forwarding;
using Meshgate.Tests.Proxy;
using Microsoft.AspNetCore.Http;
using Xunit;

namespace Meshgate.Tests.Upstream;

/// <summary>
/// A snapshot swap that changes or removes a cluster retires the old cluster's HTTP client: its pooled upstream
/// connections are closed once the drain time has passed (counted at a real origin), while a request in flight on it
/// still finishes, and an unchanged cluster keeps its connections.
/// </summary>
public sealed class ClusterRetirementTests
{
    private static readonly TimeSpan Drain = TimeSpan.FromMilliseconds(500);

    private static string Config(string version, int originPort, string connectTimeout, bool withCluster = true) => $$"""
        version: {{version}}
        listeners:
        - {name: http, address: 127.0.0.1, port: {port}, protocol: HTTP, defaultFilterChain: {routeTable: http} }
        routeTables:
        - name: http
          virtualHosts:
          - name: all
            domains: ["*"]
            routes:
            - forward: { clusters: [ {name: "{{(withCluster ? "outbound|80||origin.test" : "outbound|80||other.test")}}"} ] }
        clusters:
        - {name: "{{(withCluster ? "outbound|80||origin.test" : "outbound|80||other.test")}}", discovery: STATIC, connectTimeout: {{connectTimeout}}, endpoints: [{address: 127.0.0.1, port: {{originPort}} }]}
        """;

    private static async Task UpdateAsync(ProxyHarness proxy, string yaml)
    {
        var text = yaml.Replace("{port}", proxy.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal)
            + $"\naccessLog: {{path: \"{proxy.AccessLogPath}\"}}\n";
        var loaded = ProxyConfigLoader.Load(text, "update.yaml");
        Assert.True(loaded.Config is not null, string.Join('\n', loaded.Errors));
        var result = await proxy.Proxy.UpdateAsync(loaded.Config);
        Assert.True(result.Applied, string.Join('\n', result.Errors));
    }

    private static async Task WaitForAsync(Func<bool> condition, TimeSpan within, Func<string> what)
    {
        var deadline = DateTime.UtcNow + within;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, what());
            await Task.Delay(20);
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Swap_ClusterChangedOrRemoved_OldConnectionsClosedWithinTheDrainTime(bool removed)
    {
        var open = new ConnectionCounter();
        await using var origin = await open.StartOriginAsync(context => context.Response.WriteAsync("ok"));
        await using var proxy = await ProxyHarness.StartAsync(Config("v1", origin.Port, "1s"));
        proxy.Proxy.DrainTime = Drain;
        using var client = new HttpClient();
        Assert.Equal("ok", await client.GetStringAsync($"http://127.0.0.1:{proxy.Port}/"));
        Assert.Equal(1, open.Value); // kept alive in the cluster's pool

        await UpdateAsync(proxy, Config("v2", origin.Port, "2s", withCluster: !removed));
        Assert.Equal("ok", await client.GetStringAsync($"http://127.0.0.1:{proxy.Port}/")); // the new cluster's own connection
        Assert.Equal(2, open.Value);

        await WaitForAsync(() => open.Value == 1, Drain + TimeSpan.FromSeconds(3), () => $"the old cluster's connection is still open ({open.Value} open)");
    }

    [Fact]
    public async Task Swap_ClusterUnchanged_ConnectionKept()
    {
        var open = new ConnectionCounter();
        await using var origin = await open.StartOriginAsync(context => context.Response.WriteAsync("ok"));
        await using var proxy = await ProxyHarness.StartAsync(Config("v1", origin.Port, "1s"));
        proxy.Proxy.DrainTime = Drain;
        using var client = new HttpClient();
        await client.GetStringAsync($"http://127.0.0.1:{proxy.Port}/");

        await UpdateAsync(proxy, Config("v2", origin.Port, "1s").Replace("domains: [\"*\"]", "domains: [\"*\", \"x.test\"]", StringComparison.Ordinal));
        await Task.Delay(Drain * 3);

        Assert.Equal(1, open.Value);
        Assert.Equal("ok", await client.GetStringAsync($"http://127.0.0.1:{proxy.Port}/"));
        Assert.Equal(1, open.Value);
    }

    [Fact]
    public async Task Swap_RequestInFlightOnTheOldCluster_FinishesWithinTheDrainTime()
    {
        var open = new ConnectionCounter();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var origin = await open.StartOriginAsync(async context =>
        {
            started.TrySetResult();
            await Task.Delay(300);
            await context.Response.WriteAsync("slow");
        });
        await using var proxy = await ProxyHarness.StartAsync(Config("v1", origin.Port, "1s"));
        proxy.Proxy.DrainTime = TimeSpan.FromSeconds(2);
        using var client = new HttpClient();

        var inFlight = client.GetAsync($"http://127.0.0.1:{proxy.Port}/slow");
        await started.Task;
        await UpdateAsync(proxy, Config("v2", origin.Port, "2s"));
        var response = await inFlight;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("slow", await response.Content.ReadAsStringAsync());
        await WaitForAsync(() => open.Value == 0, TimeSpan.FromSeconds(5), () => $"{open.Value} connections open after the drain");
    }

    /// <summary>Counts the connections open at an origin.</summary>
    private sealed class ConnectionCounter
    {
        private int _open;

        public int Value => Volatile.Read(ref _open);

        public Task<HttpOrigin> StartOriginAsync(RequestDelegate handler) => HttpOrigin.StartAsync(handler, kestrel =>
            kestrel.ConfigureEndpointDefaults(listen => listen.Use(next => async connection =>
            {
                Interlocked.Increment(ref _open);
                try
                {
                    await next(connection);
                }
                finally
                {
                    Interlocked.Decrement(ref _open);
                }
            })));
    }
}

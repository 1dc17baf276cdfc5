using System.Net;
using System.Net.Sockets;
using System.Text;
using Meshgate.Core.ProxyConfiguration;
using Meshgate.Proxy;
using Meshgate.Proxy.Observability;
using Meshgate.Tests.EndToEnd;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace Meshgate.Tests.Proxy;

/// <summary>
/// <see cref="ProxyServer.UpdateAsync"/> on a running proxy with real sockets on loopback: swaps under load drop
/// nothing, established relays and in-flight requests keep their configuration, listeners change by diff, and a bad
/// configuration leaves the last good one serving.
/// </summary>
public sealed class ProxyServerUpdateTests : IAsyncLifetime
{
    private readonly int _httpPort = MeshgateProcess.FreePort();
    private readonly int _tlsPort = MeshgateProcess.FreePort();
    private readonly string _dir = Directory.CreateTempSubdirectory("meshgate-update-").FullName;
    private HttpOrigin _a = null!;
    private HttpOrigin _b = null!;
    private TlsEchoOrigin _tlsA = null!;
    private TlsEchoOrigin _tlsB = null!;
    private ProxyServer _proxy = null!;

    public async Task InitializeAsync()
    {
        _a = await HttpOrigin.StartAsync("a");
        _b = await HttpOrigin.StartAsync("b");
        _tlsA = TlsEchoOrigin.Start("tls-a");
        _tlsB = TlsEchoOrigin.Start("tls-b");
        _proxy = ProxyServer.Create(Config("v1"), NullLoggerFactory.Instance);
        await _proxy.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _proxy.DisposeAsync();
        await _a.DisposeAsync();
        await _b.DisposeAsync();
        await _tlsA.DisposeAsync();
        await _tlsB.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task UpdateAsync_RouteSwappedRepeatedlyUnderLoad_NoFailedRequestAndBothOriginsSeen()
    {
        const int total = 2000;
        const int swaps = 6;
        var started = 0;
        var completed = 0;
        var seen = new int[2];
        var failures = new List<string>();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var clients = Enumerable.Range(0, 4).Select(_ => new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{_httpPort}/") }).ToArray();
        var load = clients.Select(client => Task.Run(async () =>
        {
            while (Interlocked.Increment(ref started) <= total)
            {
                try
                {
                    var body = await client.GetStringAsync("/", deadline.Token);
                    Interlocked.Increment(ref seen[body == "a" ? 0 : 1]);
                }
                catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
                {
                    lock (failures)
                    {
                        failures.Add(e.Message);
                    }
                }
                finally
                {
                    Interlocked.Increment(ref completed);
                }
            }
        })).ToArray();

        // Swap while the load runs: odd versions route to b, even ones to a; cluster b is rebuilt every time
        // (its connect timeout changes), cluster a is kept.
        for (var version = 2; version <= swaps + 1; version++)
        {
            await PollAsync(() => Volatile.Read(ref completed) >= (version - 1) * total / (swaps + 2), deadline.Token);
            var result = await _proxy.UpdateAsync(Config($"v{version}", routeTo: version % 2 == 0 ? "b" : "a", bConnectTimeoutSeconds: version));
            Assert.True(result.Applied, string.Join('\n', result.Errors));
        }

        await Task.WhenAll(load);
        foreach (var client in clients)
        {
            client.Dispose();
        }

        Assert.Empty(failures);
        Assert.Equal(total, seen[0] + seen[1]);
        Assert.True(seen[0] > 0 && seen[1] > 0, $"a answered {seen[0]}, b {seen[1]}");
        Assert.Equal("v7", _proxy.Snapshots.Current.Config.Version);
        Assert.Equal(swaps, _proxy.Metrics.UpdatesApplied);
        Assert.Equal(total, _proxy.Metrics.Requests().Where(r => r.Key.ResponseCode == 200).Sum(r => r.Count));
    }

    [Fact]
    public async Task UpdateAsync_EstablishedTlsRelay_KeepsItsOriginWhileNewConnectionsFollowTheSwap()
    {
        var (client, tls, reader) = await TlsEchoOrigin.ConnectAsync(_tlsPort);
        using (client)
        await using (tls)
        {
            Assert.Equal("tls-a:1", await TlsEchoOrigin.EchoAsync(tls, reader, "1"));

            var result = await _proxy.UpdateAsync(Config("v2", tlsTo: "b", extraHttpPort: MeshgateProcess.FreePort()));

            Assert.True(result.Applied, string.Join('\n', result.Errors));
            Assert.Equal("tls-a:2", await TlsEchoOrigin.EchoAsync(tls, reader, "2"));
            var (otherClient, other, otherReader) = await TlsEchoOrigin.ConnectAsync(_tlsPort);
            using (otherClient)
            await using (other)
            {
                Assert.Equal("tls-b:1", await TlsEchoOrigin.EchoAsync(other, otherReader, "1"));
            }

            Assert.True((await _proxy.UpdateAsync(Config("v3", tlsTo: "b"))).Applied);
            Assert.Equal("tls-a:3", await TlsEchoOrigin.EchoAsync(tls, reader, "3"));

            // Bytes are counted as they are relayed, before the connection closes.
            var relay = Assert.Single(_proxy.Metrics.Connections(), c => c.Key == new TcpKey("a.test", "outbound|443||a.test"));
            Assert.Equal(1, relay.Opened);
            Assert.Equal(0, relay.Closed);
            Assert.True(relay.ReceivedBytes > 0 && relay.SentBytes > 0, $"received {relay.ReceivedBytes}, sent {relay.SentBytes}");
        }
    }

    [Fact]
    public async Task UpdateAsync_ListenersAddedMovedAndRemoved_OtherListenersAndTheirConnectionsUntouched()
    {
        using var kept = new TcpClient();
        await kept.ConnectAsync(IPAddress.Loopback, _httpPort);
        var keptStream = kept.GetStream();
        Assert.Equal("a", await RawGetAsync(keptStream));
        var added = MeshgateProcess.FreePort();
        var moved = MeshgateProcess.FreePort();
        using var http = new HttpClient();

        Assert.True((await _proxy.UpdateAsync(Config("v2", extraHttpPort: added))).Applied);
        Assert.Equal("a", await http.GetStringAsync($"http://127.0.0.1:{added}/"));
        Assert.Equal("a", await RawGetAsync(keptStream));

        Assert.True((await _proxy.UpdateAsync(Config("v3", extraHttpPort: moved))).Applied);
        Assert.Equal("a", await http.GetStringAsync($"http://127.0.0.1:{moved}/"));
        await AssertRefusedAsync(added);
        Assert.Equal("a", await RawGetAsync(keptStream));

        Assert.True((await _proxy.UpdateAsync(Config("v4", mainHttp: false, extraHttpPort: moved))).Applied);
        await AssertRefusedAsync(_httpPort);
        Assert.Equal(0, await ReadOrResetAsync(keptStream)); // an idle keep-alive connection of a removed listener is closed
        Assert.Equal("a", await http.GetStringAsync($"http://127.0.0.1:{moved}/"));
        Assert.Equal(["extra-http", "tls"], _proxy.Listening.Select(l => l.Listener.Name).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task UpdateAsync_ListenerRemovedWithARequestInFlight_RequestFinishesOnTheConfigurationItStartedWith()
    {
        var arrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var slow = await HttpOrigin.StartAsync(async context =>
        {
            arrived.TrySetResult();
            await release.Task;
            await context.Response.WriteAsync("slow");
        });
        var slowPort = MeshgateProcess.FreePort();
        Assert.True((await _proxy.UpdateAsync(Config("v2", extraHttpPort: slowPort, extraTarget: ("slow.test", slow.Port)))).Applied);
        using var http = new HttpClient();
        var request = http.GetAsync($"http://127.0.0.1:{slowPort}/");
        await arrived.Task.WaitAsync(TimeSpan.FromSeconds(10));

        // The listener and its cluster disappear while the request waits upstream.
        var update = _proxy.UpdateAsync(Config("v3"));
        await PollAsync(async () => !await ConnectsAsync(slowPort), CancellationToken.None);
        release.SetResult();

        using var response = await request.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("slow", await response.Content.ReadAsStringAsync());
        Assert.True((await update.WaitAsync(TimeSpan.FromSeconds(10))).Applied);
        Assert.Null(_proxy.Snapshots.Current.Cluster("outbound|80||slow.test"));
    }

    [Fact]
    public async Task UpdateAsync_InconsistentConfiguration_RefusedAndTheLastGoodStillServes()
    {
        var broken = Config("v2") with
        {
            RouteTables = [Config("v2").RouteTables[0] with { Name = "elsewhere" }],
        };

        var result = await _proxy.UpdateAsync(broken);

        Assert.False(result.Applied);
        Assert.Contains(result.Errors, e => e.Contains("route table \"http\" is not defined", StringComparison.Ordinal));
        Assert.Equal("v1", _proxy.Snapshots.Current.Config.Version);
        Assert.Equal(1, _proxy.Metrics.UpdatesRejected);
        using var http = new HttpClient();
        Assert.Equal("a", await http.GetStringAsync($"http://127.0.0.1:{_httpPort}/"));
    }

    [Fact]
    public async Task UpdateAsync_NewListenerOnATakenPort_RefusedWithNothingChanged()
    {
        using var squatter = new TcpListener(IPAddress.Loopback, 0);
        squatter.Start();
        var taken = ((IPEndPoint)squatter.LocalEndpoint).Port;
        var free = MeshgateProcess.FreePort();
        var withTwoNewListeners = Config("v2", routeTo: "b", extraHttpPort: free);
        withTwoNewListeners = withTwoNewListeners with
        {
            Listeners = [.. withTwoNewListeners.Listeners, withTwoNewListeners.Listeners[0] with { Name = "squatted", Port = taken }],
        };

        var result = await _proxy.UpdateAsync(withTwoNewListeners);

        Assert.False(result.Applied);
        Assert.Equal($"listener \"squatted\": cannot listen on 127.0.0.1:{taken}: address already in use", Assert.Single(result.Errors));
        Assert.Equal("v1", _proxy.Snapshots.Current.Config.Version);
        await AssertRefusedAsync(free); // the listener opened before the failure was closed again
        using var http = new HttpClient();
        Assert.Equal("a", await http.GetStringAsync($"http://127.0.0.1:{_httpPort}/"));
    }

    [Fact]
    public async Task UpdateAsync_OnlyTheRouteChanged_EqualClustersKeepTheirStateChangedOnesAreRebuilt()
    {
        var before = _proxy.Snapshots.Current;

        Assert.True((await _proxy.UpdateAsync(Config("v2", routeTo: "b", bConnectTimeoutSeconds: 3))).Applied);

        var after = _proxy.Snapshots.Current;
        Assert.Same(before.Cluster("outbound|80||a.test"), after.Cluster("outbound|80||a.test"));
        Assert.Same(before.Cluster("outbound|443||a.test"), after.Cluster("outbound|443||a.test"));
        Assert.Same(before.Cluster(Cluster.BlackHole), after.Cluster(Cluster.BlackHole));
        Assert.NotSame(before.Cluster("outbound|80||b.test"), after.Cluster("outbound|80||b.test"));
    }

    [Fact]
    public async Task UpdateAsync_AccessLogMovedToAnotherFile_NextLinesGoThereAndTheOldFileIsComplete()
    {
        var first = Path.Combine(_dir, "first.log");
        var second = Path.Combine(_dir, "second.log");
        _proxy.DrainTime = TimeSpan.FromMilliseconds(100);
        using var http = new HttpClient();
        Assert.True((await _proxy.UpdateAsync(Config("v2") with { AccessLog = new AccessLogSettings { Path = first } })).Applied);
        await http.GetStringAsync($"http://127.0.0.1:{_httpPort}/first");

        Assert.True((await _proxy.UpdateAsync(Config("v3") with { AccessLog = new AccessLogSettings { Path = second, Encoding = Core.ProxyConfiguration.AccessLogEncoding.Json } })).Applied);
        await http.GetStringAsync($"http://127.0.0.1:{_httpPort}/second");

        await PollAsync(() => File.Exists(second) && File.ReadAllText(second).Contains("\"path\":\"/second\"", StringComparison.Ordinal), CancellationToken.None);
        await PollAsync(() => File.ReadAllText(first).Contains("\"GET /first HTTP/1.1\" 200", StringComparison.Ordinal), CancellationToken.None);
        Assert.DoesNotContain("/second", File.ReadAllText(first), StringComparison.Ordinal);
    }

    /// <summary>
    /// The test configuration: HTTP listener <c>http</c> routing everything to origin a or b, TLS listener <c>tls</c>
    /// passing <see cref="TlsEchoOrigin.ServerName"/> through to TLS origin a or b, and optionally one more HTTP
    /// listener (<c>extra-http</c>) routing to <paramref name="extraTarget"/> or to the same place.
    /// </summary>
    private ProxyConfig Config(string version, string routeTo = "a", string tlsTo = "a", int bConnectTimeoutSeconds = 1,
        int? extraHttpPort = null, (string Host, int Port)? extraTarget = null, bool mainHttp = true)
    {
        var extraCluster = extraTarget is { } target ? $"outbound|80||{target.Host}" : $"outbound|80||{routeTo}.test";
        var yaml = new StringBuilder($"""
            version: {version}
            listeners:

            """);
        if (mainHttp)
        {
            yaml.Append($$"""
                - {name: http, address: 127.0.0.1, port: {{_httpPort}}, protocol: HTTP, defaultFilterChain: {routeTable: http} }

                """);
        }

        if (extraHttpPort is { } extra)
        {
            yaml.Append($$"""
                - {name: extra-http, address: 127.0.0.1, port: {{extra}}, protocol: HTTP, defaultFilterChain: {routeTable: extra} }

                """);
        }

        yaml.Append($$"""
            - name: tls
              address: 127.0.0.1
              port: {{_tlsPort}}
              protocol: TLS
              filterChains:
              - {serverNames: ["{{TlsEchoOrigin.ServerName}}"], cluster: "outbound|443||{{tlsTo}}.test"}
            routeTables:
            - name: http
              virtualHosts:
              - {name: all, domains: ["*"], routes: [ {forward: {clusters: [ {name: "outbound|80||{{routeTo}}.test"} ]} } ]}
            - name: extra
              virtualHosts:
              - {name: all, domains: ["*"], routes: [ {forward: {clusters: [ {name: "{{extraCluster}}"} ]} } ]}
            clusters:
            - {name: "outbound|80||a.test", discovery: STATIC, endpoints: [{address: 127.0.0.1, port: {{_a.Port}} }]}
            - {name: "outbound|80||b.test", discovery: STATIC, connectTimeout: {{bConnectTimeoutSeconds}}s, endpoints: [{address: 127.0.0.1, port: {{_b.Port}} }]}
            - {name: "outbound|443||a.test", discovery: STATIC, endpoints: [{address: 127.0.0.1, port: {{_tlsA.Port}} }]}
            - {name: "outbound|443||b.test", discovery: STATIC, endpoints: [{address: 127.0.0.1, port: {{_tlsB.Port}} }]}

            """);
        if (extraTarget is { } t)
        {
            yaml.Append($$"""
                - {name: "{{extraCluster}}", discovery: STATIC, endpoints: [{address: 127.0.0.1, port: {{t.Port}} }]}

                """);
        }

        var loaded = ProxyConfigLoader.Load(yaml.ToString(), "test");
        Assert.True(loaded.Config is not null, string.Join('\n', loaded.Errors));
        return loaded.Config;
    }

    /// <summary>One GET on a kept-alive connection; the body of the answer.</summary>
    private static async Task<string> RawGetAsync(NetworkStream stream)
    {
        await stream.WriteAsync("GET / HTTP/1.1\r\nHost: test\r\n\r\n"u8.ToArray());
        var received = new StringBuilder();
        var buffer = new byte[4096];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (true)
        {
            var read = await stream.ReadAsync(buffer, timeout.Token);
            Assert.NotEqual(0, read);
            received.Append(Encoding.ASCII.GetString(buffer, 0, read));
            var text = received.ToString();
            var end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
            if (end < 0)
            {
                continue;
            }

            var length = text.Split("\r\n").Select(l => l.Split(": ")).Where(p => p[0].Equals("content-length", StringComparison.OrdinalIgnoreCase)).Select(p => int.Parse(p[1], System.Globalization.CultureInfo.InvariantCulture)).Single();
            if (text.Length >= end + 4 + length)
            {
                return text.Substring(end + 4, length);
            }
        }
    }

    private static async Task<int> ReadOrResetAsync(NetworkStream stream)
    {
        try
        {
            return await stream.ReadAsync(new byte[1]).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (IOException)
        {
            return 0;
        }
    }

    private static async Task<bool> ConnectsAsync(int port)
    {
        using var client = new TcpClient();
        try
        {
            await client.ConnectAsync(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static async Task AssertRefusedAsync(int port) => Assert.False(await ConnectsAsync(port), $"port {port} still accepts connections");

    private static Task PollAsync(Func<bool> condition, CancellationToken cancellationToken) =>
        PollAsync(() => Task.FromResult(condition()), cancellationToken);

    private static async Task PollAsync(Func<Task<bool>> condition, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not met within 10 s");
            await Task.Delay(5, cancellationToken);
        }
    }
}

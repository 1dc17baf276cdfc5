using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Meshgate.Proxy;
using Meshgate.Tests.Forwarding;
using Meshgate.Tests.Proxy;
using Xunit;

namespace Meshgate.Tests.Listeners;

/// <summary>
/// Limits and overload (docs/egress-safety.md, "Limits and overload") on running listeners, with real sockets and the
/// deadlines shortened: a slowloris client, half-open TLS handshakes and unfinished CONNECT heads are closed at their
/// deadline while other clients are served; a listener over its connection cap refuses the next connection and
/// accepts again once one closes; an idle keep-alive connection is closed. Every loop is bounded by count and time,
/// every socket closed in <c>finally</c>; deadlines are asserted with generous bounds, never speed.
/// </summary>
public sealed class OverloadTests
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(20);

    private static readonly ProxyLimits Short = new()
    {
        RequestHeadersTimeout = TimeSpan.FromSeconds(2),
        HandshakeHeadTimeout = TimeSpan.FromSeconds(2),
        DownstreamIdleTimeout = TimeSpan.FromSeconds(2),
        TcpIdleTimeout = TimeSpan.FromSeconds(2),
    };

    private const string Direct = """
        version: v1
        listeners:
        - {name: http, address: 127.0.0.1, port: {port}, protocol: HTTP, defaultFilterChain: {routeTable: http} }
        routeTables:
        - name: http
          virtualHosts:
          - {name: all, domains: ["*"], routes: [ {directResponse: {status: 200} } ]}
        """;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Slowloris_OnTheHttpListener_IsCutAtTheHeaderDeadline_WhileOthersAreServed(bool inlineScheduling)
    {
        await using var proxy = await ProxyHarness.StartAsync(Direct, inlineScheduling: inlineScheduling, limits: Short);
        using var slow = await ConnectAsync(proxy.Port);
        var head = Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\nHost: a\r\nX-Slow: " + new string('a', 60));
        var started = Stopwatch.StartNew();
        var cut = false;
        for (var i = 0; i < head.Length && started.Elapsed < Generous; i++)
        {
            try
            {
                await slow.SendAsync(head.AsMemory(i, 1));
            }
            catch (SocketException)
            {
                cut = true;
                break;
            }

            if (i == 2)
            {
                Assert.Equal(200, await StatusAsync(proxy.Port, "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"));
            }

            if (await ClosedWithinAsync(slow, TimeSpan.FromMilliseconds(500)))
            {
                cut = true;
                break;
            }
        }

        Assert.True(cut, $"a client dribbling its head was still connected after {started.Elapsed}");
        Assert.True(started.Elapsed < Generous, $"cut only after {started.Elapsed}");
        Assert.Equal(200, await StatusAsync(proxy.Port, "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"));
    }

    [Fact]
    public async Task IdleKeepAliveConnection_IsClosedAfterTheIdleTimeout()
    {
        await using var proxy = await ProxyHarness.StartAsync(Direct, limits: Short);
        using var client = await ConnectAsync(proxy.Port);
        await AssertServedAsync(client);
        Assert.True(await ClosedWithinAsync(client, Generous), "an idle keep-alive connection stayed open");
    }

    [Fact]
    public async Task IdleTcpRelay_IsClosedAfterTheIdleTimeout()
    {
        await using var origin = TlsEchoOrigin.Start("tls");
        await using var proxy = await ProxyHarness.StartAsync(PassthroughTo(origin.Port), limits: Short);
        var (client, tls, reader) = await TlsEchoOrigin.ConnectAsync(proxy.Port);
        using (client)
        using (tls)
        using (reader)
        {
            Assert.Equal("tls:1", await TlsEchoOrigin.EchoAsync(tls, reader, "1"));
            var closed = false;
            try
            {
                closed = await reader.ReadLineAsync().WaitAsync(Generous) is null;
            }
            catch (IOException)
            {
                closed = true;
            }

            Assert.True(closed, "an idle relayed connection stayed open");
        }
    }

    [Fact]
    public async Task HalfOpenTlsFlood_IsClosedAtTheHelloDeadline_WhileARealTlsClientIsServed()
    {
        await using var origin = TlsEchoOrigin.Start("tls");
        await using var proxy = await ProxyHarness.StartAsync(PassthroughTo(origin.Port), limits: Short);
        var flood = new List<Socket>();
        try
        {
            for (var i = 0; i < 32; i++)
            {
                var socket = await ConnectAsync(proxy.Port);
                flood.Add(socket);
                if (i % 2 == 0)
                {
                    await socket.SendAsync(new byte[] { 0x16, 0x03, 0x01 }); // a record header, then nothing
                }
            }

            var (client, tls, reader) = await TlsEchoOrigin.ConnectAsync(proxy.Port);
            using (client)
            using (tls)
            using (reader)
            {
                Assert.Equal("tls:1", await TlsEchoOrigin.EchoAsync(tls, reader, "1"));
            }

            await AssertAllClosedAsync(flood, "half-open TLS connection");
        }
        finally
        {
            flood.ForEach(s => s.Dispose());
        }
    }

    [Fact]
    public async Task UnfinishedConnectFlood_IsClosedAtTheHeadDeadline_WhileOthersAreServed()
    {
        await using var proxy = await ProxyHarness.StartAsync("""
            version: v1
            listeners:
            - {name: proxy, address: 127.0.0.1, port: {port}, protocol: HTTP, explicitHttpProxy: true, defaultFilterChain: {cluster: BlackHoleCluster} }
            - {name: 0.0.0.0_80, address: 0.0.0.0, port: 80, protocol: HTTP, bindToPort: false, defaultFilterChain: {routeTable: "80"} }
            routeTables:
            - name: "80"
              virtualHosts:
              - {name: all, domains: ["*"], routes: [ {directResponse: {status: 200} } ]}
            clusters:
            - {name: BlackHoleCluster, discovery: STATIC, endpoints: []}
            """, limits: Short);
        var flood = new List<Socket>();
        try
        {
            for (var i = 0; i < 32; i++)
            {
                var socket = await ConnectAsync(proxy.Port);
                flood.Add(socket);
                await socket.SendAsync(Encoding.ASCII.GetBytes($"CONNECT flood-{i}.test:443 HTTP/1.1\r\nHost: flood-{i}.test:443\r\n"));
            }

            Assert.Equal(200, await StatusAsync(proxy.Port, "GET http://a/ HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"));
            await AssertAllClosedAsync(flood, "unfinished CONNECT");
        }
        finally
        {
            flood.ForEach(s => s.Dispose());
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task OverTheConnectionCap_TheNextConnectionIsRefused_AndAcceptedAgainOnceOneCloses(bool inlineScheduling)
    {
        await using var proxy = await ProxyHarness.StartAsync(Direct, inlineScheduling: inlineScheduling, limits: new ProxyLimits { MaxConnectionsPerListener = 3 });
        var held = new List<Socket>();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                held.Add(await ConnectAsync(proxy.Port));
                await AssertServedAsync(held[i]); // in, and counted, before the next one
            }

            var refused = proxy.Proxy.Metrics.DownstreamConnectionsRefused;
            using (var extra = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
            {
                var closed = false;
                try
                {
                    await extra.ConnectAsync(IPAddress.Loopback, proxy.Port);
                }
                catch (SocketException)
                {
                    closed = true; // reset before the connect was even reported: refused as well
                }

                Assert.True(closed || await ClosedWithinAsync(extra, Generous), "the connection over the cap was not closed");
            }

            Assert.Equal(refused + 1, proxy.Proxy.Metrics.DownstreamConnectionsRefused);

            await AssertServedAsync(held[0]); // the held ones are still served

            held[1].Dispose();
            var deadline = Stopwatch.StartNew();
            int status;
            do
            {
                status = await StatusAsync(proxy.Port, "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
            }
            while (status != 200 && deadline.Elapsed < Generous && await Delay());

            Assert.Equal(200, status);
        }
        finally
        {
            held.ForEach(s => s.Dispose());
        }

        static async Task<bool> Delay()
        {
            await Task.Delay(100);
            return true;
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task OverThePendingConnectCap_TheRequestGets503UpstreamOverflow(bool capInSnapshot)
    {
        // An upstream whose accept queue is full: the kernel drops further SYNs, so connects to it stay pending.
        using var stuck = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        stuck.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        stuck.Listen(0);
        var stuckPort = ((IPEndPoint)stuck.LocalEndPoint!).Port;
        var fillers = new List<Socket>();
        var clients = new List<Socket>();
        try
        {
            for (var i = 0; i < 2; i++)
            {
                var filler = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                fillers.Add(filler);
                _ = filler.ConnectAsync(IPAddress.Loopback, stuckPort).WaitAsync(TimeSpan.FromSeconds(30)).ContinueWith(static _ => { }, TaskScheduler.Default);
            }

            await using var proxy = await ProxyHarness.StartAsync($$"""
                version: v1
                listeners:
                - {name: http, address: 127.0.0.1, port: {port}, protocol: HTTP, defaultFilterChain: {routeTable: http} }
                routeTables:
                - name: http
                  virtualHosts:
                  - {name: all, domains: ["*"], routes: [ {forward: {clusters: [ {name: "outbound|80||stuck.test"} ]} } ]}
                clusters:
                - {name: "outbound|80||stuck.test", discovery: STATIC, connectTimeout: 3s, {{(capInSnapshot ? "maxPendingConnects: 1," : "")}} endpoints: [{address: 127.0.0.1, port: {{stuckPort}} }]}
                """, limits: capInSnapshot ? null : new ProxyLimits { MaxPendingConnectsPerCluster = 1 });

            var answers = new List<Task<string>>();
            for (var i = 0; i < 3; i++)
            {
                var client = await ConnectAsync(proxy.Port);
                clients.Add(client);
                await client.SendAsync(Encoding.ASCII.GetBytes($"GET /{i} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"));
                answers.Add(ReadAllAsync(client));
                await Task.Delay(200); // ordering only: the first connect is under way before the next request
            }

            var texts = await Task.WhenAll(answers);
            Assert.Contains(texts, t => t.StartsWith("HTTP/1.1 503", StringComparison.Ordinal) && t.Contains("reset reason: overflow", StringComparison.Ordinal));
            var lines = await proxy.LogLinesAsync(3);
            Assert.Contains(lines, l => l.Contains(" 503 UO ", StringComparison.Ordinal) && l.Contains("upstream_reset_before_response_started{overflow}", StringComparison.Ordinal));
        }
        finally
        {
            clients.ForEach(s => s.Dispose());
            fillers.ForEach(s => s.Dispose());
        }
    }

    /// <summary>Everything the peer sends until it closes (bounded by <see cref="Generous"/>).</summary>
    private static async Task<string> ReadAllAsync(Socket socket)
    {
        var received = new StringBuilder();
        var buffer = new byte[4096];
        using var deadline = new CancellationTokenSource(Generous);
        try
        {
            int n;
            while ((n = await socket.ReceiveAsync(buffer, deadline.Token)) > 0)
            {
                received.Append(Encoding.ASCII.GetString(buffer, 0, n));
            }
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            // what came is the answer
        }

        return received.ToString();
    }

    /// <summary>A TLS listener passing <see cref="TlsEchoOrigin.ServerName"/> through to the origin on <paramref name="port"/>.</summary>
    private static string PassthroughTo(int port) => $$"""
        version: v1
        listeners:
        - name: tls
          address: 127.0.0.1
          port: {port}
          protocol: TLS
          filterChains:
          - {serverNames: ["{{TlsEchoOrigin.ServerName}}"], cluster: "outbound|443||tls.test"}
        clusters:
        - {name: "outbound|443||tls.test", discovery: STATIC, endpoints: [{address: 127.0.0.1, port: {{port}} }]}
        """;

    /// <summary>One keep-alive request on <paramref name="socket"/>, answered 200 (a direct response without a body).</summary>
    private static async Task AssertServedAsync(Socket socket)
    {
        await socket.SendAsync("GET / HTTP/1.1\r\nHost: a\r\n\r\n"u8.ToArray());
        var buffer = new byte[4096];
        using var read = new CancellationTokenSource(Generous);
        var n = await socket.ReceiveAsync(buffer, read.Token);
        Assert.StartsWith("HTTP/1.1 200", Encoding.ASCII.GetString(buffer, 0, n), StringComparison.Ordinal);
    }

    private static async Task<Socket> ConnectAsync(int port)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await socket.ConnectAsync(IPAddress.Loopback, port);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>True when the peer closes (or resets) <paramref name="socket"/> within <paramref name="wait"/>; bytes it sends first are skipped.</summary>
    private static async Task<bool> ClosedWithinAsync(Socket socket, TimeSpan wait)
    {
        var buffer = new byte[4096];
        using var deadline = new CancellationTokenSource(wait);
        try
        {
            while (true)
            {
                if (await socket.ReceiveAsync(buffer, deadline.Token) == 0)
                {
                    return true;
                }
            }
        }
        catch (OperationCanceledException)
        {
            return false;
        }
        catch (SocketException)
        {
            return true;
        }
    }

    private static async Task AssertAllClosedAsync(List<Socket> sockets, string what)
    {
        var started = Stopwatch.StartNew();
        for (var i = 0; i < sockets.Count; i++)
        {
            var left = Generous - started.Elapsed;
            Assert.True(left > TimeSpan.Zero && await ClosedWithinAsync(sockets[i], left), $"{what} {i} still open after {started.Elapsed}");
        }
    }

    /// <summary>Sends <paramref name="request"/> on a new connection; the status of the answer, or -1 (connection closed or refused first).</summary>
    private static async Task<int> StatusAsync(int port, string request)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        var buffer = new byte[4096];
        try
        {
            await socket.ConnectAsync(IPAddress.Loopback, port);
            await socket.SendAsync(Encoding.ASCII.GetBytes(request));
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            var n = await socket.ReceiveAsync(buffer, deadline.Token);
            var text = Encoding.ASCII.GetString(buffer, 0, n);
            return text.StartsWith("HTTP/1.1 ", StringComparison.Ordinal) && text.Length >= 12 ? int.Parse(text.AsSpan(9, 3), System.Globalization.CultureInfo.InvariantCulture) : -1;
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            return -1;
        }
    }
}

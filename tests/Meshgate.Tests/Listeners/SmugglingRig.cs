using System.Net;
using System.Net.Sockets;
using System.Text;
using Meshgate.Tests.Forwarding;
using Xunit;

namespace Meshgate.Tests.Listeners;

/// <summary>
/// One row of a malformed-request table: the raw bytes a client sends on one connection, the statuses it must get
/// back (in order, and nothing else before the proxy closes the connection), and the requests that must reach the
/// origin (<c>METHOD target host=H [x-probe=V] body=B</c>, as <see cref="SmugglingOrigin"/> parsed them), nothing else.
/// </summary>
/// <param name="MayAbortUpstream">
/// The proxy streams: it may have sent the request head (and part of the body) upstream before the body turned out
/// malformed. Such a request must never complete and its upstream connection must be closed.
/// </param>
internal sealed record SmugglingCase(string Request, int[] Statuses, string[] Origin, bool MayAbortUpstream = false);

/// <summary>
/// A <see cref="Meshgate.Proxy.ProxyServer"/> HTTP listener on loopback in front of a <see cref="SmugglingOrigin"/>, driven with raw
/// bytes on real sockets. Hosts <c>a</c> and <c>good.test</c> route to the origin; every other host gets a direct 403,
/// so a request routed by the wrong authority shows. Every wait has a deadline.
/// </summary>
internal sealed class SmugglingRig : IAsyncDisposable
{
    /// <summary>A request after the one under test on the same connection: once the proxy errs, it must never be served.</summary>
    public const string Then = "GET /next HTTP/1.1\r\nHost: a\r\n\r\n";

    /// <summary>A request after an accepted one on the same connection, read at the boundary the proxy chose; it ends the connection.</summary>
    public const string ThenClose = "GET /next HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";

    /// <summary>What <see cref="ThenClose"/> looks like at the origin.</summary>
    public const string Next = "GET /next host=a body=";

    private const string StillServing = "GET /still-serving host=a body=";

    private SmugglingRig(SmugglingOrigin origin, ProxyHarness proxy)
    {
        Origin = origin;
        Proxy = proxy;
    }

    public SmugglingOrigin Origin { get; }

    public ProxyHarness Proxy { get; }

    public static async Task<SmugglingRig> StartAsync()
    {
        var origin = SmugglingOrigin.Start();
        var proxy = await ProxyHarness.StartAsync($$"""
            version: v1
            listeners:
            - {name: http, address: 127.0.0.1, port: {port}, protocol: HTTP, defaultFilterChain: {routeTable: http} }
            routeTables:
            - name: http
              virtualHosts:
              - {name: origin, domains: ["a", "good.test"], routes: [ {forward: {clusters: [ {name: "outbound|80||origin.test"} ]} } ]}
              - {name: other, domains: ["*"], routes: [ {directResponse: {status: 403} } ]}
            clusters:
            - {name: "outbound|80||origin.test", discovery: STATIC, endpoints: [{address: 127.0.0.1, port: {{origin.Port}} }]}
            """);
        return new SmugglingRig(origin, proxy);
    }

    /// <summary>Runs one row: the client's answers and the closed connection, then exactly what reached the origin.</summary>
    public async Task AssertAsync(string name, SmugglingCase row)
    {
        var exchange = await ExchangeAsync(Encoding.Latin1.GetBytes(row.Request), row.Statuses.Length);
        if (exchange.Reset && exchange.Bytes.Length == 0 && row.Statuses.Length > 0)
        {
            // The proxy answered and closed with the rest of our bytes unread, so its kernel sent a reset, and a reset
            // that arrives before we read discards the answer on our side (Linux drops received data on RST). That is
            // the client's view racing, not the proxy's behaviour: the same exchange once more.
            exchange = await ExchangeAsync(Encoding.Latin1.GetBytes(row.Request), row.Statuses.Length);
        }

        Assert.True(row.Statuses.SequenceEqual(exchange.Statuses), $"{name}: expected [{string.Join(", ", row.Statuses)}], got [{string.Join(", ", exchange.Statuses)}]: \"{exchange.Raw}\"");
        Assert.True(exchange.Closed, $"{name}: the proxy left the connection open; it sent \"{exchange.Raw}\"");

        var forwarded = await ForwardedAsync();
        Assert.True(row.Origin.SequenceEqual(forwarded), $"{name}: expected the origin to get [{string.Join(" | ", row.Origin)}], it got [{string.Join(" | ", forwarded)}]\n{Origin.Transcript}");
        if (row.MayAbortUpstream)
        {
            Assert.True(await Origin.PartialsClosedAsync(), $"{name}: a half-sent request's upstream connection stayed open\n{Origin.Transcript}");
        }
        else
        {
            Assert.True(Origin.Partials.Count == 0, $"{name}: part of a request reached the origin\n{Origin.Transcript}");
        }
    }

    /// <summary>
    /// The requests that reached the origin, once it has read everything: a last request on a new connection proves
    /// the proxy still serves, and the origin settles after it. No byte the origin got may break RFC 9112.
    /// </summary>
    public async Task<IReadOnlyList<string>> ForwardedAsync()
    {
        var check = await ExchangeAsync("GET /still-serving HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"u8.ToArray());
        Assert.True(check.Statuses.SequenceEqual([200]) && check.Raw.EndsWith("\\r\\n\\r\\norigin", StringComparison.Ordinal), $"the proxy stopped serving: \"{check.Raw}\"");
        await Origin.SettleAsync();
        Assert.True(Origin.Violations.Count == 0, "the origin got bytes that break RFC 9112:\n" + string.Join('\n', Origin.Violations));
        var requests = Origin.Requests.ToList();
        Assert.True(requests.Remove(StillServing), Origin.Transcript);
        return requests;
    }

    /// <summary>
    /// Writes <paramref name="bytes"/> on a new connection and reads until the proxy closes it (10 s deadline), or
    /// until it has answered more than <paramref name="expected"/> responses (already wrong); the statuses of the
    /// HTTP/1.x responses read, -1 for bytes that are not one.
    /// </summary>
    public async Task<Exchange> ExchangeAsync(byte[] bytes, int expected = int.MaxValue)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, Proxy.Port);
        try
        {
            await socket.SendAsync(bytes);
        }
        catch (SocketException)
        {
            // The proxy closed before taking all of it (an oversized head); what it answered is still to be read.
        }

        var received = new MemoryStream();
        var buffer = new byte[16 * 1024];
        var closed = false;
        var reset = false;
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (true)
        {
            int read;
            try
            {
                read = await socket.ReceiveAsync(buffer, deadline.Token);
            }
            catch (OperationCanceledException)
            {
                break;
            }
            catch (SocketException)
            {
                closed = true;
                reset = true;
                break;
            }

            if (read == 0)
            {
                closed = true;
                break;
            }

            received.Write(buffer, 0, read);
            if (Statuses(received.ToArray(), ended: false).Count > expected)
            {
                break;
            }
        }

        var data = received.ToArray();
        return new Exchange(Statuses(data, ended: closed), closed, SmugglingHttp1.Escape(data), data) { Reset = reset };
    }

    /// <summary>The statuses of the complete responses in <paramref name="data"/>, then -1 for trailing bytes that are none once the connection ended.</summary>
    private static List<int> Statuses(byte[] data, bool ended)
    {
        var statuses = new List<int>();
        for (var at = 0; at < data.Length;)
        {
            if (!SmugglingHttp1.TryParseResponse(data.AsSpan(at), ended, out var length, out var status))
            {
                if (ended)
                {
                    statuses.Add(-1);
                }

                break;
            }

            statuses.Add(status);
            at += length;
        }

        return statuses;
    }

    public async ValueTask DisposeAsync()
    {
        await Proxy.DisposeAsync();
        await Origin.DisposeAsync();
    }

    /// <summary>What came back on one client connection.</summary>
    internal sealed record Exchange(IReadOnlyList<int> Statuses, bool Closed, string Raw, byte[] Bytes)
    {
        /// <summary>The connection ended with a reset rather than an orderly close.</summary>
        public bool Reset { get; init; }
    }
}

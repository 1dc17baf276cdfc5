using System.Net;
using System.Net.Sockets;
using System.Text;
using Meshgate.Tests.Forwarding;
using Meshgate.Tests.Proxy;
using Microsoft.AspNetCore.Http;
using Xunit;

namespace Meshgate.Tests.Listeners;

/// <summary>
/// Malformed HTTP/1.1 on a running HTTP listener, sent as raw bytes: each gets the error Kestrel (and Envoy) answers or
/// a closed connection, nothing malformed reaches the origin, and the proxy keeps serving the next client.
/// </summary>
public sealed class MalformedRequestTests : IAsyncLifetime
{
    private readonly List<string> _seen = [];
    private HttpOrigin _origin = null!;
    private ProxyHarness _proxy = null!;

    public async Task InitializeAsync()
    {
        _origin = await HttpOrigin.StartAsync(async context =>
        {
            var body = await new StreamReader(context.Request.Body).ReadToEndAsync();
            lock (_seen)
            {
                _seen.Add($"{context.Request.Method} {context.Request.Path} body={body}");
            }

            await context.Response.WriteAsync("origin");
        }, kestrel => kestrel.Limits.MaxRequestHeadersTotalSize = 128 * 1024);
        _proxy = await ProxyHarness.StartAsync($$"""
            version: v1
            listeners:
            - {name: http, address: 127.0.0.1, port: {port}, protocol: HTTP, defaultFilterChain: {routeTable: http} }
            routeTables:
            - name: http
              virtualHosts:
              - {name: all, domains: ["*"], routes: [ {forward: {clusters: [ {name: "outbound|80||origin.test"} ]} } ]}
            clusters:
            - {name: "outbound|80||origin.test", discovery: STATIC, endpoints: [{address: 127.0.0.1, port: {{_origin.Port}} }]}
            """);
    }

    public async Task DisposeAsync()
    {
        await _proxy.DisposeAsync();
        await _origin.DisposeAsync();
    }

    public static TheoryData<string, string, string> Cases => new()
    {
        { "bad request line", "GARBAGE\r\n\r\n", "HTTP/1.1 400 " },
        { "unknown version", "GET / HTTP/7.3\r\nHost: a\r\n\r\n", "HTTP/1.1 505 " },
        { "two different content lengths", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", "HTTP/1.1 400 " },
        { "content length not a number", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5x\r\n\r\nhello", "HTTP/1.1 400 " },
        { "content length and chunked", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "HTTP/1.1 400 " },
        { "bad chunk size", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n", "HTTP/1.1 " },
        { "bare CR", "GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n", "HTTP/1.1 400 " },
        { "obsolete line folding", "GET / HTTP/1.1\r\nHost: a\r\nX-Folded: a\r\n b\r\n\r\n", "HTTP/1.1 400 " },
        { "too many headers", "GET / HTTP/1.1\r\nHost: a\r\n" + string.Concat(Enumerable.Range(0, 101).Select(i => $"X-{i}: v\r\n")) + "\r\n", "HTTP/1.1 431 " },
        { "space before colon", "GET / HTTP/1.1\r\nHost : a\r\n\r\n", "HTTP/1.1 400 " },
        { "no host", "GET / HTTP/1.1\r\n\r\n", "HTTP/1.1 400 " },
        { "oversized header", "GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + new string('a', 70 * 1024) + "\r\n\r\n", "HTTP/1.1 431 " },
        { "binary garbage", "\u0016\u0003\u0001\u0002\u0000\u0001\u0000\u01fc\u0003\u0003\r\n\r\n", "HTTP/1.1 400 " },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Malformed_AnsweredOrClosed_NothingReachesTheOriginAndTheProxyKeepsServing(string name, string request, string expected)
    {
        var answer = await SendRawAsync(Encoding.Latin1.GetBytes(request));

        Assert.True(answer.StartsWith(expected, StringComparison.Ordinal), $"{name}: expected \"{expected}\", got \"{First(answer)}\"");
        await AssertStillServingAsync();
        lock (_seen)
        {
            Assert.DoesNotContain(_seen, s => !s.StartsWith("GET /still-serving", StringComparison.Ordinal) && !s.StartsWith("POST / body=", StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task H2cPrefaceThenGarbage_ClosedWithGoAwayAndStillServing()
    {
        var answer = await SendRawAsync(Encoding.Latin1.GetBytes("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\u00ff\u00ff\u00ff\u00ff\u00ff\u00ff\u00ff\u00ff\u00ff\u00ff"));

        Assert.DoesNotContain("HTTP/1.1", answer, StringComparison.Ordinal);
        var types = new List<int>();
        for (var at = 0; at + 9 <= answer.Length; at += 9 + ((answer[at] << 16) | (answer[at + 1] << 8) | answer[at + 2]))
        {
            types.Add(answer[at + 3]);
        }

        Assert.Contains(7, types); // RFC 9113 §6.8: GOAWAY
        await AssertStillServingAsync();
    }

    [Fact]
    public async Task BareLf_AcceptedAsLineEndings_ForwardedReframed()
    {
        // RFC 9112 §2.2: a recipient MAY take a lone LF as a line terminator; the request is forwarded with CRLF framing.
        var answer = await SendRawAsync(Encoding.ASCII.GetBytes("GET /lf HTTP/1.1\nHost: a\nConnection: close\n\n"));

        Assert.StartsWith("HTTP/1.1 200 ", answer, StringComparison.Ordinal);
        lock (_seen)
        {
            Assert.Contains("GET /lf body=", _seen);
        }
    }

    [Fact]
    public async Task HeadersUnderEnvoysLimit_60KiB_Forwarded()
    {
        var answer = await SendRawAsync(Encoding.ASCII.GetBytes("GET /big HTTP/1.1\r\nHost: a\r\nConnection: close\r\nX-Big: " + new string('a', 50 * 1024) + "\r\n\r\n"));

        Assert.True(answer.StartsWith("HTTP/1.1 200 ", StringComparison.Ordinal), First(answer));
    }

    [Fact]
    public async Task Smuggling_ContentLengthAndChunked_SecondRequestNeverReachesTheOrigin()
    {
        // CL.TE: a front end going by Content-Length would see one request; one going by chunked would see a second,
        // smuggled one ("GET /smuggled"). The proxy must not forward either interpretation's extra request.
        const string body = "0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n";
        var request = $"POST /front HTTP/1.1\r\nHost: a\r\nContent-Length: {body.Length}\r\nTransfer-Encoding: chunked\r\n\r\n{body}";

        var answer = await SendRawAsync(Encoding.ASCII.GetBytes(request));

        Assert.StartsWith("HTTP/1.1 400 ", answer, StringComparison.Ordinal);
        Assert.DoesNotContain("HTTP/1.1 200", answer, StringComparison.Ordinal);
        await AssertStillServingAsync();
        lock (_seen)
        {
            Assert.DoesNotContain(_seen, s => s.Contains("/smuggled", StringComparison.Ordinal) || s.Contains("/front", StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task Smuggling_TeCl_ChunkedWinsAndTheConnectionCloses()
    {
        // TE.CL: chunked framing ends the body; whatever follows must not be served as a request on this connection.
        var request = "POST /front HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n";
        var answer = await SendRawAsync(Encoding.ASCII.GetBytes(request));

        Assert.StartsWith("HTTP/1.1 200 ", answer, StringComparison.Ordinal);
        lock (_seen)
        {
            Assert.Contains("POST /front body=hello", _seen);
        }
    }

    private async Task AssertStillServingAsync()
    {
        using var client = new HttpClient();
        Assert.Equal("origin", await client.GetStringAsync($"http://127.0.0.1:{_proxy.Port}/still-serving"));
    }

    /// <summary>Writes <paramref name="bytes"/> and reads until the proxy closes the connection or goes quiet for 2 s.</summary>
    private async Task<string> SendRawAsync(byte[] bytes)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, _proxy.Port);
        await socket.SendAsync(bytes);
        var received = new MemoryStream();
        var buffer = new byte[16 * 1024];
        while (true)
        {
            using var quiet = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            int read;
            try
            {
                read = await socket.ReceiveAsync(buffer, quiet.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException)
            {
                break;
            }

            if (read == 0)
            {
                break;
            }

            received.Write(buffer, 0, read);
        }

        return Encoding.Latin1.GetString(received.ToArray());
    }

    private static string First(string answer) => answer.Split("\r\n")[0];
}

using System.Net;
using System.Net.Sockets;
using System.Text;
using Xunit;

namespace Meshgate.Tests.Forwarding;

/// <summary>
/// The direct HTTP/1.1 path (<c>Http1Forwarder</c>) against an origin that writes its responses byte by byte
/// (<see cref="ScriptedOrigin"/>): each framing an origin may use, and each way it may fail, gives the client, the
/// origin and the access log exactly what the YARP path gives them — every scenario runs through both paths in the
/// same test and the two are compared — and the direct path keeps or drops the upstream connection as RFC 9112 says.
/// </summary>
public sealed class Http1ForwarderTests
{
    public static TheoryData<string, string, bool, string, int> Framings => new()
    {
        // name, response, close after it, body the client must read, connections for two requests on the direct path
        { "chunked with an extension and a trailer", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Test: a\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n", false, "hello world", 1 },
        { "content-length", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Test: b\r\n\r\nhello", false, "hello", 1 },
        { "ended by the close", "HTTP/1.1 200 OK\r\nX-Test: c\r\n\r\nuntil-close", true, "until-close", 2 },
        { "HTTP/1.0, not kept alive", "HTTP/1.0 200 OK\r\nContent-Length: 2\r\nX-Test: d\r\n\r\nok", false, "ok", 2 },
        { "interim 103 first", "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Test: e\r\n\r\nok", false, "ok", 1 },
        { "Connection: close", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\nX-Test: f\r\n\r\nok", false, "ok", 2 },
        { "a reason phrase of its own", "HTTP/1.1 200 Fine Thanks\r\nContent-Length: 2\r\nX-Test: g\r\n\r\nok", false, "ok", 1 },
    };

    [Theory]
    [MemberData(nameof(Framings))]
    public async Task Framing_TwoRequests_SameAnswerAsYarpAndConnectionsKeptOnlyWhenTheyMayBe(string name, string response, bool close, string body, int connections)
    {
        var direct = await ObserveAsync(response, close, directHttp1: true, requests: 2);
        var yarp = await ObserveAsync(response, close, directHttp1: false, requests: 2);

        Assert.All(direct.Answers, answer => Assert.Equal(body, answer.Body));
        Assert.Equal(yarp.Answers, direct.Answers);
        Assert.Equal(yarp.LogOutcomes, direct.LogOutcomes);
        // RFC 9112 §9.3: kept alive unless the framing needs the close, the response says close, or it is HTTP/1.0
        // without keep-alive (SocketsHttpHandler reuses that one; the direct path does not).
        Assert.True(connections == direct.Connections, $"{name}: the direct path opened {direct.Connections} connections for two requests, not {connections}");
    }

    public static TheoryData<string, string> Failures => new()
    {
        { "malformed status line", "HTTP/1.1 2x0 OK\r\nContent-Length: 2\r\n\r\nok" },
        { "closed before any byte", "" },
        { "closed inside the head", "HTTP/1.1 200 OK\r\nContent-Len" },
        { "conflicting lengths", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok" },
        { "a header value with a control character", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Bad: a\u0001b\r\n\r\nok" },
        { "a header name with a space", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX Bad: a\r\n\r\nok" },
    };

    [Theory]
    [MemberData(nameof(Failures))]
    public async Task FailureBeforeTheBody_SameStatusBodyAndFlagsAsYarp(string name, string response)
    {
        var direct = await ObserveAsync(response, close: true, directHttp1: true, requests: 1);
        var yarp = await ObserveAsync(response, close: true, directHttp1: false, requests: 1);

        Assert.True(direct.Answers[0].Status >= 500, $"{name}: {direct.Answers[0]}");
        Assert.Equal(yarp.Answers, direct.Answers);
        Assert.Equal(yarp.LogOutcomes, direct.LogOutcomes);
    }

    /// <summary>
    /// The proxy's event loop (its plain-HTTP listener and the direct path's upstream connections) against the runtime's
    /// sockets: for every framing, the same answers, log outcomes and upstream connections.
    /// </summary>
    [Theory]
    [MemberData(nameof(Framings))]
    public async Task Framing_OnTheEventLoop_SameAsOnTheRuntimesSockets(string name, string response, bool close, string body, int connections)
    {
        var loop = await ObserveAsync(response, close, directHttp1: true, requests: 2, eventLoop: true);
        var sockets = await ObserveAsync(response, close, directHttp1: true, requests: 2, eventLoop: false);

        Assert.All(loop.Answers, answer => Assert.Equal(body, answer.Body));
        Assert.Equal(sockets.Answers, loop.Answers);
        Assert.Equal(sockets.LogOutcomes, loop.LogOutcomes);
        Assert.True(connections == loop.Connections, $"{name}: the event loop opened {loop.Connections} connections for two requests, not {connections}");
    }

    /// <summary>Every way an origin fails before or in the body, on the event loop and on the runtime's sockets.</summary>
    [Theory]
    [MemberData(nameof(Failures))]
    [InlineData("truncated body", "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort")]
    public async Task Failure_OnTheEventLoop_SameAsOnTheRuntimesSockets(string name, string response)
    {
        var loop = await ObserveAsync(response, close: true, directHttp1: true, requests: 1, eventLoop: true);
        var sockets = await ObserveAsync(response, close: true, directHttp1: true, requests: 1, eventLoop: false);

        Assert.True(loop.Answers[0].Status >= 500 || loop.Answers[0].Body == "(cut)", $"{name}: {loop.Answers[0]}");
        Assert.Equal(sockets.Answers, loop.Answers);
        Assert.Equal(sockets.LogOutcomes, loop.LogOutcomes);
    }

    [Fact]
    public async Task TruncatedBody_ClientSeesTheConnectionCutAndTheLogSaysUpstreamTerminated_AsWithYarp()
    {
        const string Response = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort";
        var direct = await ObserveAsync(Response, close: true, directHttp1: true, requests: 1);
        var yarp = await ObserveAsync(Response, close: true, directHttp1: false, requests: 1);

        Assert.Equal("(cut)", direct.Answers[0].Body);
        Assert.Equal(yarp.Answers, direct.Answers);
        Assert.Equal(yarp.LogOutcomes, direct.LogOutcomes);
        Assert.Contains(" UC ", direct.LogOutcomes[0], StringComparison.Ordinal);
    }

    [Fact]
    public async Task OriginClosesAnIdleConnection_NextRequestStillSucceedsOnANewOne()
    {
        // Kept alive by its headers, then closed by the origin without a word: the pool must not hand it out again.
        await using var origin = new ScriptedOrigin((_, _) => ("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", true));
        await using var proxy = await ProxyHarness.StartAsync(ProxyHarness.SingleClusterYaml(origin.Port));
        using var client = new HttpClient();

        for (var i = 0; i < 5; i++)
        {
            var response = await client.GetAsync($"http://127.0.0.1:{proxy.Port}/again{i}");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("ok", await response.Content.ReadAsStringAsync());
        }

        Assert.Equal(5, origin.Connections);
        Assert.All(await proxy.LogLinesAsync(5), line => Assert.Contains(" 200 - via_upstream ", line, StringComparison.Ordinal));
    }

    [Fact]
    public async Task RequestHead_OriginReceivesTheSameHeadersAsThroughYarp()
    {
        const string Request =
            "GET /head?x=1&y=a/b HTTP/1.1\r\nHost: origin.test\r\nConnection: keep-alive, X-Hop\r\nKeep-Alive: 5\r\nProxy-Connection: x\r\n"
            + "X-Forwarded-For: 10.0.0.1\r\nX-Forwarded-For: 10.0.0.2\r\nx-envoy-attempt-count: 7\r\nCookie: a=1\r\nCookie: b=2\r\nUser-Agent: test/1\r\n"
            + "X-Custom: one\r\nX-Custom: two\r\nTE: trailers\r\nUpgrade-Insecure-Requests: 1\r\nContent-Length: 0\r\n\r\n";
        var direct = await OriginHeadAsync(Request, directHttp1: true);
        var yarp = await OriginHeadAsync(Request, directHttp1: false);

        Assert.Equal(yarp, direct);
        Assert.Contains("x-forwarded-for: 10.0.0.1,10.0.0.2, 127.0.0.1", direct, StringComparer.OrdinalIgnoreCase);
        Assert.Contains("x-envoy-attempt-count: 1", direct, StringComparer.OrdinalIgnoreCase);
        Assert.DoesNotContain(direct, line => line.StartsWith("Keep-Alive", StringComparison.OrdinalIgnoreCase) || line.StartsWith("Proxy-Connection", StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>What a client and the access log see of <paramref name="requests"/> GETs through one proxy path.</summary>
    private static async Task<Observation> ObserveAsync(string response, bool close, bool directHttp1, int requests, bool? eventLoop = null)
    {
        await using var origin = new ScriptedOrigin((_, _) => (response, close));
        await using var proxy = await ProxyHarness.StartAsync(ProxyHarness.SingleClusterYaml(origin.Port), directHttp1: directHttp1, eventLoop: eventLoop);
        using var client = new HttpClient();
        var answers = new List<Answer>();
        for (var i = 0; i < requests; i++)
        {
            try
            {
                using var reply = await client.GetAsync($"http://127.0.0.1:{proxy.Port}/framing");
                var headers = string.Join(
                    ";",
                    reply.Headers.Concat(reply.Content.Headers)
                        .Where(h => h.Key is not ("Date" or "x-envoy-upstream-service-time"))
                        .Select(h => $"{h.Key.ToLowerInvariant()}={string.Join(',', h.Value)}")
                        .Order(StringComparer.Ordinal));
                string body;
                try
                {
                    body = await reply.Content.ReadAsStringAsync();
                }
                catch (HttpRequestException)
                {
                    body = "(cut)";
                }

                answers.Add(new Answer((int)reply.StatusCode, reply.ReasonPhrase ?? "", headers, body));
            }
            catch (HttpRequestException)
            {
                answers.Add(new Answer(0, "", "", "(cut)"));
            }
        }

        var lines = await proxy.LogLinesAsync(requests);

        // The outcome fields of each line: from the status to the bytes sent (request id, times and ports differ).
        var outcomes = lines.Select(line => string.Join(' ', line.Split(' ').Skip(4).Take(7))).ToList();
        return new Observation(answers, outcomes, origin.Connections);
    }

    /// <summary>The header lines the origin received for <paramref name="request"/> sent raw through one proxy path, sorted.</summary>
    private static async Task<List<string>> OriginHeadAsync(string request, bool directHttp1)
    {
        await using var origin = new ScriptedOrigin((_, _) => ("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", false));
        await using var proxy = await ProxyHarness.StartAsync(ProxyHarness.SingleClusterYaml(origin.Port), directHttp1: directHttp1);
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, proxy.Port);
        await socket.SendAsync(Encoding.ASCII.GetBytes(request));
        var buffer = new byte[4096];
        var received = new StringBuilder();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (!received.ToString().EndsWith("ok", StringComparison.Ordinal))
        {
            var read = await socket.ReceiveAsync(buffer, deadline.Token);
            Assert.True(read > 0, $"the proxy closed the connection: {received}");
            received.Append(Encoding.ASCII.GetString(buffer, 0, read));
        }

        var head = Assert.Single(origin.Requests).Head;
        return head.Split("\r\n", StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.StartsWith("x-request-id:", StringComparison.OrdinalIgnoreCase) ? "x-request-id: (generated)" : line)
            .Order(StringComparer.OrdinalIgnoreCase)
            .ToList();
    }

    private sealed record Answer(int Status, string Reason, string Headers, string Body);

    private sealed record Observation(List<Answer> Answers, List<string> LogOutcomes, int Connections);
}

using System.Net;
using Meshgate.Tests.Proxy;
using Microsoft.AspNetCore.Http;
using Xunit;

namespace Meshgate.Tests.Forwarding;

/// <summary>
/// Envoy's retry buffer, against real sockets: a retried request's body is kept (up to the listener's 1 MiB buffer
/// limit) and sent again whole; a larger body is streamed once and its answer passed on without a retry or URX.
/// </summary>
public sealed class RetryBufferTests
{
    private const string IstioDefaultRetries = "retries: {attempts: 2, retryOn: [connect-failure, refused-stream, unavailable, cancelled], retriableStatusCodes: [503]}";

    private static string Config(int originPort) => $$"""
        version: v1
        listeners:
        - {name: http, address: 127.0.0.1, port: {port}, protocol: HTTP, defaultFilterChain: {routeTable: http} }
        routeTables:
        - name: http
          virtualHosts:
          - name: all
            domains: ["*"]
            routes:
            - forward: { clusters: [ {name: "outbound|80||origin.test"} ], {{IstioDefaultRetries}} }
        clusters:
        - {name: "outbound|80||origin.test", discovery: STATIC, connectTimeout: 1s, endpoints: [{address: 127.0.0.1, port: {{originPort}} }]}
        """;

    private static byte[] Body(int length)
    {
        var body = new byte[length];
        for (var i = 0; i < body.Length; i++)
        {
            body[i] = (byte)('a' + (i * 7 % 26));
        }

        return body;
    }

    /// <summary>An origin that reads each request's whole body, keeps it, and answers 503 to the first <paramref name="failures"/>.</summary>
    private static Task<HttpOrigin> RecordingOrigin(List<byte[]> bodies, int failures, bool readBeforeFailing = true) => HttpOrigin.StartAsync(async context =>
    {
        int call;
        lock (bodies)
        {
            call = bodies.Count;
            bodies.Add([]);
        }

        if (call < failures && !readBeforeFailing)
        {
            context.Response.StatusCode = 503;
            await context.Response.WriteAsync("busy");
            return;
        }

        using var copy = new MemoryStream();
        await context.Request.Body.CopyToAsync(copy);
        lock (bodies)
        {
            bodies[call] = copy.ToArray();
        }

        context.Response.StatusCode = call < failures ? 503 : 200;
        await context.Response.WriteAsync(call < failures ? "busy" : "stored");
    });

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Retry_Post10KiBAnswered503Then200_OriginGetsTheWholeBodyTwice(bool chunked)
    {
        var bodies = new List<byte[]>();
        await using var origin = await RecordingOrigin(bodies, failures: 1);
        await using var proxy = await ProxyHarness.StartAsync(Config(origin.Port));
        using var client = new HttpClient();
        var sent = Body(10 * 1024);
        using var request = new HttpRequestMessage(HttpMethod.Post, $"http://127.0.0.1:{proxy.Port}/upload")
        {
            Content = chunked ? new StreamContent(new MemoryStream(sent)) : new ByteArrayContent(sent),
        };
        request.Headers.TransferEncodingChunked = chunked;

        var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("stored", await response.Content.ReadAsStringAsync());
        Assert.Equal(2, bodies.Count);
        Assert.Equal(sent, bodies[0]);
        Assert.Equal(sent, bodies[1]);
        var line = Assert.Single(await proxy.LogLinesAsync(1));
        Assert.Contains("\"POST /upload HTTP/1.1\" 200 - via_upstream - \"-\" 10240 6 ", line, StringComparison.Ordinal); // the client's bytes, counted once
    }

    [Fact]
    public async Task Retry_Post503BeforeTheBodyWasRead_RetrySendsTheWholeBody()
    {
        var bodies = new List<byte[]>();
        await using var origin = await RecordingOrigin(bodies, failures: 1, readBeforeFailing: false);
        await using var proxy = await ProxyHarness.StartAsync(Config(origin.Port));
        using var client = new HttpClient();
        var sent = Body(100 * 1024);

        var response = await client.PostAsync($"http://127.0.0.1:{proxy.Port}/early", new ByteArrayContent(sent));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, bodies.Count);
        Assert.Equal(sent, bodies[1]);
    }

    [Fact]
    public async Task Retry_PostAboveTheBufferLimitAnswered503_OneAttemptAndThe503WithoutUrx()
    {
        var bodies = new List<byte[]>();
        await using var origin = await RecordingOrigin(bodies, failures: 1);
        await using var proxy = await ProxyHarness.StartAsync(Config(origin.Port));
        using var client = new HttpClient();
        var sent = Body((1024 * 1024) + (512 * 1024));

        var response = await client.PostAsync($"http://127.0.0.1:{proxy.Port}/big", new ByteArrayContent(sent));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("busy", await response.Content.ReadAsStringAsync());
        Assert.Equal(sent, Assert.Single(bodies));

        // As Envoy after retry_or_shadow_abandoned: the upstream's answer, no retry, no URX.
        Assert.Contains("\"POST /big HTTP/1.1\" 503 - via_upstream - \"-\" 1572864 4 ", Assert.Single(await proxy.LogLinesAsync(1)), StringComparison.Ordinal);
    }
}

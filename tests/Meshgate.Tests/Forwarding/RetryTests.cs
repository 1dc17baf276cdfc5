using System.Net;
using System.Text;
using Meshgate.Tests.EndToEnd;
using Meshgate.Tests.Proxy;
using Microsoft.AspNetCore.Http;
using Xunit;

namespace Meshgate.Tests.Forwarding;

/// <summary>
/// Retries as Istio's default policy makes Envoy do them, against real sockets: a refused endpoint is skipped for the
/// next one, a 503 is tried again, exhausted retries say <c>URX</c>, and a request whose body was already sent is
/// never replayed.
/// </summary>
public sealed class RetryTests
{
    // Istio's default (RetryPolicy.IstioDefault) as the control plane writes it.
    private const string IstioDefaultRetries = "retries: {attempts: 2, retryOn: [connect-failure, refused-stream, unavailable, cancelled], retriableStatusCodes: [503]}";

    private static string Config(string endpoints, string retries = IstioDefaultRetries, string timeout = "") => $$"""
        version: v1
        listeners:
        - {name: http, address: 127.0.0.1, port: {port}, protocol: HTTP, defaultFilterChain: {routeTable: http} }
        routeTables:
        - name: http
          virtualHosts:
          - name: all
            domains: ["*"]
            routes:
            - forward: { clusters: [ {name: "outbound|80||origin.test"} ], {{retries}} {{timeout}} }
        clusters:
        - {name: "outbound|80||origin.test", discovery: STATIC, connectTimeout: 1s, endpoints: [{{endpoints}}]}
        """;

    private static string Endpoint(int port) => $"{{address: 127.0.0.1, port: {port}}}";

    [Fact]
    public async Task Retry_FirstEndpointRefuses_SecondAnswersWithOneLogLine()
    {
        var attempts = new List<string>();
        await using var origin = await HttpOrigin.StartAsync(context =>
        {
            lock (attempts)
            {
                attempts.Add(context.Request.Headers["x-envoy-attempt-count"].ToString());
            }

            return context.Response.WriteAsync("ok");
        });
        var refused = MeshgateProcess.FreePort();
        await using var proxy = await ProxyHarness.StartAsync(Config($"{Endpoint(refused)}, {Endpoint(origin.Port)}"));
        using var client = new HttpClient();

        var response = await client.GetAsync($"http://127.0.0.1:{proxy.Port}/first");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("ok", await response.Content.ReadAsStringAsync());
        Assert.Equal(["2"], attempts); // the first try went to the refusing endpoint
        var line = Assert.Single(await proxy.LogLinesAsync(1));
        Assert.Contains("\"GET /first HTTP/1.1\" 200 - via_upstream ", line, StringComparison.Ordinal);
        Assert.Contains($"\"127.0.0.1:{origin.Port}\" outbound|80||origin.test 127.0.0.1:", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Retry_EveryEndpointRefuses_503WithUfUrxAfterThreeAttempts()
    {
        var (a, b) = (MeshgateProcess.FreePort(), MeshgateProcess.FreePort());
        await using var proxy = await ProxyHarness.StartAsync(Config($"{Endpoint(a)}, {Endpoint(b)}"));
        using var client = new HttpClient();

        var response = await client.GetAsync($"http://127.0.0.1:{proxy.Port}/down");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(
            "upstream connect error or disconnect/reset before headers. retried and the latest reset reason: connection failure",
            await response.Content.ReadAsStringAsync());
        var line = Assert.Single(await proxy.LogLinesAsync(1));
        Assert.Contains("\"GET /down HTTP/1.1\" 503 UF,URX upstream_reset_before_response_started{connection_failure} - \"connection_failure\" ", line, StringComparison.Ordinal);
        Assert.Contains("\"GET /down HTTP/1.1\" 503 ", line, StringComparison.Ordinal);
        Assert.Contains(" outbound|80||origin.test - ", line, StringComparison.Ordinal); // no connection: no upstream local address
    }

    [Fact]
    public async Task Retry_NextPickIsAnEndpointAlreadyTried_ReselectedAsIstiosPreviousHostsPredicate()
    {
        await using var origin = await HttpOrigin.StartAsync("ok");
        var refused = MeshgateProcess.FreePort();

        // Round robin alone would send the one retry to the refusing endpoint again (its second entry).
        await using var proxy = await ProxyHarness.StartAsync(
            Config($"{Endpoint(refused)}, {Endpoint(refused)}, {Endpoint(origin.Port)}", retries: "retries: {attempts: 1, retryOn: [connect-failure]}"));
        using var client = new HttpClient();

        var response = await client.GetAsync($"http://127.0.0.1:{proxy.Port}/");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Retry_NoRetryPolicy_RefusedIs503UfWithoutUrx()
    {
        await using var proxy = await ProxyHarness.StartAsync(Config(Endpoint(MeshgateProcess.FreePort()), retries: ""));
        using var client = new HttpClient();

        var response = await client.GetAsync($"http://127.0.0.1:{proxy.Port}/");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("upstream connect error or disconnect/reset before headers. reset reason: connection failure", await response.Content.ReadAsStringAsync());
        Assert.Contains(" 503 UF upstream_reset_before_response_started{connection_failure} ", Assert.Single(await proxy.LogLinesAsync(1)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Retry_503Then200_ClientGets200AndOneLogLine()
    {
        var calls = 0;
        await using var origin = await HttpOrigin.StartAsync(context =>
        {
            if (Interlocked.Increment(ref calls) == 1)
            {
                context.Response.StatusCode = 503;
                context.Response.Headers["x-first"] = "yes";
                return context.Response.WriteAsync("busy");
            }

            return context.Response.WriteAsync("second");
        });
        await using var proxy = await ProxyHarness.StartAsync(Config(Endpoint(origin.Port)));
        using var client = new HttpClient();

        var response = await client.GetAsync($"http://127.0.0.1:{proxy.Port}/flaky");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("second", await response.Content.ReadAsStringAsync());
        Assert.False(response.Headers.Contains("x-first")); // nothing of the held-back 503 leaks into the answer
        Assert.Equal(2, calls);
        Assert.Contains("\"GET /flaky HTTP/1.1\" 200 - via_upstream ", Assert.Single(await proxy.LogLinesAsync(1)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Retry_Always503_LastAnswerPassedOnWithUrx()
    {
        var calls = 0;
        await using var origin = await HttpOrigin.StartAsync(context =>
        {
            Interlocked.Increment(ref calls);
            context.Response.StatusCode = 503;
            return context.Response.WriteAsync("busy");
        });
        await using var proxy = await ProxyHarness.StartAsync(Config(Endpoint(origin.Port)));
        using var client = new HttpClient();

        var response = await client.GetAsync($"http://127.0.0.1:{proxy.Port}/busy");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("busy", await response.Content.ReadAsStringAsync());
        Assert.Equal(3, calls);
        Assert.Contains("\"GET /busy HTTP/1.1\" 503 URX via_upstream ", Assert.Single(await proxy.LogLinesAsync(1)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Retry_StreamedBodyAlreadySentThenReset_NotRetried()
    {
        var calls = 0;
        var received = 0L;
        await using var origin = await HttpOrigin.StartAsync(async context =>
        {
            Interlocked.Increment(ref calls);
            var buffer = new byte[8192];
            int read;
            while ((read = await context.Request.Body.ReadAsync(buffer)) > 0)
            {
                Interlocked.Add(ref received, read);
            }

            context.Abort(); // reset before any response header
        });
        await using var proxy = await ProxyHarness.StartAsync(Config(Endpoint(origin.Port)));
        using var client = new HttpClient();
        var body = new StreamContent(new MemoryStream(Encoding.ASCII.GetBytes(new string('x', 10_000))));
        using var request = new HttpRequestMessage(HttpMethod.Post, $"http://127.0.0.1:{proxy.Port}/upload") { Content = body };
        request.Headers.TransferEncodingChunked = true;

        var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(1, calls);
        Assert.Equal(10_000, received);
        Assert.Contains("\"POST /upload HTTP/1.1\" 503 UC upstream_reset_before_response_started{connection_termination} ", Assert.Single(await proxy.LogLinesAsync(1)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Timeout_RouteTimeoutFires_504UtWithOneAttempt()
    {
        var calls = 0;
        await using var origin = await HttpOrigin.StartAsync(async context =>
        {
            Interlocked.Increment(ref calls);
            await Task.Delay(TimeSpan.FromSeconds(5), context.RequestAborted);
        });
        await using var proxy = await ProxyHarness.StartAsync(Config(Endpoint(origin.Port), timeout: ", timeout: 300ms"));
        using var client = new HttpClient();

        var response = await client.GetAsync($"http://127.0.0.1:{proxy.Port}/slow");

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.Equal("upstream request timeout", await response.Content.ReadAsStringAsync());
        Assert.Equal(1, calls);
        Assert.Contains(" 504 UT response_timeout ", Assert.Single(await proxy.LogLinesAsync(1)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Timeout_PerTryTimeoutWithGatewayError_SecondTryAnswers()
    {
        var calls = 0;
        await using var origin = await HttpOrigin.StartAsync(async context =>
        {
            if (Interlocked.Increment(ref calls) == 1)
            {
                await Task.Delay(TimeSpan.FromSeconds(5), context.RequestAborted);
            }

            await context.Response.WriteAsync("fast");
        });
        await using var proxy = await ProxyHarness.StartAsync(Config(Endpoint(origin.Port), retries: "retries: {attempts: 1, retryOn: [gateway-error], perTryTimeout: 300ms}"));
        using var client = new HttpClient();

        var response = await client.GetAsync($"http://127.0.0.1:{proxy.Port}/try");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("fast", await response.Content.ReadAsStringAsync());
        Assert.Equal(2, calls);
    }
}

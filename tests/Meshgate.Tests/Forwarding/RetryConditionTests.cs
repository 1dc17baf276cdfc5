using System.Net;
using Meshgate.Tests.Proxy;
using Xunit;

namespace Meshgate.Tests.Forwarding;

/// <summary>
/// Envoy's gRPC retry conditions (<c>x-envoy-retry-grpc-on</c>), which Istio's <c>retryOn</c> carries: a trailers-only
/// answer whose <c>grpc-status</c> header is CANCELLED, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED or UNAVAILABLE is tried
/// again when its condition is listed, and passed on when it is not. Real origin, real sockets.
/// </summary>
public sealed class RetryConditionTests
{
    private static string Config(int originPort, string retries) => $$"""
        version: v1
        listeners:
        - {name: http, address: 127.0.0.1, port: {port}, protocol: HTTP, defaultFilterChain: {routeTable: http} }
        routeTables:
        - name: http
          virtualHosts:
          - name: all
            domains: ["*"]
            routes:
            - forward: { clusters: [ {name: "outbound|80||origin.test"} ], {{retries}} }
        clusters:
        - {name: "outbound|80||origin.test", discovery: STATIC, connectTimeout: 1s, endpoints: [{address: 127.0.0.1, port: {{originPort}} }]}
        """;

    /// <summary>An origin that answers the first <paramref name="failures"/> calls trailers-only with <paramref name="status"/>, then status 0.</summary>
    private static Task<HttpOrigin> GrpcStatusOrigin(Counter calls, int status, int failures = 1) => HttpOrigin.StartAsync(context =>
    {
        var call = Interlocked.Increment(ref calls.Value);
        context.Response.ContentType = "application/grpc";
        context.Response.Headers["grpc-status"] = (call <= failures ? status : 0).ToString(System.Globalization.CultureInfo.InvariantCulture);
        context.Response.ContentLength = 0;
        return Task.CompletedTask;
    });

    [Theory]
    [InlineData("cancelled", 1)]
    [InlineData("deadline-exceeded", 4)]
    [InlineData("resource-exhausted", 8)]
    [InlineData("unavailable", 14)]
    public async Task Retry_GrpcStatusListed_TriedAgainAndTheClientGetsOk(string condition, int status)
    {
        var calls = new Counter();
        await using var origin = await GrpcStatusOrigin(calls, status);
        await using var proxy = await ProxyHarness.StartAsync(Config(origin.Port, $"retries: {{attempts: 2, retryOn: [{condition}]}}"));
        using var client = new HttpClient();

        var response = await client.PostAsync($"http://127.0.0.1:{proxy.Port}/pkg.Service/Call", new ByteArrayContent([0, 0, 0, 0, 0]));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("0", Assert.Single(response.Headers.GetValues("grpc-status")));
        Assert.Equal(2, calls.Value);
        Assert.Contains("\"POST /pkg.Service/Call HTTP/1.1\" 200 - via_upstream ", Assert.Single(await proxy.LogLinesAsync(1)), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("cancelled", 14)]
    [InlineData("unavailable", 1)]
    [InlineData("deadline-exceeded", 8)]
    [InlineData("resource-exhausted", 4)]
    [InlineData("5xx", 14)] // an HTTP condition never reads grpc-status
    public async Task Retry_GrpcStatusNotListed_PassedOnAfterOneAttempt(string condition, int status)
    {
        var calls = new Counter();
        await using var origin = await GrpcStatusOrigin(calls, status);
        await using var proxy = await ProxyHarness.StartAsync(Config(origin.Port, $"retries: {{attempts: 2, retryOn: [{condition}]}}"));
        using var client = new HttpClient();

        var response = await client.PostAsync($"http://127.0.0.1:{proxy.Port}/pkg.Service/Call", new ByteArrayContent([0, 0, 0, 0, 0]));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(status.ToString(System.Globalization.CultureInfo.InvariantCulture), Assert.Single(response.Headers.GetValues("grpc-status")));
        Assert.Equal(1, calls.Value);
    }

    [Fact]
    public async Task Retry_IstioDefaultAndAlwaysUnavailable_ThreeAttemptsAndUrx()
    {
        var calls = new Counter();
        await using var origin = await GrpcStatusOrigin(calls, 14, failures: int.MaxValue);
        await using var proxy = await ProxyHarness.StartAsync(Config(
            origin.Port, "retries: {attempts: 2, retryOn: [connect-failure, refused-stream, unavailable, cancelled], retriableStatusCodes: [503]}"));
        using var client = new HttpClient();

        var response = await client.PostAsync($"http://127.0.0.1:{proxy.Port}/pkg.Service/Call", new ByteArrayContent([0, 0, 0, 0, 0]));

        Assert.Equal("14", Assert.Single(response.Headers.GetValues("grpc-status")));
        Assert.Equal(3, calls.Value);
        Assert.Contains("\"POST /pkg.Service/Call HTTP/1.1\" 200 URX via_upstream ", Assert.Single(await proxy.LogLinesAsync(1)), StringComparison.Ordinal);
    }

    internal sealed class Counter
    {
        public int Value;
    }
}

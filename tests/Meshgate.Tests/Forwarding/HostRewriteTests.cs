using System.Net;
using Meshgate.Tests.Proxy;
using Microsoft.AspNetCore.Http;
using Xunit;

namespace Meshgate.Tests.Forwarding;

/// <summary>
/// A route's <c>hostRewrite</c> (Istio's VirtualService <c>rewrite.authority</c>, Envoy's <c>host_rewrite_literal</c>)
/// is the Host the origin receives, from HTTP/1.1 and HTTP/2 clients alike, and the authority the access log shows;
/// without it the client's Host goes through. A real origin echoes what it received.
/// </summary>
public sealed class HostRewriteTests
{
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
            - name: rewritten
              match: {prefix: /rewrite}
              forward: { clusters: [ {name: "outbound|80||origin.test"} ], hostRewrite: "edition.cnn.com" }
            - name: kept
              forward: { clusters: [ {name: "outbound|80||origin.test"} ] }
        clusters:
        - {name: "outbound|80||origin.test", discovery: STATIC, endpoints: [{address: 127.0.0.1, port: {{originPort}} }]}
        """;

    private static Task<HttpOrigin> HostEcho() => HttpOrigin.StartAsync(context => context.Response.WriteAsync(context.Request.Host.Value ?? ""));

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task HostRewrite_RouteRewritesAuthority_OriginReceivesTheRewrittenHost(bool http2)
    {
        await using var origin = await HostEcho();
        await using var proxy = await ProxyHarness.StartAsync(Config(origin.Port));
        using var client = new HttpClient
        {
            DefaultRequestVersion = http2 ? HttpVersion.Version20 : HttpVersion.Version11,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        using var request = new HttpRequestMessage(HttpMethod.Get, $"http://127.0.0.1:{proxy.Port}/rewrite/politics");
        request.Headers.Host = "client.example";

        var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("edition.cnn.com", await response.Content.ReadAsStringAsync());
        Assert.Contains("\"edition.cnn.com\"", Assert.Single(await proxy.LogLinesAsync(1)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task HostRewrite_RouteWithout_OriginReceivesTheClientsHost()
    {
        await using var origin = await HostEcho();
        await using var proxy = await ProxyHarness.StartAsync(Config(origin.Port));
        using var client = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"http://127.0.0.1:{proxy.Port}/other");
        request.Headers.Host = "client.example";

        var response = await client.SendAsync(request);

        Assert.Equal("client.example", await response.Content.ReadAsStringAsync());
    }
}

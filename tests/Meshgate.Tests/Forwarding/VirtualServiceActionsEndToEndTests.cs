using System.Collections.Concurrent;
using System.Net;
using System.Text;
using Meshgate.Core.Translation;
using Meshgate.Tests.EndToEnd;
using Meshgate.Tests.Proxy;
using Meshgate.Tests.Translation;
using Microsoft.AspNetCore.Http;
using Xunit;

namespace Meshgate.Tests.Forwarding;

/// <summary>
/// A VirtualService's route actions from YAML to the wire: translated for the egress gateway, run by a real proxy, and
/// checked at real origins: <c>headers</c> (route and destination, a Host set becoming the authority rewrite),
/// <c>rewrite.uri</c> on an exact match, <c>uriRegexRewrite</c>, <c>mirror</c> and <c>corsPolicy</c>.
/// </summary>
public sealed class VirtualServiceActionsEndToEndTests
{
    private static string Yaml(int originPort, int shadowPort) => $$$"""
        apiVersion: networking.istio.io/v1
        kind: ServiceEntry
        metadata: {name: api, namespace: default}
        spec:
          hosts: [api.example.com]
          ports: [{number: 80, name: http, protocol: HTTP}]
          resolution: STATIC
          endpoints: [{address: 127.0.0.1, ports: {http: {{{originPort}}} } }]
        ---
        apiVersion: networking.istio.io/v1
        kind: ServiceEntry
        metadata: {name: shadow, namespace: default}
        spec:
          hosts: [shadow.example.com]
          ports: [{number: 80, name: http, protocol: HTTP}]
          resolution: STATIC
          endpoints: [{address: 127.0.0.1, ports: {http: {{{shadowPort}}} } }]
        ---
        apiVersion: networking.istio.io/v1
        kind: Gateway
        metadata: {name: istio-egressgateway, namespace: default}
        spec:
          selector: {istio: egressgateway}
          servers:
          - port: {number: 80, name: http, protocol: HTTP}
            hosts: [api.example.com]
        ---
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: api, namespace: default}
        spec:
          hosts: [api.example.com]
          gateways: [istio-egressgateway]
          http:
          - match: [{uri: {exact: /old}}]
            rewrite: {uri: /new-home}
            headers:
              request:
                set: {Host: rewritten.example.com, x-env: test}
                remove: [x-drop]
              response:
                set: {x-served-by: meshgate}
            route:
            - destination: {host: api.example.com}
              headers:
                request:
                  set: {x-destination: main}
            mirror: {host: shadow.example.com}
            mirrorPercentage: {value: 100}
          - match: [{uri: {prefix: /items}}]
            rewrite:
              uriRegexRewrite: {match: "^/items/([0-9]+)$", rewrite: "/things/\\1"}
            route:
            - destination: {host: api.example.com}
          - match: [{uri: {prefix: /cors}}]
            corsPolicy:
              allowOrigins: [{exact: "https://app.example.com"}]
              allowMethods: [GET, PUT]
              maxAge: 1m
            route:
            - destination: {host: api.example.com}
        """;

    private static async Task<ProxyHarness> StartAsync(string yaml)
    {
        var resources = TranslationFixtures.Parse(yaml);
        var config = Translator.Translate(resources, Translator.MeshSettingsFrom(resources), TranslationFixtures.EgressGateway(), "1");
        Assert.Empty(TranslationFixtures.Validate(config));
        var port = MeshgateProcess.FreePort();
        var listener = Assert.Single(config.Listeners);
        return await ProxyHarness.StartAsync(config with { Listeners = [listener with { Address = "127.0.0.1", Port = port }] }, port);
    }

    private static Task<HttpOrigin> Echo(ConcurrentQueue<string> seen) => HttpOrigin.StartAsync(context =>
    {
        var text = new StringBuilder();
        text.Append(context.Request.Method).Append(' ').Append(context.Request.Path.Value).Append(context.Request.QueryString.Value).Append('\n');
        foreach (var header in context.Request.Headers.OrderBy(h => h.Key, StringComparer.OrdinalIgnoreCase))
        {
            text.Append(header.Key.ToLowerInvariant()).Append(": ").Append(header.Value.ToString()).Append('\n');
        }

        seen.Enqueue(text.ToString());
        return context.Response.WriteAsync(text.ToString());
    });

    private static HttpRequestMessage Request(HttpMethod method, int port, string path)
    {
        var request = new HttpRequestMessage(method, $"http://127.0.0.1:{port}{path}");
        request.Headers.Host = "api.example.com";
        return request;
    }

    [Fact]
    public async Task VirtualService_HeadersExactRewriteAndMirror_ReachTheOriginsAsWritten()
    {
        var seen = new ConcurrentQueue<string>();
        var shadowSeen = new ConcurrentQueue<string>();
        await using var origin = await Echo(seen);
        await using var shadow = await Echo(shadowSeen);
        await using var proxy = await StartAsync(Yaml(origin.Port, shadow.Port));
        using var client = new HttpClient();
        using var request = Request(HttpMethod.Get, proxy.Port, "/old?q=1");
        request.Headers.Add("x-drop", "1");

        using var response = await client.SendAsync(request);
        var received = (await response.Content.ReadAsStringAsync()).Split('\n');

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("GET /new-home?q=1", received[0]); // an exact match: the whole path replaced, the query kept
        Assert.Contains("host: rewritten.example.com", received); // a Host set is the route's authority rewrite
        Assert.Contains("x-env: test", received);
        Assert.Contains("x-destination: main", received);
        Assert.DoesNotContain(received, l => l.StartsWith("x-drop", StringComparison.Ordinal));
        Assert.Equal(["meshgate"], response.Headers.GetValues("x-served-by"));

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (shadowSeen.IsEmpty)
        {
            Assert.True(DateTime.UtcNow < deadline, "no shadow request reached the mirror's origin");
            await Task.Delay(10);
        }

        var copy = Assert.Single(shadowSeen).Split('\n');
        Assert.Equal("GET /new-home?q=1", copy[0]);
        Assert.Contains("host: rewritten.example.com-shadow", copy);
        Assert.Contains("x-env: test", copy);
        Assert.Single(seen);
    }

    [Fact]
    public async Task VirtualService_UriRegexRewrite_OriginReceivesTheSubstitutedPath()
    {
        var seen = new ConcurrentQueue<string>();
        await using var origin = await Echo(seen);
        await using var proxy = await StartAsync(Yaml(origin.Port, origin.Port));
        using var client = new HttpClient();
        using var request = Request(HttpMethod.Get, proxy.Port, "/items/42?z=1");

        using var response = await client.SendAsync(request);

        Assert.Equal("GET /things/42?z=1", (await response.Content.ReadAsStringAsync()).Split('\n')[0]);
    }

    [Fact]
    public async Task VirtualService_CorsPreflight_AnsweredByTheProxy()
    {
        var seen = new ConcurrentQueue<string>();
        await using var origin = await Echo(seen);
        await using var proxy = await StartAsync(Yaml(origin.Port, origin.Port));
        using var client = new HttpClient();
        using var request = Request(HttpMethod.Options, proxy.Port, "/cors");
        request.Headers.Add("Origin", "https://app.example.com");
        request.Headers.Add("Access-Control-Request-Method", "PUT");

        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(["https://app.example.com"], response.Headers.GetValues("access-control-allow-origin"));
        Assert.Equal(["GET,PUT"], response.Headers.GetValues("access-control-allow-methods"));
        Assert.Equal(["60"], response.Headers.GetValues("access-control-max-age"));
        Assert.Empty(seen);
        var line = Assert.Single(await proxy.LogLinesAsync(1));
        Assert.Contains(" 200 - cors_response ", line, StringComparison.Ordinal);
    }
}

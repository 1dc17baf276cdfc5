using System.Collections.Concurrent;
using System.Net;
using System.Text;
using Meshgate.Tests.Proxy;
using Microsoft.AspNetCore.Http;
using Xunit;

namespace Meshgate.Tests.Forwarding;

/// <summary>
/// A route's header changes, path rewrites, query parameter matches, invalid-backend share, mirrors and CORS policy,
/// carried out by a real proxy between a real client and real origins: each test asserts what reached the origin (path,
/// query, headers) and what the client got.
/// </summary>
public sealed class RouteActionsTests
{
    private const string Cluster = "outbound|80||origin.test";

    private const int RequestMirrorLimit = Meshgate.Proxy.Forwarding.RequestMirror.MaxInFlight;

    private static string Config(int originPort, string routes, string extraClusters = "") => $$"""
        version: v1
        listeners:
        - {name: http, address: 127.0.0.1, port: {port}, protocol: HTTP, defaultFilterChain: {routeTable: http} }
        routeTables:
        - name: http
          virtualHosts:
          - name: all
            domains: ["*"]
            routes:
        {{routes}}
        clusters:
        - {name: "{{Cluster}}", discovery: STATIC, endpoints: [{address: 127.0.0.1, port: {{originPort}} }]}
        {{extraClusters}}
        """;

    /// <summary>An origin that answers with what it received: the request line's target, then its headers sorted.</summary>
    private static Task<HttpOrigin> Echo(ConcurrentQueue<string>? seen = null) => HttpOrigin.StartAsync(context =>
    {
        var text = new StringBuilder();
        text.Append(context.Request.Method).Append(' ').Append(context.Request.Path.Value).Append(context.Request.QueryString.Value).Append('\n');
        foreach (var header in context.Request.Headers.OrderBy(h => h.Key, StringComparer.OrdinalIgnoreCase))
        {
            text.Append(header.Key.ToLowerInvariant()).Append(": ").Append(header.Value.ToString()).Append('\n');
        }

        seen?.Enqueue(text.ToString());
        context.Response.Headers["x-origin-secret"] = "s";
        context.Response.Headers["x-origin-kept"] = "k";
        return context.Response.WriteAsync(text.ToString());
    });

    private static string[] Lines(string body) => body.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    [Fact]
    public async Task Headers_RouteAndClusterOperations_OriginAndClientSeeThemInEnvoysOrder()
    {
        await using var origin = await Echo();
        await using var proxy = await ProxyHarness.StartAsync(Config(origin.Port, $$"""
                - name: headers
                  forward:
                    clusters:
                    - name: "{{Cluster}}"
                      weight: 1
                      headers:
                        request: {set: [{name: x-a, value: cluster}, {name: x-cluster, value: "1"}]}
                        response: {add: [{name: x-cluster-response, value: c}]}
                    headers:
                      request:
                        set: [{name: x-a, value: route}, {name: x-replaced, value: new}]
                        add: [{name: x-multi, value: added}]
                        remove: [x-drop]
                      response:
                        set: [{name: x-response, value: r}]
                        remove: [x-origin-secret]
        """));
        using var client = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"http://127.0.0.1:{proxy.Port}/h");
        request.Headers.Add("x-drop", "gone");
        request.Headers.Add("x-replaced", "old");
        request.Headers.Add("x-multi", "client");

        using var response = await client.SendAsync(request);
        var received = Lines(await response.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("x-a: route", received); // the route's set comes after the cluster's, so it wins
        Assert.Contains("x-cluster: 1", received);
        Assert.Contains("x-replaced: new", received);
        Assert.Contains(received, l => l is "x-multi: client, added" or "x-multi: client,added"); // appended after the client's
        Assert.DoesNotContain(received, l => l.StartsWith("x-drop", StringComparison.Ordinal));
        Assert.Equal(["r"], response.Headers.GetValues("x-response"));
        Assert.Equal(["c"], response.Headers.GetValues("x-cluster-response"));
        Assert.Equal(["k"], response.Headers.GetValues("x-origin-kept"));
        Assert.False(response.Headers.Contains("x-origin-secret"));
    }

    [Theory]
    [InlineData("/api/users?q=1&r=2", "GET /v2/users?q=1&r=2")] // the matched prefix replaced, the query kept
    [InlineData("/old?x=y", "GET /new?x=y")] // an exact match: the whole path
    [InlineData("/items/42?z=1", "GET /things/42/detail?z=1")] // regex_rewrite with a group
    [InlineData("/other/a", "GET /other/a")] // a route without a rewrite
    public async Task PathRewrite_PrefixExactAndRegex_OriginReceivesTheRewrittenPathAndTheQuery(string sent, string received)
    {
        await using var origin = await Echo();
        await using var proxy = await ProxyHarness.StartAsync(Config(origin.Port, $$"""
                - match: {prefix: /api}
                  forward: {clusters: [{name: "{{Cluster}}", weight: 1}], pathRewrite: {prefix: /v2} }
                - match: {exact: /old}
                  forward: {clusters: [{name: "{{Cluster}}", weight: 1}], pathRewrite: {prefix: /new} }
                - match: {prefix: /items}
                  forward: {clusters: [{name: "{{Cluster}}", weight: 1}], pathRewrite: {regex: "^/items/([0-9]+)$", substitution: "/things/\\1/detail"} }
                - forward: {clusters: [{name: "{{Cluster}}", weight: 1}]}
        """));
        using var client = new HttpClient();

        var body = await client.GetStringAsync($"http://127.0.0.1:{proxy.Port}{sent}");

        Assert.Equal(received, Lines(body)[0]);
    }

    [Theory]
    [InlineData("?v=2", 201)]
    [InlineData("?a=1&v=2", 201)]
    [InlineData("?v=3", 203)]
    [InlineData("?v=2x", 203)]
    [InlineData("?tag=a12", 202)]
    [InlineData("?x&tag=a12&tag=zz", 202)] // the first occurrence counts
    [InlineData("?tag=ab", 203)]
    [InlineData("?pre=abc", 204)]
    [InlineData("?flag", 205)] // a name alone has the value ""
    [InlineData("", 203)]
    public async Task QueryParams_ExactRegexPrefixAndEmpty_PickTheRoute(string query, int status)
    {
        await using var proxy = await ProxyHarness.StartAsync("""
            version: v1
            listeners:
            - {name: http, address: 127.0.0.1, port: {port}, protocol: HTTP, defaultFilterChain: {routeTable: http} }
            routeTables:
            - name: http
              virtualHosts:
              - name: all
                domains: ["*"]
                routes:
                - {match: {queryParams: [{name: v, exact: "2"}]}, directResponse: {status: 201}}
                - {match: {queryParams: [{name: tag, regex: "a[0-9]+"}]}, directResponse: {status: 202}}
                - {match: {queryParams: [{name: pre, prefix: ab}]}, directResponse: {status: 204}}
                - {match: {queryParams: [{name: flag, exact: ""}]}, directResponse: {status: 205}}
                - {directResponse: {status: 203}}
            """);
        using var client = new HttpClient();

        using var response = await client.GetAsync($"http://127.0.0.1:{proxy.Port}/q{query}");

        Assert.Equal(status, (int)response.StatusCode);
    }

    [Fact]
    public async Task InvalidBackend_ItsShareOfAWeightedSplit_Answers500AndTheRestReachesTheOrigin()
    {
        await using var origin = await HttpOrigin.StartAsync("ok");
        await using var proxy = await ProxyHarness.StartAsync(Config(origin.Port, $$"""
                - name: split
                  forward: {clusters: [{name: "{{Core.ProxyConfiguration.Cluster.InvalidBackend}}", weight: 1}, {name: "{{Cluster}}", weight: 1}]}
        """));
        using var client = new HttpClient();

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 60; i++)
        {
            using var response = await client.GetAsync($"http://127.0.0.1:{proxy.Port}/s");
            statuses.Add(response.StatusCode);
        }

        // Each status has a 2^-60 chance of never turning up by itself.
        Assert.Contains(HttpStatusCode.InternalServerError, statuses);
        Assert.Contains(HttpStatusCode.OK, statuses);
        Assert.All(statuses, s => Assert.True(s is HttpStatusCode.OK or HttpStatusCode.InternalServerError));
        var lines = await proxy.LogLinesAsync(60);
        Assert.Contains(lines, l => l.Contains(" 500 NC cluster_not_found ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Mirror_BodylessRequests_ShadowGetsACopyWithShadowHostAndTheClientTheMainAnswer()
    {
        var shadowSeen = new ConcurrentQueue<string>();
        var neverSeen = new ConcurrentQueue<string>();
        await using var origin = await Echo();
        await using var shadow = await Echo(shadowSeen);
        await using var never = await Echo(neverSeen);
        await using var proxy = await ProxyHarness.StartAsync(Config(origin.Port, $$"""
                - match: {prefix: /api}
                  forward:
                    clusters: [{name: "{{Cluster}}", weight: 1}]
                    pathRewrite: {prefix: /v2}
                    headers: {request: {set: [{name: x-route, value: "1"}]} }
                    mirrors: [{cluster: shadow}, {cluster: never, percentage: 0}]
        """, $$"""
        - {name: shadow, discovery: STATIC, endpoints: [{address: 127.0.0.1, port: {{shadow.Port}} }]}
        - {name: never, discovery: STATIC, endpoints: [{address: 127.0.0.1, port: {{never.Port}} }]}
        """));
        using var client = new HttpClient();

        for (var i = 0; i < 5; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"http://127.0.0.1:{proxy.Port}/api/items?n={i}");
            request.Headers.Host = "client.example:8080";
            using var response = await client.SendAsync(request);
            var main = Lines(await response.Content.ReadAsStringAsync());
            Assert.Equal($"GET /v2/items?n={i}", main[0]);
            Assert.Contains("host: client.example:8080", main);
        }

        using (var post = new HttpRequestMessage(HttpMethod.Post, $"http://127.0.0.1:{proxy.Port}/api/posted") { Content = new StringContent("body") })
        {
            using var response = await client.SendAsync(post);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        using (var last = new HttpRequestMessage(HttpMethod.Get, $"http://127.0.0.1:{proxy.Port}/api/last"))
        {
            last.Headers.Host = "client.example:8080";
            using var response = await client.SendAsync(last);
        }

        await Until(() => shadowSeen.Count >= 6, "6 shadow requests");
        var copies = shadowSeen.ToArray();
        Assert.Equal(6, copies.Length);
        Assert.All(copies, c => Assert.Contains("host: client.example-shadow:8080\n", c, StringComparison.Ordinal));
        Assert.All(copies, c => Assert.Contains("x-route: 1\n", c, StringComparison.Ordinal));
        Assert.DoesNotContain(copies, c => c.StartsWith("POST", StringComparison.Ordinal)); // a request with a body is not mirrored
        Assert.Equal(
            [.. Enumerable.Range(0, 5).Select(i => $"GET /v2/items?n={i}"), "GET /v2/last"],
            copies.Select(c => Lines(c)[0]).Order(StringComparer.Ordinal));
        Assert.Empty(neverSeen); // percentage 0
    }

    [Fact]
    public async Task Mirror_ShadowNeverAnswers_MainRequestIsNotHeldBack()
    {
        var hang = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var arrived = 0;
        await using var origin = await HttpOrigin.StartAsync("main");
        await using var shadow = await HttpOrigin.StartAsync(async context =>
        {
            Interlocked.Increment(ref arrived);
            await hang.Task.WaitAsync(context.RequestAborted);
        });
        try
        {
            await using var proxy = await ProxyHarness.StartAsync(Config(origin.Port, $$"""
                    - forward: {clusters: [{name: "{{Cluster}}", weight: 1}], mirrors: [{cluster: shadow}]}
            """, $$"""
            - {name: shadow, discovery: STATIC, endpoints: [{address: 127.0.0.1, port: {{shadow.Port}} }]}
            """));
            using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(20) };

            for (var i = 0; i < 3; i++)
            {
                Assert.Equal("main", await client.GetStringAsync($"http://127.0.0.1:{proxy.Port}/x"));
            }

            await Until(() => Volatile.Read(ref arrived) == 3, "3 shadow requests held by the shadow origin");
        }
        finally
        {
            hang.TrySetResult();
        }
    }

    [Fact]
    public async Task Mirror_ShadowThatCannotKeepUp_ExtraShadowsDroppedAndMirroringResumes()
    {
        var hang = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var arrived = 0;
        await using var origin = await HttpOrigin.StartAsync("main");
        await using var shadow = await HttpOrigin.StartAsync(async context =>
        {
            Interlocked.Increment(ref arrived);
            await hang.Task.WaitAsync(context.RequestAborted);
        });
        try
        {
            await using var proxy = await ProxyHarness.StartAsync(Config(origin.Port, $$"""
                    - forward: {clusters: [{name: "{{Cluster}}", weight: 1}], mirrors: [{cluster: shadow}]}
            """, $$"""
            - {name: shadow, discovery: STATIC, endpoints: [{address: 127.0.0.1, port: {{shadow.Port}} }]}
            """));
            using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(20) };

            // Each main request decides its shadow before it goes upstream, so once all have been answered, the shadows
            // that were started are all there are: the limit's worth, the rest dropped rather than queued.
            for (var i = 0; i < RequestMirrorLimit + 6; i++)
            {
                Assert.Equal("main", await client.GetStringAsync($"http://127.0.0.1:{proxy.Port}/x"));
            }

            await Until(() => Volatile.Read(ref arrived) >= RequestMirrorLimit, $"{RequestMirrorLimit} shadow requests");
            Assert.Equal(RequestMirrorLimit, Volatile.Read(ref arrived));

            // Once the shadows in flight finish, requests are mirrored again.
            hang.TrySetResult();
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
            while (Volatile.Read(ref arrived) == RequestMirrorLimit)
            {
                Assert.True(DateTime.UtcNow < deadline, "no request was mirrored after the shadows in flight finished");
                Assert.Equal("main", await client.GetStringAsync($"http://127.0.0.1:{proxy.Port}/x"));
                await Task.Delay(10);
            }
        }
        finally
        {
            hang.TrySetResult();
        }
    }

    [Fact]
    public async Task Cors_PreflightFromAnAllowedOrigin_AnsweredByTheProxyWithThePolicy()
    {
        var seen = new ConcurrentQueue<string>();
        await using var origin = await Echo(seen);
        await using var proxy = await ProxyHarness.StartAsync(Config(origin.Port, Cors(forwardUnmatched: true)));
        using var client = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Options, $"http://127.0.0.1:{proxy.Port}/c");
        request.Headers.Add("Origin", "https://app.example.com");
        request.Headers.Add("Access-Control-Request-Method", "PUT");

        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(["https://app.example.com"], response.Headers.GetValues("access-control-allow-origin"));
        Assert.Equal(["GET,PUT"], response.Headers.GetValues("access-control-allow-methods"));
        Assert.Equal(["x-token"], response.Headers.GetValues("access-control-allow-headers"));
        Assert.Equal(["600"], response.Headers.GetValues("access-control-max-age"));
        Assert.Equal(["true"], response.Headers.GetValues("access-control-allow-credentials"));
        Assert.Empty(seen);
    }

    [Theory]
    [InlineData("https://app.example.com")] // exact
    [InlineData("https://dev.internal")] // prefix
    [InlineData("https://a1.regex.example")] // regex
    public async Task Cors_ActualRequestFromAnAllowedOrigin_ForwardedAndTheOriginEchoed(string allowed)
    {
        await using var origin = await Echo();
        await using var proxy = await ProxyHarness.StartAsync(Config(origin.Port, Cors(forwardUnmatched: true)));
        using var client = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"http://127.0.0.1:{proxy.Port}/c");
        request.Headers.Add("Origin", allowed);

        using var response = await client.SendAsync(request);

        Assert.Equal("GET /c", Lines(await response.Content.ReadAsStringAsync())[0]);
        Assert.Equal([allowed], response.Headers.GetValues("access-control-allow-origin"));
        Assert.Equal(["x-exposed"], response.Headers.GetValues("access-control-expose-headers"));
        Assert.Equal(["true"], response.Headers.GetValues("access-control-allow-credentials"));
    }

    [Theory]
    [InlineData(true, true)]
    [InlineData(false, false)]
    public async Task Cors_PreflightFromAnotherOrigin_ForwardedOrAnsweredWithoutCorsHeaders(bool forwardUnmatched, bool reachesOrigin)
    {
        var seen = new ConcurrentQueue<string>();
        await using var origin = await Echo(seen);
        await using var proxy = await ProxyHarness.StartAsync(Config(origin.Port, Cors(forwardUnmatched)));
        using var client = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Options, $"http://127.0.0.1:{proxy.Port}/c");
        request.Headers.Add("Origin", "https://evil.example");
        request.Headers.Add("Access-Control-Request-Method", "PUT");

        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.False(response.Headers.Contains("access-control-allow-origin"));
        Assert.Equal(reachesOrigin ? 1 : 0, seen.Count);
    }

    private static string Cors(bool forwardUnmatched) => $$"""
                - forward:
                    clusters: [{name: "{{Cluster}}", weight: 1}]
                    cors:
                      allowOrigins: [{exact: "https://app.example.com"}, {prefix: "https://dev."}, {regex: "https://a[0-9]+\\.regex\\.example"}]
                      allowMethods: [GET, PUT]
                      allowHeaders: [x-token]
                      exposeHeaders: [x-exposed]
                      maxAgeSeconds: 600
                      allowCredentials: true
                      ignoreUnmatchedPreflights: {{(forwardUnmatched ? "false" : "true")}}
        """;

    private static async Task Until(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for {what}");
            await Task.Delay(10);
        }
    }
}

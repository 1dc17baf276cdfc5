using Meshgate.Core.ProxyConfiguration;
using Meshgate.Core.Routing;

using Xunit;

namespace Meshgate.Tests.Routing;

/// <summary>
/// Simulation tables in the manner of Istio's <c>pilot/pkg/simulation</c>: one configuration, one request per row,
/// asserting which virtual host, route and destination it reaches. The configuration is loaded (and so checked) as
/// a bootstrap file would be.
/// </summary>
public class RoutingSimulationTests
{
    private const string Config = """
        version: sim
        listeners:
          - name: tls
            address: 0.0.0.0
            port: 8443
            protocol: TLS
            filterChains:
              - { name: cnn-exact, serverNames: [edition.cnn.com, www.cnn.com], cluster: outbound|443||edition.cnn.com }
              - { name: cnn-wildcard, serverNames: ["*.cnn.com"], cluster: outbound|443||wild.cnn.com }
              - { name: money-wildcard, serverNames: ["*.money.cnn.com"], cluster: outbound|443||money.cnn.com }
              - { name: any-name, serverNames: ["*"], cluster: PassthroughCluster }
            defaultFilterChain: { name: no-sni, cluster: BlackHoleCluster }
          - name: tls-names-only
            address: 0.0.0.0
            port: 9443
            protocol: TLS
            filterChains:
              - { name: cnn-only, serverNames: [edition.cnn.com], cluster: outbound|443||edition.cnn.com }
              - { name: catch-all, cluster: PassthroughCluster }
          - name: tls-strict
            address: 0.0.0.0
            port: 10443
            protocol: TLS
            filterChains:
              - { name: cnn-strict, serverNames: [edition.cnn.com], cluster: outbound|443||edition.cnn.com }
        routeTables:
          - name: gateway
            virtualHosts:
              - name: cnn
                domains: [edition.cnn.com]
                routes:
                  - { name: health, match: { exact: /health }, directResponse: { status: 200, body: ok } }
                  - name: api-canary
                    match: { prefix: /api/, headers: [{ name: x-canary, exact: "true" }] }
                    forward: { clusters: [{ name: outbound|80|canary|edition.cnn.com }] }
                  - name: api-item
                    match: { regex: "/api/v[0-9]+/items/[0-9]+" }
                    forward: { clusters: [{ name: outbound|80|v1|edition.cnn.com }] }
                  - name: debug-denied
                    match: { prefix: /debug, headers: [{ name: x-debug, present: false }] }
                    directResponse: { status: 403 }
                  - name: debug
                    match: { prefix: /debug }
                    forward: { clusters: [{ name: outbound|80|debug|edition.cnn.com }] }
                  - name: not-curl
                    match: { prefix: /ua, headers: [{ name: user-agent, prefix: curl/, invert: true }] }
                    forward: { clusters: [{ name: outbound|80|v2|edition.cnn.com }] }
                  - name: docs-any-case
                    match: { prefix: /Docs, ignoreCase: true }
                    forward: { clusters: [{ name: outbound|80|docs|edition.cnn.com }] }
                  - name: default
                    forward: { clusters: [{ name: outbound|80||edition.cnn.com, weight: 90 }, { name: outbound|80|v2|edition.cnn.com, weight: 10 }] }
              - name: cnn-8080
                domains: ["edition.cnn.com:8080"]
                routes: [{ name: port-8080, forward: { clusters: [{ name: outbound|8080||edition.cnn.com }] } }]
              - name: cnn-wildcard
                domains: ["*.cnn.com"]
                routes: [{ name: wildcard, forward: { clusters: [{ name: outbound|80||wild.cnn.com }] } }]
              - name: money-wildcard
                domains: ["*.money.cnn.com"]
                routes: [{ name: money, forward: { clusters: [{ name: outbound|80||money.cnn.com }] } }]
              - name: old
                domains: [old.cnn.com]
                routes: [{ name: moved, redirect: { host: edition.cnn.com, status: 301 } }]
              - name: secure
                domains: [secure.example.com]
                routes:
                  - name: needs-auth
                    match: { headers: [{ name: authorization, present: true, invert: true }] }
                    directResponse: { status: 401 }
                  - name: post-only
                    match: { headers: [{ name: ":method", exact: POST }] }
                    forward: { clusters: [{ name: outbound|443||secure.example.com }] }
                  - name: tenant
                    match: { headers: [{ name: x-tenant, regex: "t-[0-9]{3}" }] }
                    forward: { clusters: [{ name: outbound|443||secure.example.com }] }
              - name: any-9090
                domains: ["*:9090"]
                routes: [{ name: port-9090, forward: { clusters: [{ name: PassthroughCluster }] } }]
              - name: fallback
                domains: ["*"]
                routes: [{ name: blackhole, forward: { clusters: [{ name: BlackHoleCluster }] } }]
          - name: strict
            virtualHosts:
              - name: internal
                domains: [api.internal]
                routes: [{ name: only, match: { exact: /only }, forward: { clusters: [{ name: outbound|80||api.internal }] } }]
        clusters:
          - { name: outbound|80||edition.cnn.com, discovery: STRICT_DNS, endpoints: [{ address: edition.cnn.com, port: 80 }] }
          - { name: outbound|80|canary|edition.cnn.com, discovery: STRICT_DNS, endpoints: [{ address: edition.cnn.com, port: 80 }] }
          - { name: outbound|80|v1|edition.cnn.com, discovery: STRICT_DNS, endpoints: [{ address: edition.cnn.com, port: 80 }] }
          - { name: outbound|80|v2|edition.cnn.com, discovery: STRICT_DNS, endpoints: [{ address: edition.cnn.com, port: 80 }] }
          - { name: outbound|80|debug|edition.cnn.com, discovery: STRICT_DNS, endpoints: [{ address: edition.cnn.com, port: 80 }] }
          - { name: outbound|80|docs|edition.cnn.com, discovery: STRICT_DNS, endpoints: [{ address: edition.cnn.com, port: 80 }] }
          - { name: outbound|8080||edition.cnn.com, discovery: STRICT_DNS, endpoints: [{ address: edition.cnn.com, port: 8080 }] }
          - { name: outbound|443||edition.cnn.com, discovery: STRICT_DNS, endpoints: [{ address: edition.cnn.com, port: 443 }] }
          - { name: outbound|80||wild.cnn.com, discovery: ORIGINAL_DST }
          - { name: outbound|443||wild.cnn.com, discovery: ORIGINAL_DST }
          - { name: outbound|80||money.cnn.com, discovery: ORIGINAL_DST }
          - { name: outbound|443||money.cnn.com, discovery: ORIGINAL_DST }
          - { name: outbound|443||secure.example.com, discovery: LOGICAL_DNS, endpoints: [{ address: secure.example.com, port: 443 }] }
          - { name: outbound|80||api.internal, discovery: STATIC, endpoints: [{ address: 10.0.0.7, port: 80 }] }
          - { name: BlackHoleCluster, discovery: STATIC }
          - { name: PassthroughCluster, discovery: ORIGINAL_DST }
        """;

    private static readonly ProxyConfig Snapshot = LoadConfig();
    private static readonly Dictionary<string, CompiledRouteTable> Tables = Snapshot.RouteTables.ToDictionary(t => t.Name, t => new CompiledRouteTable(t));
    private static readonly Dictionary<string, SniTable> Listeners = Snapshot.Listeners.ToDictionary(l => l.Name, l => new SniTable(l));

    /// <summary>Table, authority, path, headers → virtual host, route, destination (first cluster, or the direct answer).</summary>
    public static TheoryData<string, string, string, string, string, string, string> HttpRows() => new()
    {
        // Host matching: exact, case, port, trailing dot.
        { "gateway", "edition.cnn.com", "/", "", "cnn", "default", "outbound|80||edition.cnn.com" },
        { "gateway", "EDITION.CNN.COM", "/", "", "cnn", "default", "outbound|80||edition.cnn.com" },
        { "gateway", "edition.cnn.com:80", "/", "", "cnn", "default", "outbound|80||edition.cnn.com" },
        { "gateway", "edition.cnn.com:8080", "/", "", "cnn-8080", "port-8080", "outbound|8080||edition.cnn.com" },
        { "gateway", "edition.cnn.com:9090", "/", "", "any-9090", "port-9090", "PassthroughCluster" },
        { "gateway", "edition.cnn.com.", "/", "", "cnn", "default", "outbound|80||edition.cnn.com" },
        // Wildcards: longest suffix wins, "*" last, a wildcard needs a label of its own.
        { "gateway", "www.cnn.com", "/", "", "cnn-wildcard", "wildcard", "outbound|80||wild.cnn.com" },
        { "gateway", "www.cnn.com:443", "/", "", "cnn-wildcard", "wildcard", "outbound|80||wild.cnn.com" },
        { "gateway", "a.b.cnn.com", "/", "", "cnn-wildcard", "wildcard", "outbound|80||wild.cnn.com" },
        { "gateway", "markets.money.cnn.com", "/", "", "money-wildcard", "money", "outbound|80||money.cnn.com" },
        { "gateway", "money.cnn.com", "/", "", "cnn-wildcard", "wildcard", "outbound|80||wild.cnn.com" },
        { "gateway", "cnn.com", "/", "", "fallback", "blackhole", "BlackHoleCluster" },
        { "gateway", "example.org", "/", "", "fallback", "blackhole", "BlackHoleCluster" },
        { "gateway", "example.org:9090", "/", "", "any-9090", "port-9090", "PassthroughCluster" },
        { "gateway", "", "/", "", "fallback", "blackhole", "BlackHoleCluster" },
        { "gateway", "[::1]:8080", "/", "", "fallback", "blackhole", "BlackHoleCluster" },
        // Paths: exact ignores the query, prefix, regex matches the whole path, order decides.
        { "gateway", "edition.cnn.com", "/health", "", "cnn", "health", "direct:200" },
        { "gateway", "edition.cnn.com", "/health?verbose=1", "", "cnn", "health", "direct:200" },
        { "gateway", "edition.cnn.com", "/healthz", "", "cnn", "default", "outbound|80||edition.cnn.com" },
        { "gateway", "edition.cnn.com", "/Health", "", "cnn", "default", "outbound|80||edition.cnn.com" },
        { "gateway", "edition.cnn.com", "/api/v1/items/42", "", "cnn", "api-item", "outbound|80|v1|edition.cnn.com" },
        { "gateway", "edition.cnn.com", "/api/v12/items/7?fields=all", "", "cnn", "api-item", "outbound|80|v1|edition.cnn.com" },
        { "gateway", "edition.cnn.com", "/api/v1/items/42/comments", "", "cnn", "default", "outbound|80||edition.cnn.com" },
        { "gateway", "edition.cnn.com", "/api/v1/items/abc", "", "cnn", "default", "outbound|80||edition.cnn.com" },
        { "gateway", "edition.cnn.com", "/DOCS/intro", "", "cnn", "docs-any-case", "outbound|80|docs|edition.cnn.com" },
        // Headers: exact, presence, absence, inverted prefix, regex, pseudo-headers.
        { "gateway", "edition.cnn.com", "/api/v1/items/42", "x-canary=true", "cnn", "api-canary", "outbound|80|canary|edition.cnn.com" },
        { "gateway", "edition.cnn.com", "/api/v1/items/42", "x-canary=TRUE", "cnn", "api-item", "outbound|80|v1|edition.cnn.com" },
        { "gateway", "edition.cnn.com", "/debug/pprof", "", "cnn", "debug-denied", "direct:403" },
        { "gateway", "edition.cnn.com", "/debug/pprof", "x-debug=1", "cnn", "debug", "outbound|80|debug|edition.cnn.com" },
        { "gateway", "edition.cnn.com", "/debug/pprof", "x-debug=", "cnn", "debug", "outbound|80|debug|edition.cnn.com" },
        { "gateway", "edition.cnn.com", "/ua", "user-agent=curl/8.5.0", "cnn", "default", "outbound|80||edition.cnn.com" },
        { "gateway", "edition.cnn.com", "/ua", "user-agent=Mozilla/5.0", "cnn", "not-curl", "outbound|80|v2|edition.cnn.com" },
        { "gateway", "edition.cnn.com", "/ua", "", "cnn", "default", "outbound|80||edition.cnn.com" },
        { "gateway", "secure.example.com", "/", "", "secure", "needs-auth", "direct:401" },
        { "gateway", "secure.example.com", "/", "authorization=Bearer x;:method=POST", "secure", "post-only", "outbound|443||secure.example.com" },
        { "gateway", "secure.example.com", "/", "authorization=Bearer x;:method=GET;x-tenant=t-042", "secure", "tenant", "outbound|443||secure.example.com" },
        { "gateway", "secure.example.com", "/", "authorization=Bearer x;:method=GET;x-tenant=t-0421", "secure", "-", "-" },
        // Redirects, and nothing matching at all.
        { "gateway", "old.cnn.com", "/story", "", "old", "moved", "redirect:301" },
        { "strict", "api.internal", "/only", "", "internal", "only", "outbound|80||api.internal" },
        { "strict", "api.internal", "/other", "", "internal", "-", "-" },
        { "strict", "edition.cnn.com", "/", "", "-", "-", "-" },
        { "strict", "", "/only", "", "-", "-", "-" },
    };

    /// <summary>Listener, SNI → filter chain (<c>-</c>: no chain, the connection is closed).</summary>
    public static TheoryData<string, string, string> SniRows() => new()
    {
        { "tls", "edition.cnn.com", "cnn-exact" },
        { "tls", "Edition.CNN.com", "cnn-exact" },
        { "tls", "www.cnn.com", "cnn-exact" },
        { "tls", "live.cnn.com", "cnn-wildcard" },
        { "tls", "markets.money.cnn.com", "money-wildcard" },
        { "tls", "money.cnn.com", "cnn-wildcard" },
        { "tls", "example.org", "any-name" },
        { "tls", "", "no-sni" },
        { "tls-names-only", "edition.cnn.com", "cnn-only" },
        { "tls-names-only", "example.org", "catch-all" },
        { "tls-names-only", "", "catch-all" },
        { "tls-strict", "edition.cnn.com.", "cnn-strict" },
        { "tls-strict", "example.org", "-" },
        { "tls-strict", "", "-" },
    };

    [Theory]
    [MemberData(nameof(HttpRows))]
    public void Match_HttpRequest_ReachesExpectedRoute(string table, string authority, string path, string headers, string virtualHost, string route, string destination)
    {
        var compiled = Tables[table];

        var match = compiled.Match(authority, path, RequestHeaders.Parse(headers));

        Assert.Equal((virtualHost, route, destination), Describe(match, compiled.MatchVirtualHost(authority)));
    }

    [Theory]
    [MemberData(nameof(SniRows))]
    public void Match_TlsServerName_SelectsExpectedChain(string listener, string serverName, string chain)
    {
        var selected = Listeners[listener].Match(serverName);

        Assert.Equal(chain, selected?.Name ?? "-");
    }

    [Fact]
    public void Match_WarmTables_AllocateNothing()
    {
        var table = Tables["gateway"];
        var sni = Listeners["tls"];
        var canary = RequestHeaders.Parse("x-canary=true;user-agent=Mozilla/5.0");
        var none = default(NoHeaders);
        var hits = 0;
        void Run()
        {
            hits += table.Match("edition.cnn.com:80", "/api/v1/items/42", canary) is null ? 0 : 1;
            hits += table.Match("EDITION.cnn.com", "/api/v1/items/42?x=1", none) is null ? 0 : 1;
            hits += table.Match("markets.money.cnn.com", "/", none) is null ? 0 : 1;
            hits += table.Match("example.org:9090", "/", none) is null ? 0 : 1;
            hits += table.Match("edition.cnn.com", "/ua", canary) is null ? 0 : 1;
            hits += table.Match("edition.cnn.com", "/debug", none) is null ? 0 : 1;
            hits += sni.Match("live.cnn.com") is null ? 0 : 1;
            hits += sni.Match("") is null ? 0 : 1;
        }

        Run(); // compiles regex states and JITs the paths
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
        {
            Run();
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(8 * 1001, hits);
        Assert.Equal(0, allocated);
    }

    private static (string, string, string) Describe(MatchedRoute? match, VirtualHost? host)
    {
        if (match is not { } m)
        {
            return (host?.Name ?? "-", "-", "-");
        }

        var destination = m.Route switch
        {
            { Forward: { } forward } => forward.Clusters[0].Name,
            { DirectResponse: { } direct } => $"direct:{direct.Status}",
            { Redirect: { } redirect } => $"redirect:{redirect.Status}",
            _ => "?",
        };
        return (m.VirtualHost.Name, m.Route.Name ?? "-", destination);
    }

    private static ProxyConfig LoadConfig()
    {
        var result = ProxyConfigLoader.Load(Config, "simulation.yaml");
        Assert.Empty(result.Errors);
        return result.Config!;
    }
}

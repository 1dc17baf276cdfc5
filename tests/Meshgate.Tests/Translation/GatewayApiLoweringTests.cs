using System.Text.Json.Nodes;

using Meshgate.Core.GatewayStatus;
using Meshgate.Core.ProxyConfiguration;
using Meshgate.Core.Resources;
using Meshgate.Core.Resources.Istio;
using Meshgate.Core.Translation;

using Xunit;

namespace Meshgate.Tests.Translation;

/// <summary>
/// Gateway API routes lowered as Istio's conversion.go lowers them: one HTTPRoute filter per test, ReferenceGrants for
/// backends in other namespaces, and invalid backends (500 for HTTP, a closed connection for TLS). Each asserts the
/// route table as the proxy receives it (its JSON), and the lowered VirtualService where the proxy has no counterpart.
/// </summary>
public class GatewayApiLoweringTests
{
    /// <summary>
    /// The egress pages' hop 2 on the Gateway API: Gateway <c>cnn-egress-gateway</c> with an HTTP listener for
    /// edition.cnn.com, and Services <c>httpbin</c> (here) and <c>backend</c> (namespace <c>other</c>).
    /// </summary>
    private const string Base = """
        apiVersion: networking.istio.io/v1
        kind: ServiceEntry
        metadata: {name: cnn, namespace: default}
        spec:
          hosts: [edition.cnn.com]
          ports:
          - {number: 80, name: http, protocol: HTTP}
          - {number: 443, name: tls, protocol: TLS}
          resolution: DNS
        ---
        apiVersion: gateway.networking.k8s.io/v1
        kind: Gateway
        metadata: {name: cnn-egress-gateway, namespace: default}
        spec:
          gatewayClassName: istio
          listeners:
          - {name: http, hostname: edition.cnn.com, port: 80, protocol: HTTP}
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: httpbin, namespace: default}
        spec:
          selector: {app: httpbin}
          ports: [{name: http, port: 80}]
        ---
        apiVersion: v1
        kind: Namespace
        metadata: {name: other}
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: backend, namespace: other}
        spec:
          selector: {app: backend}
          ports: [{name: http, port: 80}]
        """;

    private const string GatewayVhost = "edition.cnn.com:80";

    /// <summary>An HTTPRoute on the Gateway for edition.cnn.com with one rule, indented as the rule's fields.</summary>
    private static string Route(string rule) => Base + $$"""

        ---
        apiVersion: gateway.networking.k8s.io/v1
        kind: HTTPRoute
        metadata: {name: cnn, namespace: default}
        spec:
          parentRefs: [{name: cnn-egress-gateway}]
          hostnames: [edition.cnn.com]
          rules:
          - {{rule.Replace("\n", "\n    ", StringComparison.Ordinal)}}
        """;

    private const string ToHostname = "backendRefs: [{kind: Hostname, group: networking.istio.io, name: edition.cnn.com, port: 80}]";

    private static ProxyConfig Translate(string yaml, ProxyNode node)
    {
        var resources = TranslationFixtures.Parse(yaml);
        var config = Translator.Translate(resources, Translator.MeshSettingsFrom(resources), node, "1");
        Assert.Empty(TranslationFixtures.Validate(config));
        return config;
    }

    /// <summary>The routes of one virtual host as the proxy receives them: the snapshot's JSON.</summary>
    private static JsonArray Routes(ProxyConfig config, string table, string vhost)
    {
        var json = JsonNode.Parse(ProxyConfigLoader.ToJson(config))!;
        var routeTable = Assert.Single(json["routeTables"]!.AsArray(), t => t!["name"]!.GetValue<string>() == table)!;
        return Assert.Single(routeTable["virtualHosts"]!.AsArray(), h => h!["name"]!.GetValue<string>() == vhost)!["routes"]!.AsArray();
    }

    private static JsonNode GatewayRoute(string yaml) => Assert.Single(Routes(Translate(yaml, TranslationFixtures.CnnEgressGateway()), "http.80", GatewayVhost))!;

    /// <summary>The HTTP rules the route lowers to (its VirtualService), for fields the proxy has no counterpart for.</summary>
    private static HttpRoute LoweredRule(string yaml)
    {
        var registry = Registry.For(TranslationFixtures.Parse(yaml));
        var (_, vs) = Assert.Single(GatewayApiLowering.VirtualServices(registry), v => v.Resource.Name == "cnn");
        return Assert.Single(vs.Spec.Http!);
    }

    private static string[] Clusters(JsonNode route) =>
        [.. route["forward"]!["clusters"]!.AsArray().Select(c => $"{c!["name"]!.GetValue<string>()}={c["weight"]!.GetValue<int>()}")];

    private static int? DirectStatus(JsonNode route) => route["directResponse"]?["status"]?.GetValue<int>();

    [Fact]
    public void RequestHeaderModifier_Rule_LoweredToHeadersRequest()
    {
        var yaml = Route($$$"""
            filters:
            - type: RequestHeaderModifier
              requestHeaderModifier:
                set: [{name: X-Env, value: prod}, {name: x-env, value: ignored}]
                add: [{name: X-Trace, value: "1"}]
                remove: [x-debug]
            {{{ToHostname}}}
            """);

        // conversion.go headerListToMap: lower-cased names; "subsequent entries with an equivalent header name MUST be ignored".
        var request = LoweredRule(yaml).Headers!.Request!;
        Assert.Equal(new Dictionary<string, string> { ["x-env"] = "prod" }, request.Set);
        Assert.Equal(new Dictionary<string, string> { ["x-trace"] = "1" }, request.Add);
        Assert.Equal(["x-debug"], request.Remove!);
        Assert.Null(LoweredRule(yaml).Headers!.Response);
        Assert.Equal(["outbound|80||edition.cnn.com=100"], Clusters(GatewayRoute(yaml)));
    }

    [Fact]
    public void ResponseHeaderModifier_Rule_LoweredToHeadersResponse()
    {
        var yaml = Route($$$"""
            filters:
            - type: ResponseHeaderModifier
              responseHeaderModifier:
                set: [{name: Cache-Control, value: no-store}]
                remove: [server]
            {{{ToHostname}}}
            """);

        var headers = LoweredRule(yaml).Headers!;
        Assert.Null(headers.Request);
        Assert.Equal(new Dictionary<string, string> { ["cache-control"] = "no-store" }, headers.Response!.Set);
        Assert.Equal(["server"], headers.Response.Remove!);
        Assert.Equal(["outbound|80||edition.cnn.com=100"], Clusters(GatewayRoute(yaml)));
    }

    [Fact]
    public void RequestRedirect_SchemeHostnamePortPath_RouteRedirectsWith302ByDefault()
    {
        var route = GatewayRoute(Route("""
            filters:
            - type: RequestRedirect
              requestRedirect:
                scheme: https
                hostname: www.cnn.com
                port: 8443
                path: {type: ReplaceFullPath, replaceFullPath: /politics}
            """));

        Assert.Null(route["forward"]);
        var redirect = route["redirect"]!;
        Assert.Equal("https", redirect["scheme"]!.GetValue<string>());
        Assert.Equal("www.cnn.com", redirect["host"]!.GetValue<string>());
        Assert.Equal(8443, redirect["port"]!.GetValue<int>());
        Assert.Equal("/politics", redirect["path"]!.GetValue<string>());
        Assert.Equal(302, redirect["status"]!.GetValue<int>()); // HTTPRequestRedirectFilter.statusCode defaults to 302
    }

    [Fact]
    public void RequestRedirect_StatusCodeWithBackends_RedirectWins()
    {
        var yaml = Route($$$"""
            filters:
            - type: RequestRedirect
              requestRedirect: {scheme: https, statusCode: 301}
            {{{ToHostname}}}
            """);

        var redirect = GatewayRoute(yaml)["redirect"]!;
        Assert.Equal(301, redirect["status"]!.GetValue<int>());
        Assert.Null(redirect["host"]);
        Assert.Null(redirect["path"]);

        // No port: the scheme's default port, as Istio sets derivePort when only the scheme is given.
        Assert.Equal(RedirectPortSelection.FromProtocolDefault, LoweredRule(yaml).Redirect!.DerivePort);
    }

    [Fact]
    public void RequestRedirect_ReplacePrefixMatch_RuleAnswers500()
    {
        // Neither the VirtualService model nor the proxy can replace only the matched prefix in a redirect; redirecting
        // to the unchanged path would send the client elsewhere, so the rule fails closed.
        var route = GatewayRoute(Route("""
            matches: [{path: {type: PathPrefix, value: /old}}]
            filters:
            - type: RequestRedirect
              requestRedirect:
                path: {type: ReplacePrefixMatch, replacePrefixMatch: /new}
            """));

        Assert.Equal(500, DirectStatus(route));
        Assert.Equal("/old", route["match"]!["prefix"]!.GetValue<string>());
    }

    [Fact]
    public void UrlRewrite_Hostname_RouteRewritesHost()
    {
        var route = GatewayRoute(Route($$$"""
            filters:
            - type: URLRewrite
              urlRewrite: {hostname: edition-internal.cnn.com}
            {{{ToHostname}}}
            """));

        Assert.Equal("edition-internal.cnn.com", route["forward"]!["hostRewrite"]!.GetValue<string>());
        Assert.Equal(["outbound|80||edition.cnn.com=100"], Clusters(route));
    }

    [Fact]
    public void UrlRewrite_ReplacePrefixMatch_LoweredToRewriteUri()
    {
        var rule = LoweredRule(Route($$$"""
            matches: [{path: {type: PathPrefix, value: /v1}}]
            filters:
            - type: URLRewrite
              urlRewrite:
                path: {type: ReplacePrefixMatch, replacePrefixMatch: /api/}
            {{{ToHostname}}}
            """));

        // createRewriteFilter: the trailing slash is dropped ("/" alone would mean "remove the prefix").
        Assert.Equal(new HttpRewrite { Uri = "/api" }, rule.Rewrite);
    }

    [Fact]
    public void UrlRewrite_ReplaceFullPath_LoweredToUriRegexRewrite()
    {
        var rule = LoweredRule(Route($$$"""
            filters:
            - type: URLRewrite
              urlRewrite:
                hostname: edition-internal.cnn.com
                path: {type: ReplaceFullPath, replaceFullPath: /index.html}
            {{{ToHostname}}}
            """));

        Assert.Equal(
            new HttpRewrite { Authority = "edition-internal.cnn.com", UriRegexRewrite = new RegexRewrite { Match = "/.*", Rewrite = "/index.html" } },
            rule.Rewrite);
    }

    [Fact]
    public void BackendRequestHeaderModifier_LoweredToTheDestinationsHeaders()
    {
        var yaml = Route("""
            backendRefs:
            - name: httpbin
              port: 80
              weight: 3
              filters:
              - type: RequestHeaderModifier
                requestHeaderModifier: {set: [{name: X-Backend, value: httpbin}]}
            - {kind: Hostname, group: networking.istio.io, name: edition.cnn.com, port: 80, weight: 1}
            """);

        var route = LoweredRule(yaml).Route!;
        Assert.Equal(new Dictionary<string, string> { ["x-backend"] = "httpbin" }, route[0].Headers!.Request!.Set);
        Assert.Null(route[1].Headers);
        Assert.Equal(["outbound|80||httpbin.default.svc.cluster.local=3", "outbound|80||edition.cnn.com=1"], Clusters(GatewayRoute(yaml)));
    }

    [Fact]
    public void RequestMirror_ValidBackend_LoweredToMirrorsWithPercentage()
    {
        var yaml = Route($$$"""
            filters:
            - type: RequestMirror
              requestMirror:
                backendRef: {name: httpbin, port: 80}
                fraction: {numerator: 1, denominator: 4}
            - type: RequestMirror
              requestMirror:
                backendRef: {name: missing, port: 80}
            {{{ToHostname}}}
            """);

        // The second mirror names a Service that does not exist: it mirrors nothing, and the route still forwards.
        var mirror = Assert.Single(LoweredRule(yaml).Mirrors!);
        Assert.Equal("httpbin.default.svc.cluster.local", mirror.Destination!.Host);
        Assert.Equal(80, mirror.Destination.Port!.Number);
        Assert.Equal(25, mirror.Percentage!.Value);
        Assert.Equal(["outbound|80||edition.cnn.com=100"], Clusters(GatewayRoute(yaml)));
    }

    [Fact]
    public void Cors_LoweredToCorsPolicy()
    {
        var rule = LoweredRule(Route($$$"""
            filters:
            - type: CORS
              cors:
                allowOrigins: ["https://www.cnn.com", "https://*.cnn.com", "https://static.*"]
                allowMethods: [GET, POST]
                allowCredentials: true
                maxAge: 600
            {{{ToHostname}}}
            """));

        var cors = rule.CorsPolicy!;
        Assert.Equal(
            [new StringMatch { Exact = "https://www.cnn.com" }, new StringMatch { Regex = "^https://.*\\.cnn\\.com$" }, new StringMatch { Prefix = "https://static." }],
            cors.AllowOrigins!);
        Assert.Equal(["GET", "POST"], cors.AllowMethods!);
        Assert.True(cors.AllowCredentials);
        Assert.Equal("600s", cors.MaxAge);
        Assert.Equal("IGNORE", cors.UnmatchedPreflights);
    }

    [Fact]
    public void ExtensionRef_NotImplemented_RuleAnswers500()
    {
        // Gateway API: a filter that cannot be carried out MUST NOT be skipped; the requests it applies to get an error.
        var route = GatewayRoute(Route($$$"""
            filters:
            - type: ExtensionRef
              extensionRef: {group: example.com, kind: Filter, name: mine}
            {{{ToHostname}}}
            """));

        Assert.Equal(500, DirectStatus(route));
        Assert.Null(route["forward"]);
    }

    [Fact]
    public void CrossNamespaceBackend_WithoutReferenceGrant_RuleAnswers500()
    {
        var route = GatewayRoute(Route("backendRefs: [{name: backend, namespace: other, port: 80}]"));

        Assert.Equal(500, DirectStatus(route));
        Assert.Null(route["forward"]);
    }

    [Theory]
    [InlineData("to: [{group: \"\", kind: Service}]", true)]
    [InlineData("to: [{group: \"\", kind: Service, name: backend}]", true)]
    [InlineData("to: [{group: \"\", kind: Service, name: another}]", false)]
    [InlineData("to: [{group: \"\", kind: Secret}]", false)]
    public void CrossNamespaceBackend_WithReferenceGrant_RoutedOnlyWhenTheGrantNamesIt(string to, bool routed)
    {
        var route = GatewayRoute(Route("backendRefs: [{name: backend, namespace: other, port: 80}]") + $$"""

            ---
            apiVersion: gateway.networking.k8s.io/v1beta1
            kind: ReferenceGrant
            metadata: {name: allow-default, namespace: other}
            spec:
              from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: default}]
              {{to}}
            """);

        if (routed)
        {
            Assert.Equal(["outbound|80||backend.other.svc.cluster.local=100"], Clusters(route));
        }
        else
        {
            Assert.Equal(500, DirectStatus(route));
        }
    }

    [Fact]
    public void CrossNamespaceBackend_GrantForAnotherRouteKindOrNamespace_RuleAnswers500()
    {
        var route = GatewayRoute(Route("backendRefs: [{name: backend, namespace: other, port: 80}]") + """

            ---
            apiVersion: gateway.networking.k8s.io/v1beta1
            kind: ReferenceGrant
            metadata: {name: tls-only, namespace: other}
            spec:
              from: [{group: gateway.networking.k8s.io, kind: TLSRoute, namespace: default}]
              to: [{group: "", kind: Service}]
            ---
            apiVersion: gateway.networking.k8s.io/v1beta1
            kind: ReferenceGrant
            metadata: {name: grant-in-wrong-namespace, namespace: default}
            spec:
              from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: default}]
              to: [{group: "", kind: Service}]
            """);

        Assert.Equal(500, DirectStatus(route));
    }

    [Fact]
    public void MissingBackendService_OnlyBackend_RuleAnswers500()
    {
        var yaml = Route("backendRefs: [{name: missing, port: 80}]");

        Assert.Equal(500, DirectStatus(GatewayRoute(yaml)));
        Assert.Equal(500, LoweredRule(yaml).DirectResponse!.Status);
        Assert.Null(LoweredRule(yaml).Route);
    }

    [Fact]
    public void MissingBackendService_BesideAValidOne_KeepsItsShareWhichAnswers500()
    {
        // Gateway API: "requests that would have been sent to an invalid backend MUST receive a 500"; Istio sends that
        // share to a cluster that does not exist (cluster_not_found_response_code INTERNAL_SERVER_ERROR).
        var route = GatewayRoute(Route("""
            backendRefs:
            - {name: missing, port: 80, weight: 1}
            - {name: httpbin, port: 80, weight: 3}
            """));

        Assert.Equal([$"{Cluster.InvalidBackend}=1", "outbound|80||httpbin.default.svc.cluster.local=3"], Clusters(route));
    }

    [Fact]
    public void ZeroWeightBackends_NoneCarriesTraffic_RuleAnswers500()
    {
        var route = GatewayRoute(Route("backendRefs: [{name: httpbin, port: 80, weight: 0}]"));

        Assert.Equal(500, DirectStatus(route));
    }

    [Fact]
    public void MeshRoute_MissingBackend_SidecarAnswers500InsteadOfGoingToTheHost()
    {
        var route = Assert.Single(Routes(Translate(Base + """

            ---
            apiVersion: gateway.networking.k8s.io/v1
            kind: HTTPRoute
            metadata: {name: direct-cnn-to-egress-gateway, namespace: default}
            spec:
              parentRefs: [{kind: ServiceEntry, group: networking.istio.io, name: cnn}]
              rules:
              - backendRefs: [{name: cnn-egress-gateway-istio, port: 80}]
            """, TranslationFixtures.Sleep()), "80", "edition.cnn.com:80"))!;

        Assert.Equal("default.direct-cnn-to-egress-gateway.0", route["name"]!.GetValue<string>());
        Assert.Equal(500, DirectStatus(route));
    }

    [Fact]
    public void TlsRoute_OnlyAMissingBackend_SniChainGoesNowhere()
    {
        const string yaml = Base + """

            ---
            apiVersion: gateway.networking.k8s.io/v1alpha2
            kind: TLSRoute
            metadata: {name: direct-cnn-to-egress-gateway, namespace: default}
            spec:
              parentRefs: [{kind: ServiceEntry, group: networking.istio.io, name: cnn}]
              rules:
              - backendRefs: [{name: cnn-egress-gateway-istio, port: 443}]
            """;

        // Without the rule the sidecar's own chain for edition.cnn.com would send the connection straight to the
        // host, around the egress gateway: the rule stays, with no destination, and the connection is closed.
        var listener = Assert.Single(Translate(yaml, TranslationFixtures.Sleep()).Listeners, l => l.Name == "0.0.0.0_443");
        var chain = Assert.Single(listener.FilterChains, c => c.ServerNames.AsSpan().Contains("edition.cnn.com"));
        Assert.Equal(Cluster.BlackHole, chain.Cluster);
    }

    [Fact]
    public void TlsRoute_CrossNamespaceBackend_GatewayChainRoutedOnlyWithAGrant()
    {
        const string yaml = """
            apiVersion: gateway.networking.k8s.io/v1
            kind: Gateway
            metadata: {name: cnn-egress-gateway, namespace: default}
            spec:
              gatewayClassName: istio
              listeners:
              - {name: tls, hostname: edition.cnn.com, port: 443, protocol: TLS, tls: {mode: Passthrough}}
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: backend, namespace: other}
            spec:
              selector: {app: backend}
              ports: [{name: tls, port: 443, appProtocol: tls}]
            ---
            apiVersion: gateway.networking.k8s.io/v1alpha2
            kind: TLSRoute
            metadata: {name: forward, namespace: default}
            spec:
              parentRefs: [{name: cnn-egress-gateway}]
              hostnames: [edition.cnn.com]
              rules:
              - backendRefs: [{name: backend, namespace: other, port: 443}]
            """;
        const string grant = """

            ---
            apiVersion: gateway.networking.k8s.io/v1beta1
            kind: ReferenceGrant
            metadata: {name: allow-default, namespace: other}
            spec:
              from: [{group: gateway.networking.k8s.io, kind: TLSRoute, namespace: default}]
              to: [{group: "", kind: Service}]
            """;

        static string? ChainCluster(string yaml) => Assert.Single(
            Assert.Single(Translate(yaml, TranslationFixtures.CnnEgressGateway()).Listeners).FilterChains).Cluster;

        Assert.Equal(Cluster.BlackHole, ChainCluster(yaml));
        Assert.Equal("outbound|443||backend.other.svc.cluster.local", ChainCluster(yaml + grant));
    }

    /// <summary>A Gateway with a TCP listener on 9000 and Service <c>backend</c> (namespace <c>other</c>) on 9000.</summary>
    private const string TcpBase = """
        apiVersion: gateway.networking.k8s.io/v1
        kind: Gateway
        metadata: {name: cnn-egress-gateway, namespace: default}
        spec:
          gatewayClassName: istio
          listeners:
          - {name: tcp, port: 9000, protocol: TCP}
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: backend, namespace: other}
        spec:
          selector: {app: backend}
          ports: [{name: tcp, port: 9000}]
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: local, namespace: default}
        spec:
          selector: {app: local}
          ports: [{name: tcp, port: 9000}]
        """;

    [Fact]
    public void TcpRoute_OnATcpListener_LoweredToATcpRouteToTheBackend()
    {
        const string yaml = TcpBase + """

            ---
            apiVersion: gateway.networking.k8s.io/v1alpha2
            kind: TCPRoute
            metadata: {name: forward, namespace: default}
            spec:
              parentRefs: [{name: cnn-egress-gateway, sectionName: tcp}]
              rules:
              - backendRefs: [{name: local, port: 9000}]
            """;

        var (_, vs) = Assert.Single(GatewayApiLowering.VirtualServices(Registry.For(TranslationFixtures.Parse(yaml))));
        Assert.Equal([GatewayApiLowering.GatewayKey("default", "cnn-egress-gateway")], vs.Gateways);
        var rule = Assert.Single(vs.Spec.Tcp!);
        Assert.Equal(9000, Assert.Single(rule.Match!).Port);
        var destination = Assert.Single(rule.Route!);
        Assert.Equal("local.default.svc.cluster.local", destination.Destination!.Host);
        Assert.Equal(1, destination.Weight);

        var listener = Assert.Single(Translate(yaml, TranslationFixtures.CnnEgressGateway()).Listeners);
        Assert.Equal("outbound|9000||local.default.svc.cluster.local", Assert.Single(listener.FilterChains).Cluster);
    }

    [Fact]
    public void TcpRoute_OnAnHttpListener_NotLowered()
    {
        var yaml = Base + """

            ---
            apiVersion: gateway.networking.k8s.io/v1alpha2
            kind: TCPRoute
            metadata: {name: forward, namespace: default}
            spec:
              parentRefs: [{name: cnn-egress-gateway}]
              rules:
              - backendRefs: [{name: httpbin, port: 80}]
            """;

        Assert.Empty(GatewayApiLowering.VirtualServices(Registry.For(TranslationFixtures.Parse(yaml))));
    }

    [Fact]
    public void TcpRoute_ServiceEntryParent_BindsMeshOnTheParentPort()
    {
        const string yaml = """
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata: {name: db, namespace: default}
            spec:
              hosts: [db.example.com]
              ports: [{number: 9000, name: tcp, protocol: TCP}]
              resolution: DNS
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: cnn-egress-gateway-istio, namespace: default}
            spec:
              selector: {app: gw}
              ports: [{name: tcp, port: 9000}]
            ---
            apiVersion: gateway.networking.k8s.io/v1alpha2
            kind: TCPRoute
            metadata: {name: db-to-egress, namespace: default}
            spec:
              parentRefs: [{kind: ServiceEntry, group: networking.istio.io, name: db, port: 9000}]
              rules:
              - backendRefs: [{name: cnn-egress-gateway-istio, port: 9000, weight: 3}]
            """;

        var (_, vs) = Assert.Single(GatewayApiLowering.VirtualServices(Registry.For(TranslationFixtures.Parse(yaml))));
        Assert.Equal([VirtualServiceIndex.Mesh], vs.Gateways);
        Assert.Equal(["db.example.com"], vs.Hosts);
        var rule = Assert.Single(vs.Spec.Tcp!);
        Assert.Equal(9000, Assert.Single(rule.Match!).Port);
        var destination = Assert.Single(rule.Route!);
        Assert.Equal("cnn-egress-gateway-istio.default.svc.cluster.local", destination.Destination!.Host);
        Assert.Equal(3, destination.Weight);
    }

    [Theory]
    [InlineData("{name: missing, port: 9000}")]
    [InlineData("{name: backend, namespace: other, port: 9000}")]
    [InlineData("{name: local, port: 9000, weight: 0}")]
    public void TcpRoute_NoValidBackend_SendsNothingAnywhere(string backend)
    {
        var yaml = TcpBase + $$"""

            ---
            apiVersion: gateway.networking.k8s.io/v1alpha2
            kind: TCPRoute
            metadata: {name: forward, namespace: default}
            spec:
              parentRefs: [{name: cnn-egress-gateway}]
              rules:
              - backendRefs: [{{backend}}]
            """;

        var (_, vs) = Assert.Single(GatewayApiLowering.VirtualServices(Registry.For(TranslationFixtures.Parse(yaml))));
        Assert.Empty(Assert.Single(vs.Spec.Tcp!).Route!);
        var chains = Assert.Single(Translate(yaml, TranslationFixtures.CnnEgressGateway()).Listeners).FilterChains;
        Assert.All(chains, c => Assert.Equal(Cluster.BlackHole, c.Cluster));
    }

    [Fact]
    public void TcpRoute_CrossNamespaceBackend_RoutedWithATcpRouteGrant()
    {
        const string yaml = TcpBase + """

            ---
            apiVersion: gateway.networking.k8s.io/v1alpha2
            kind: TCPRoute
            metadata: {name: forward, namespace: default}
            spec:
              parentRefs: [{name: cnn-egress-gateway}]
              rules:
              - backendRefs: [{name: backend, namespace: other, port: 9000}]
            ---
            apiVersion: gateway.networking.k8s.io/v1beta1
            kind: ReferenceGrant
            metadata: {name: allow-default, namespace: other}
            spec:
              from: [{group: gateway.networking.k8s.io, kind: TCPRoute, namespace: default}]
              to: [{group: "", kind: Service}]
            """;

        var chain = Assert.Single(Assert.Single(Translate(yaml, TranslationFixtures.CnnEgressGateway()).Listeners).FilterChains);
        Assert.Equal("outbound|9000||backend.other.svc.cluster.local", chain.Cluster);
    }

    /// <summary>
    /// Translation and the status controller judge backends alike: a backend the route's ResolvedRefs condition
    /// reports (RefNotPermitted, BackendNotFound) is the one translation does not route to, and the others are routed.
    /// </summary>
    [Theory]
    [InlineData("{name: httpbin, port: 80}", true)]
    [InlineData("{name: missing, port: 80}", false)]
    [InlineData("{name: backend, namespace: other, port: 80}", false)]
    [InlineData("{name: backend, namespace: other, port: 80}", true, "to: [{group: core, kind: Service, name: backend}]")]
    [InlineData("{kind: Hostname, group: networking.istio.io, name: edition.cnn.com, port: 80}", true)]
    [InlineData("{kind: Hostname, group: networking.istio.io, name: www.cnn.com, port: 80}", false)]
    [InlineData("{kind: ServiceEntry, group: networking.istio.io, name: cnn, port: 80}", true)]
    [InlineData("{kind: ServiceEntry, group: networking.istio.io, name: missing, port: 80}", false)]
    public void BackendValidity_AgreesWithResolvedRefs(string backend, bool valid, string? grantTo = null)
    {
        var yaml = Route($"backendRefs: [{backend}]");
        if (grantTo is not null)
        {
            yaml += $$"""

                ---
                apiVersion: gateway.networking.k8s.io/v1beta1
                kind: ReferenceGrant
                metadata: {name: allow-default, namespace: other}
                spec:
                  from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: default}]
                  {{grantTo}}
                """;
        }

        var resources = TranslationFixtures.Parse(yaml);
        var route = resources.Get(new ObjectKey(ResourceTypes.HttpRoute, "default", "cnn"))!;
        var spec = ParsedSpecs.Spec<Core.Resources.GatewayApi.HttpRouteSpec>(route)!;
        var b = Assert.Single(Assert.Single(spec.Rules!).BackendRefs!);
        var status = new BackendResolution(new GatewayApiBackends(Registry.For(resources)))
            .Resolve(route, [new BackendRefView(b.Group, b.Kind, b.Name, b.Namespace, b.Weight)]);

        Assert.Equal(valid, status.Status);
        Assert.Equal(valid, DirectStatus(GatewayRoute(yaml)) is null);
    }

    [Theory]
    [InlineData("team: egress", true)]
    [InlineData("team: other", false)]
    public void AllowedRoutesSelector_RouteFromASelectedNamespaceAttaches_OtherwiseNot(string labels, bool attaches)
    {
        var yaml = Base.Replace(
            "  - {name: http, hostname: edition.cnn.com, port: 80, protocol: HTTP}",
            "  - {name: http, hostname: edition.cnn.com, port: 80, protocol: HTTP, allowedRoutes: {namespaces: {from: Selector, selector: {matchLabels: {team: egress}}}}}",
            StringComparison.Ordinal) + $$"""

            ---
            apiVersion: v1
            kind: Namespace
            metadata:
              name: routes
              labels: { {{labels}} }
            ---
            apiVersion: gateway.networking.k8s.io/v1
            kind: HTTPRoute
            metadata: {name: cnn, namespace: routes}
            spec:
              parentRefs: [{name: cnn-egress-gateway, namespace: default}]
              hostnames: [edition.cnn.com]
              rules:
              - {{ToHostname}}
            """;
        var config = Translate(yaml, TranslationFixtures.CnnEgressGateway());
        var routes = JsonNode.Parse(ProxyConfigLoader.ToJson(config))!["routeTables"]!.AsArray()
            .SelectMany(t => t!["virtualHosts"]!.AsArray()).SelectMany(h => h!["routes"]!.AsArray()).ToList();
        Assert.Equal(attaches, routes.Any(r => r!["name"]?.GetValue<string>() == "routes.cnn.0"));
    }

    [Theory]
    [InlineData("", true)]
    [InlineData(", allowedRoutes: {kinds: [{kind: HTTPRoute}]}", true)]
    [InlineData(", allowedRoutes: {kinds: [{kind: GRPCRoute}]}", false)]
    public void AllowedRoutesKinds_AnHttpRouteAttachesOnlyWhereItsKindIsAdmitted(string allowed, bool attaches)
    {
        var yaml = Route(ToHostname).Replace(
            "  - {name: http, hostname: edition.cnn.com, port: 80, protocol: HTTP}",
            "  - {name: http, hostname: edition.cnn.com, port: 80, protocol: HTTP" + allowed + "}",
            StringComparison.Ordinal);
        var registry = Registry.For(TranslationFixtures.Parse(yaml));
        Assert.Equal(attaches, GatewayApiLowering.VirtualServices(registry).Any(v => v.Resource.Name == "cnn"));
    }
}

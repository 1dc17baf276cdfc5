using Meshgate.Core.ProxyConfiguration;
using Meshgate.Core.Translation;

using Xunit;

namespace Meshgate.Tests.Translation;

/// <summary>One Istio rule per test, on a small input: what the golden files show in bulk, asserted field by field.</summary>
public class TranslatorRulesTests
{
    private const string Cnn = """
        apiVersion: networking.istio.io/v1
        kind: ServiceEntry
        metadata:
          name: cnn
        spec:
          hosts: [edition.cnn.com]
          ports:
          - {number: 80, name: http, protocol: HTTP}
          - {number: 443, name: tls, protocol: TLS}
          resolution: DNS
        """;

    private static ProxyConfig Sidecar(string yaml, string ns = "default")
    {
        var resources = TranslationFixtures.Parse(yaml);
        var config = Translator.Translate(resources, Translator.MeshSettingsFrom(resources), TranslationFixtures.Sleep(ns: ns), "1");
        Assert.Empty(TranslationFixtures.Validate(config));
        return config;
    }

    private static ProxyConfig Gateway(string yaml)
    {
        var resources = TranslationFixtures.Parse(yaml);
        var config = Translator.Translate(resources, Translator.MeshSettingsFrom(resources), TranslationFixtures.EgressGateway(), "1");
        Assert.Empty(TranslationFixtures.Validate(config));
        return config;
    }

    private static Cluster? ClusterNamed(ProxyConfig config, string name) => config.Clusters.AsSpan().ToArray().FirstOrDefault(c => c.Name == name);

    private static VirtualHost Host(ProxyConfig config, string table, string name) =>
        Assert.Single(Assert.Single(config.RouteTables, t => t.Name == table).VirtualHosts, h => h.Name == name);

    [Fact]
    public void DestinationRule_InClientAndRootNamespaces_ClientNamespaceWins()
    {
        var config = Sidecar(Cnn + """

            ---
            apiVersion: networking.istio.io/v1
            kind: DestinationRule
            metadata: {name: mine, namespace: default}
            spec:
              host: edition.cnn.com
              subsets: [{name: mine}]
            ---
            apiVersion: networking.istio.io/v1
            kind: DestinationRule
            metadata: {name: mesh-wide, namespace: istio-system}
            spec:
              host: edition.cnn.com
              subsets: [{name: root}]
            """);

        Assert.NotNull(ClusterNamed(config, "outbound|80|mine|edition.cnn.com"));
        Assert.Null(ClusterNamed(config, "outbound|80|root|edition.cnn.com"));
    }

    [Fact]
    public void DestinationRule_ExportedOnlyToItsNamespace_NotFoundFromAnother()
    {
        var config = Sidecar(Cnn + """

            ---
            apiVersion: networking.istio.io/v1
            kind: DestinationRule
            metadata: {name: private, namespace: istio-system}
            spec:
              host: edition.cnn.com
              exportTo: ["."]
              subsets: [{name: private}]
            """);

        Assert.Null(ClusterNamed(config, "outbound|80|private|edition.cnn.com"));
    }

    [Fact]
    public void DestinationRule_PortLevelSettings_ReplaceTopLevelTlsForThatPortOnly()
    {
        var config = Sidecar(Cnn + """

            ---
            apiVersion: networking.istio.io/v1
            kind: DestinationRule
            metadata: {name: cnn}
            spec:
              host: edition.cnn.com
              trafficPolicy:
                tls: {mode: SIMPLE}
                connectionPool: {tcp: {connectTimeout: 3s}}
                portLevelSettings:
                - port: {number: 443}
                  loadBalancer: {simple: ROUND_ROBIN}
            """);

        var http = ClusterNamed(config, "outbound|80||edition.cnn.com")!;
        Assert.Equal(new UpstreamTls { Mode = TlsMode.Simple, Sni = "edition.cnn.com" }, http.Tls);
        Assert.Equal(TimeSpan.FromSeconds(3), http.ConnectTimeout);
        // Port-level settings do not inherit: no tls and no connect timeout of their own means none (DestinationRule reference).
        var tls = ClusterNamed(config, "outbound|443||edition.cnn.com")!;
        Assert.Null(tls.Tls);
        Assert.Null(tls.ConnectTimeout);
    }

    [Fact]
    public void DestinationRule_Http1MaxPendingRequests_IsTheClustersPendingConnectCap()
    {
        var config = Sidecar(Cnn + """

            ---
            apiVersion: networking.istio.io/v1
            kind: DestinationRule
            metadata: {name: cnn}
            spec:
              host: edition.cnn.com
              trafficPolicy:
                connectionPool: {tcp: {maxConnections: 1}, http: {http1MaxPendingRequests: 7}}
                portLevelSettings:
                - port: {number: 443}
                  connectionPool: {http: {http1MaxPendingRequests: 0}}
            """);

        Assert.Equal(7, ClusterNamed(config, "outbound|80||edition.cnn.com")!.MaxPendingConnects);
        Assert.Null(ClusterNamed(config, "outbound|443||edition.cnn.com")!.MaxPendingConnects); // 0: the proxy's default
    }

    [Fact]
    public void DestinationRule_MutualWithoutCredential_ClusterLeftOutAndRouteFailsClosed()
    {
        var config = Sidecar(Cnn + """

            ---
            apiVersion: networking.istio.io/v1
            kind: DestinationRule
            metadata: {name: cnn}
            spec:
              host: edition.cnn.com
              trafficPolicy:
                tls: {mode: MUTUAL, credentialName: missing}
            """);

        Assert.Null(ClusterNamed(config, "outbound|80||edition.cnn.com"));
        Assert.Equal(Cluster.BlackHole, Host(config, "80", "edition.cnn.com:80").Routes[0].Forward!.Clusters[0].Name);
    }

    [Fact]
    public void VirtualService_NoRuleForThePort_ServiceKeepsItsDefaultRoute()
    {
        var config = Sidecar(Cnn + """

            ---
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata: {name: cnn}
            spec:
              hosts: [edition.cnn.com]
              http:
              - match: [{port: 8080}]
                route: [{destination: {host: edition.cnn.com, port: {number: 80}}}]
            """);

        var route = Assert.Single(Host(config, "80", "edition.cnn.com:80").Routes);
        Assert.Equal("default", route.Name);
        Assert.Equal("outbound|80||edition.cnn.com", route.Forward!.Clusters[0].Name);
        Assert.Equal(RetryPolicy.IstioDefault, route.Forward.Retries);
    }

    [Fact]
    public void VirtualService_ShortDestinationHost_ResolvedInTheVirtualServiceNamespace()
    {
        var config = Sidecar("""
            apiVersion: v1
            kind: Service
            metadata: {name: httpbin, namespace: default}
            spec:
              selector: {app: httpbin}
              ports: [{name: http, port: 8000, targetPort: 80}]
            ---
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata: {name: httpbin, namespace: default}
            spec:
              hosts: [httpbin]
              http:
              - name: all
                route: [{destination: {host: httpbin}}]
                retries: {attempts: 0}
            """);

        var route = Assert.Single(Host(config, "8000", "httpbin.default.svc.cluster.local:8000").Routes);
        Assert.Equal("all", route.Name);
        Assert.Equal("outbound|8000||httpbin.default.svc.cluster.local", route.Forward!.Clusters[0].Name);
        Assert.Null(route.Forward.Retries); // attempts: 0 turns retries off
    }

    [Fact]
    public void VirtualService_SourceLabelsAndQueryParams_MatchesThatCannotApplyAreDroppedQueryParamsKept()
    {
        var config = Sidecar(Cnn + """

            ---
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata: {name: cnn}
            spec:
              hosts: [edition.cnn.com]
              http:
              - name: other-workload
                match: [{sourceLabels: {app: not-sleep}}]
                route: [{destination: {host: edition.cnn.com, port: {number: 443}}}]
              - name: query
                match: [{queryParams: {debug: {exact: "1"}}}]
                route: [{destination: {host: edition.cnn.com, port: {number: 443}}}]
              - name: sleep
                match: [{sourceLabels: {app: sleep}, uri: {regex: "/v[0-9]+/.*"}, headers: {x-debug: {}}, withoutHeaders: {x-skip: {exact: "1"}}}]
                route: [{destination: {host: edition.cnn.com, port: {number: 80}}}]
            """);

        var routes = Host(config, "80", "edition.cnn.com:80").Routes;
        Assert.Equal(["query", "sleep"], routes.Select(r => r.Name));
        Assert.Equal([new HeaderMatch { Name = "debug", Exact = "1" }], routes[0].Match!.QueryParams.AsSpan().ToArray());
        var route = routes[1];
        Assert.Equal("sleep", route.Name);
        Assert.Equal("/v[0-9]+/.*", route.Match!.Regex);
        Assert.Equal(
            [new HeaderMatch { Name = "x-debug", Present = true }, new HeaderMatch { Name = "x-skip", Exact = "1", Invert = true }],
            route.Match.Headers.AsSpan().ToArray());
    }

    [Fact]
    public void VirtualService_WithoutGateways_AppliesToSidecarsOnly()
    {
        var yaml = Cnn + """

            ---
            apiVersion: networking.istio.io/v1
            kind: Gateway
            metadata: {name: istio-egressgateway}
            spec:
              selector: {istio: egressgateway}
              servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ["*"]}]
            ---
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata: {name: cnn}
            spec:
              hosts: [edition.cnn.com]
              http:
              - name: mesh-only
                route: [{destination: {host: edition.cnn.com, port: {number: 80}}}]
            """;

        Assert.Equal("mesh-only", Host(Sidecar(yaml), "80", "edition.cnn.com:80").Routes[0].Name);
        Assert.Empty(Assert.Single(Gateway(yaml).RouteTables).VirtualHosts);
    }

    [Fact]
    public void GatewayServer_DotNamespaceHost_AdmitsOnlyVirtualServicesOfTheGatewayNamespace()
    {
        var config = Gateway(Cnn + """

            ---
            apiVersion: networking.istio.io/v1
            kind: Gateway
            metadata: {name: egress, namespace: istio-system}
            spec:
              selector: {istio: egressgateway}
              servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ["./*"]}]
            ---
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata: {name: outside, namespace: default}
            spec:
              hosts: [edition.cnn.com]
              gateways: [istio-system/egress]
              http: [{name: outside, route: [{destination: {host: edition.cnn.com, port: {number: 80}}}]}]
            ---
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata: {name: inside, namespace: istio-system}
            spec:
              hosts: [api.example.com]
              gateways: [egress]
              http: [{name: inside, route: [{destination: {host: edition.cnn.com, port: {number: 80}}}]}]
            """);

        var table = Assert.Single(config.RouteTables);
        Assert.Equal("http.80", table.Name); // no Service maps the port here, so it binds as it is
        var host = Assert.Single(table.VirtualHosts);
        Assert.Equal("api.example.com:80", host.Name);
        Assert.Equal("inside", host.Routes[0].Name);
    }

    [Fact]
    public void GatewayServer_SimpleWithCredentialName_TerminatesWithTheSecretFromTheGatewayNamespace()
    {
        var config = Gateway(Cnn + """

            ---
            apiVersion: v1
            kind: Secret
            metadata: {name: cnn-cert, namespace: istio-system}
            type: kubernetes.io/tls
            stringData:
              tls.crt: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
              tls.key: "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n"
            ---
            apiVersion: networking.istio.io/v1
            kind: Gateway
            metadata: {name: istio-egressgateway}
            spec:
              selector: {istio: egressgateway}
              servers:
              - port: {number: 443, name: https, protocol: HTTPS}
                hosts: [edition.cnn.com]
                tls: {mode: SIMPLE, credentialName: cnn-cert}
            ---
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata: {name: cnn}
            spec:
              hosts: [edition.cnn.com]
              gateways: [istio-egressgateway]
              http: [{route: [{destination: {host: edition.cnn.com, port: {number: 80}}}]}]
            """);

        var chain = Assert.Single(Assert.Single(config.Listeners).FilterChains);
        Assert.Equal(new DownstreamTls { Mode = TlsMode.Simple, CertificateSecret = "cnn-cert" }, chain.Tls);
        Assert.Equal("https.443.https.istio-egressgateway.default", chain.RouteTable);
        var secret = Assert.Single(config.Secrets);
        Assert.Equal("cnn-cert", secret.Name);
        Assert.StartsWith("-----BEGIN CERTIFICATE-----", secret.CertificateChain, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("STATIC", ClusterDiscovery.Static, ClusterDiscovery.Static)]
    [InlineData("NONE", ClusterDiscovery.OriginalDestination, ClusterDiscovery.Eds)]
    [InlineData("DNS_ROUND_ROBIN", ClusterDiscovery.LogicalDns, ClusterDiscovery.LogicalDns)]
    public void ServiceEntry_Resolution_ClusterDiscoveryPerRole(string resolution, ClusterDiscovery sidecar, ClusterDiscovery gateway)
    {
        var endpoints = resolution switch
        {
            "NONE" => "",
            "DNS_ROUND_ROBIN" => """

                  endpoints:
                  - {address: db-1.example.com, ports: {tcp: 5433}}
                """,
            _ => """

                  endpoints:
                  - {address: 192.0.2.10, ports: {tcp: 5433}}
                  - {address: 192.0.2.11}
                """,
        };
        var yaml = $$"""
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata: {name: db}
            spec:
              hosts: [db.example.com]
              ports: [{number: 5432, name: tcp, protocol: TCP}]
              resolution: {{resolution}}{{endpoints}}
            """;

        var sidecarCluster = ClusterNamed(Sidecar(yaml), "outbound|5432||db.example.com")!;
        Assert.Equal(sidecar, sidecarCluster.Discovery);
        Assert.Equal(gateway, ClusterNamed(Gateway(yaml), "outbound|5432||db.example.com")!.Discovery);
        switch (resolution)
        {
            case "STATIC":
                Assert.Equal([new Endpoint { Address = "192.0.2.10", Port = 5433 }, new Endpoint { Address = "192.0.2.11", Port = 5432 }], sidecarCluster.Endpoints.AsSpan().ToArray());
                break;
            case "DNS_ROUND_ROBIN":
                Assert.Equal([new Endpoint { Address = "db-1.example.com", Port = 5433 }], sidecarCluster.Endpoints.AsSpan().ToArray());
                break;
        }
    }

    [Fact]
    public void ServiceEntry_TcpPortWithAddresses_ExactListenerPerAddress()
    {
        var config = Sidecar("""
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata: {name: db}
            spec:
              hosts: [db.example.com]
              addresses: [192.0.2.10]
              ports: [{number: 5432, name: tcp, protocol: TCP}]
              resolution: DNS
            """);

        var listener = Assert.Single(config.Listeners, l => l.Port == 5432);
        Assert.Equal("192.0.2.10_5432", listener.Name);
        Assert.False(listener.BindToPort);
        Assert.Equal("outbound|5432||db.example.com", Assert.Single(listener.FilterChains).Cluster);
    }

    [Fact]
    public void VirtualService_RedirectAuthorityWithPortAndRetryOnCodes_NormalizedForTheProxy()
    {
        var config = Sidecar(Cnn + """

            ---
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata: {name: cnn}
            spec:
              hosts: [edition.cnn.com]
              http:
              - name: moved
                match: [{uri: {prefix: /old}}]
                redirect: {authority: "new.cnn.com:8080", uri: /new, redirectCode: 308}
              - name: rest
                route: [{destination: {host: edition.cnn.com, port: {number: 80}}}]
                retries: {attempts: 5, retryOn: "gateway-error,retriable-status-codes,429"}
            """);

        var routes = Host(config, "80", "edition.cnn.com:80").Routes.AsSpan().ToArray();
        Assert.Equal(["moved", "rest"], routes.Select(r => r.Name));
        Assert.Equal(new RedirectAction { Host = "new.cnn.com", Port = 8080, Path = "/new", Status = 308 }, routes[0].Redirect);
        Assert.Equal(
            new RetryPolicy { Attempts = 5, RetryOn = [RetryCondition.GatewayError], RetriableStatusCodes = [429] },
            routes[1].Forward!.Retries);
    }

    [Fact]
    public void Translate_SameInput_EqualSnapshots()
    {
        var resources = TranslationFixtures.Parse(Cnn);
        var mesh = Translator.MeshSettingsFrom(resources);

        Assert.Equal(
            Translator.Translate(resources, mesh, TranslationFixtures.Sleep(), "7"),
            Translator.Translate(TranslationFixtures.Parse(Cnn), mesh, TranslationFixtures.Sleep(), "7"));
    }

    [Fact]
    public void Port_HttpServiceEntryAndTlsService_TheListenerIsHttpSoPlaintextRequestsAreRouted()
    {
        // A Gateway API gateway's Service declares its HTTPS listener's port 80 (appProtocol https) beside the
        // ServiceEntry's HTTP port 80, as Istio's TLS-origination page has it; the host that sorts first is the Service.
        var config = Sidecar(Cnn + """

            ---
            apiVersion: v1
            kind: Service
            metadata:
              name: cnn-egress-gateway-istio
            spec:
              selector: {gateway.networking.k8s.io/gateway-name: cnn-egress-gateway}
              ports:
              - {name: https-80, port: 80, appProtocol: https}
            """);
        var listener = Assert.Single(config.Listeners.AsSpan().ToArray(), l => l.Port == 80);
        Assert.Equal(ListenerProtocol.Http, listener.Protocol);
        Assert.Contains(Assert.Single(config.RouteTables.AsSpan().ToArray(), t => t.Name == "80").VirtualHosts.AsSpan().ToArray(), h => h.Name == "edition.cnn.com:80");
    }
}

using Meshgate.Core.ProxyConfiguration;

namespace Meshgate.Tests.ProxyConfiguration;

/// <summary>Snapshots built in code, each call a fresh object graph (so equality is by value, never by reference).</summary>
internal static class TestSnapshots
{
    public const string CnnHttp = "outbound|80||edition.cnn.com";
    public const string CnnTls = "outbound|443||edition.cnn.com";
    public const string GatewayCnn = "outbound|80|cnn|istio-egressgateway.istio-system.svc.cluster.local";

    private const string Certificate = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
    private const string Key = "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n";

    /// <summary>The seed's egress gateway, with an mTLS listener and a sidecar-style cluster: consistent.</summary>
    public static ProxyConfig Gateway() => new()
    {
        Version = "7",
        Node = new Node { Id = "router~10.0.0.1~istio-egressgateway.istio-system~istio-system.svc.cluster.local", Role = ProxyRole.Gateway, Namespace = "istio-system" },
        AccessLog = new AccessLogSettings { Path = AccessLogSettings.Stdout, Encoding = AccessLogEncoding.Json },
        Secrets =
        [
            new Secret { Name = Secret.Default, CertificateChain = Certificate, PrivateKey = Key },
            new Secret { Name = Secret.RootCa, TrustedCa = Certificate },
        ],
        Clusters =
        [
            new Cluster
            {
                Name = CnnHttp,
                Discovery = ClusterDiscovery.StrictDns,
                ConnectTimeout = TimeSpan.FromSeconds(10),
                Endpoints = [new Endpoint { Address = "edition.cnn.com", Port = 80 }],
            },
            new Cluster
            {
                Name = CnnTls,
                Discovery = ClusterDiscovery.StrictDns,
                Endpoints = [new Endpoint { Address = "edition.cnn.com", Port = 443 }],
            },
            new Cluster
            {
                Name = GatewayCnn,
                Discovery = ClusterDiscovery.Eds,
                Endpoints = [new Endpoint { Address = "10.0.0.1", Port = 8080, Weight = 2 }],
                Tls = new UpstreamTls { Mode = TlsMode.IstioMutual, Sni = "edition.cnn.com", SubjectAltNames = ["spiffe://cluster.local/ns/istio-system/sa/istio-egressgateway-service-account"] },
            },
            new Cluster { Name = "static", Discovery = ClusterDiscovery.Static, Endpoints = [new Endpoint { Address = "127.0.0.1", Port = 9000 }] },
            Cluster.BlackHoleCluster,
            Cluster.PassthroughCluster,
        ],
        RouteTables =
        [
            new RouteTable
            {
                Name = "http.8080",
                VirtualHosts =
                [
                    new VirtualHost
                    {
                        Name = "edition.cnn.com:80",
                        Domains = ["edition.cnn.com", "edition.cnn.com:80"],
                        Routes =
                        [
                            new Route
                            {
                                Name = "api",
                                Match = new RouteMatch { Prefix = "/api/", Headers = [new HeaderMatch { Name = "x-canary", Exact = "true" }] },
                                Forward = new ForwardAction
                                {
                                    Clusters = [new WeightedCluster { Name = CnnHttp, Weight = 90 }, new WeightedCluster { Name = GatewayCnn, Weight = 10 }],
                                    Timeout = TimeSpan.FromMilliseconds(2500),
                                    Retries = RetryPolicy.IstioDefault,
                                },
                            },
                            new Route { Name = "old", Match = new RouteMatch { Regex = "/old/.*" }, Redirect = new RedirectAction { Path = "/new", Status = 308 } },
                            new Route { Match = new RouteMatch { Exact = "/health" }, DirectResponse = new DirectResponseAction { Status = 200, Body = "ok" } },
                            new Route { Forward = new ForwardAction { Clusters = [new WeightedCluster { Name = CnnHttp }] } },
                        ],
                    },
                    new VirtualHost { Name = "blackhole", Domains = ["*"], Routes = [new Route { Forward = new ForwardAction { Clusters = [new WeightedCluster { Name = Cluster.BlackHole }] } }] },
                ],
            },
        ],
        Listeners =
        [
            new Listener
            {
                Name = "http",
                Address = "0.0.0.0",
                Port = 8080,
                Protocol = ListenerProtocol.Http,
                DefaultFilterChain = new FilterChain { RouteTable = "http.8080" },
            },
            new Listener
            {
                Name = "tls",
                Address = "0.0.0.0",
                Port = 8443,
                Protocol = ListenerProtocol.Tls,
                FilterChains =
                [
                    new FilterChain { Name = "cnn", ServerNames = ["edition.cnn.com"], Cluster = CnnTls },
                    new FilterChain { Name = "mtls", ServerNames = ["*.cnn.com"], Tls = new DownstreamTls { Mode = TlsMode.IstioMutual }, RouteTable = "http.8080" },
                ],
                DefaultFilterChain = new FilterChain { Cluster = Cluster.BlackHole },
            },
            new Listener
            {
                Name = "tcp",
                Address = "127.0.0.1",
                Port = 9001,
                Protocol = ListenerProtocol.Tcp,
                FilterChains = [new FilterChain { Cluster = "static" }],
            },
        ],
    };

    /// <summary><paramref name="items"/> with the item at <paramref name="index"/> replaced.</summary>
    public static EquatableArray<T> With<T>(this EquatableArray<T> items, int index, Func<T, T> change)
    {
        var copy = items.ToArray();
        copy[index] = change(copy[index]);
        return EquatableArray.From(copy);
    }
}

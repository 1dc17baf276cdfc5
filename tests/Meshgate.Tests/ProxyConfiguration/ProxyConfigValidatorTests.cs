using Meshgate.Core.ProxyConfiguration;

using Xunit;

using static Meshgate.Tests.ProxyConfiguration.TestSnapshots;

namespace Meshgate.Tests.ProxyConfiguration;

/// <summary>
/// Each case breaks one thing in a consistent snapshot and asserts the complete list of errors, so a message that
/// changes, a rule that stops firing, or a rule that fires twice all fail.
/// </summary>
public class ProxyConfigValidatorTests
{
    private const string Gw = "cluster \"outbound|80|cnn|istio-egressgateway.istio-system.svc.cluster.local\"";
    private const string Routes = "route table \"http.8080\"";

    private static readonly Dictionary<string, (Func<ProxyConfig, ProxyConfig> Change, string[] Errors)> Cases = new()
    {
        ["empty version"] = (c => c with { Version = "" }, ["proxy config: version: must not be empty"]),
        ["empty access log path"] = (c => c with { AccessLog = new AccessLogSettings { Path = " " } },
            ["proxy config: accessLog.path: must not be empty; use /dev/stdout for the standard output"]),
        ["egress ranges and exceptions that do not parse"] = (c => c with { Egress = new EgressSettings { AllowedCidrs = ["10.0.0.0/8", "10/8", "192.168.1.0/16"], DomainFrontingExceptions = ["cdn.example", "*", "a b"] } },
        [
            "proxy config: egress.allowedCidrs[1]: \"10/8\" is not an IP address or CIDR block (such as 10.0.0.0/8, fd00::/8 or 127.0.0.1)",
            "proxy config: egress.allowedCidrs[2]: \"192.168.1.0/16\" has address bits set beyond the /16 prefix; did you mean 192.168.0.0/16?",
            "proxy config: egress.domainFrontingExceptions[1]: \"*\" names every host; set allowDomainFronting: true instead",
            "proxy config: egress.domainFrontingExceptions[2]: host \"a b\" is not a valid DNS name: each dot-separated label needs 1-63 letters, digits or '-', not starting or ending with '-'",
        ]),

        // Dangling references.
        ["listener names a missing route table"] = (c => ChangeListener(c, 0, l => l with { DefaultFilterChain = new FilterChain { RouteTable = "http.80" } }),
            ["listener \"http\": defaultFilterChain.routeTable: route table \"http.80\" is not defined; did you mean \"http.8080\"?"]),
        ["listener names a missing cluster"] = (c => ChangeChain(c, 1, 0, f => f with { Cluster = "outbound|443||edition.cnn.org" }),
            ["listener \"tls\": filterChains[0].cluster: cluster \"outbound|443||edition.cnn.org\" is not defined; did you mean \"outbound|443||edition.cnn.com\"?"]),
        ["route names a missing cluster"] = (c => ChangeRoute(c, 0, 3, r => r with { Forward = new ForwardAction { Clusters = [new WeightedCluster { Name = "outbound|8080||edition.cnn.com" }] } }),
            [$"{Routes}: virtualHosts[0].routes[3].forward.clusters[0].name: cluster \"outbound|8080||edition.cnn.com\" is not defined; did you mean \"outbound|80||edition.cnn.com\"?"]),
        ["route names a cluster unlike any"] = (c => ChangeRoute(c, 0, 3, r => r with { Forward = new ForwardAction { Clusters = [new WeightedCluster { Name = "nowhere" }] } }),
            [$"{Routes}: virtualHosts[0].routes[3].forward.clusters[0].name: cluster \"nowhere\" is not defined"]),
        ["ISTIO_MUTUAL with a ROOTCA that holds no CA"] = (c => c with { Secrets = [c.Secrets[0], c.Secrets[0] with { Name = Secret.RootCa }] },
        [
            $"{Gw}: tls: mode ISTIO_MUTUAL uses secret \"ROOTCA\", which holds no trustedCa",
            "listener \"tls\": filterChains[1].tls: mode ISTIO_MUTUAL uses secret \"ROOTCA\", which holds no trustedCa",
        ]),
        ["named certificate secret missing"] = (c => ChangeChain(c, 1, 1, f => f with { Tls = new DownstreamTls { Mode = TlsMode.Simple, CertificateSecret = "gateway-cert" } }),
            ["listener \"tls\": filterChains[1].tls.certificateSecret: secret \"gateway-cert\" is not defined"]),
        ["certificate secret without a certificate"] = (c => ChangeChain(c, 1, 1, f => f with { Tls = new DownstreamTls { Mode = TlsMode.Simple, CertificateSecret = Secret.RootCa } }),
            ["listener \"tls\": filterChains[1].tls.certificateSecret: secret \"ROOTCA\" holds no certificateChain and privateKey"]),
        ["CA secret without a trusted CA"] = (c => ChangeCluster(c, 2, k => k with { Tls = k.Tls! with { CaSecret = Secret.Default } }),
            [$"{Gw}: tls.caSecret: secret \"default\" holds no trustedCa"]),

        // Names.
        ["duplicate cluster"] = (c => c with { Clusters = [.. c.Clusters, c.Clusters[0] with { }] },
            ["cluster \"outbound|80||edition.cnn.com\": name: duplicate name: clusters[0] has it too; names must be unique"]),
        ["duplicate listener"] = (c => ChangeListener(c, 2, l => l with { Name = "http" }),
            ["listener \"http\": name: duplicate name: listeners[0] has it too; names must be unique"]),
        ["duplicate route table"] = (c => c with { RouteTables = [.. c.RouteTables, new RouteTable { Name = "http.8080" }] },
            [$"{Routes}: name: duplicate name: routeTables[0] has it too; names must be unique"]),
        ["duplicate secret"] = (c => c with { Secrets = [.. c.Secrets, c.Secrets[1]] },
            ["secret \"ROOTCA\": name: duplicate name: secrets[1] has it too; names must be unique"]),
        ["empty listener name"] = (c => ChangeListener(c, 2, l => l with { Name = "" }), ["listeners[2]: name: must not be empty"]),
        ["duplicate virtual host"] = (c => ChangeHost(c, 1, h => h with { Name = "edition.cnn.com:80" }),
            [$"{Routes}: virtualHosts[1].name: duplicate name: virtualHosts[0] has it too; names must be unique in a route table"]),

        // Listeners.
        ["duplicate address and port"] = (c => ChangeListener(c, 2, l => l with { Address = "0.0.0.0", Port = 8080 }),
            ["listener \"tcp\": port: 0.0.0.0:8080 is already bound by listener \"http\""]),
        ["listener port out of range"] = (c => ChangeListener(c, 2, l => l with { Port = 70000 }), ["listener \"tcp\": port: 70000 is not a port (1-65535)"]),
        ["listener address is a host name"] = (c => ChangeListener(c, 2, l => l with { Address = "localhost" }),
            ["listener \"tcp\": address: \"localhost\" is not an IP address; a listener binds an address such as 127.0.0.1 or 0.0.0.0"]),
        ["listener without chains"] = (c => ChangeListener(c, 2, l => l with { FilterChains = [] }),
            ["listener \"tcp\": filterChains: no filter chains and no defaultFilterChain; add at least one"]),
        ["explicit proxy on a TLS listener"] = (c => ChangeListener(c, 1, l => l with { ExplicitHttpProxy = true }),
            ["listener \"tls\": explicitHttpProxy: only an HTTP listener can be an explicit HTTP proxy (protocol is TLS)"]),
        ["two chains on a TCP listener"] = (c => ChangeListener(c, 2, l => l with { DefaultFilterChain = new FilterChain { Cluster = "static" } }),
            ["listener \"tcp\": filterChains: a TCP listener uses a single filter chain (only TLS listeners choose one by SNI); keep one"]),
        ["chain with route table and cluster"] = (c => ChangeListener(c, 0, l => l with { DefaultFilterChain = l.DefaultFilterChain! with { Cluster = CnnHttp } }),
        [
            "listener \"http\": defaultFilterChain: sets both routeTable and cluster; set one",
            "listener \"http\": defaultFilterChain.cluster: an HTTP listener routes requests with a routeTable; relay bytes to a cluster from a TCP or TLS listener",
        ]),
        ["chain without destination"] = (c => ChangeChain(c, 2, 0, f => f with { Cluster = null }),
            ["listener \"tcp\": filterChains[0]: sets neither routeTable nor cluster; set one"]),
        ["route table behind passthrough"] = (c => ChangeChain(c, 1, 0, f => f with { Cluster = null, RouteTable = "http.8080" }),
            ["listener \"tls\": filterChains[0].routeTable: HTTP cannot be routed inside TLS that is passed through; terminate it with tls, or send the connection to a cluster"]),
        ["route table on a TCP listener"] = (c => ChangeChain(c, 2, 0, f => f with { Cluster = null, RouteTable = "http.8080" }),
            ["listener \"tcp\": filterChains[0].routeTable: a TCP listener relays bytes to a cluster; route HTTP on an HTTP listener"]),
        ["TLS on an HTTP listener"] = (c => ChangeListener(c, 0, l => l with { DefaultFilterChain = l.DefaultFilterChain! with { Tls = new DownstreamTls { Mode = TlsMode.IstioMutual } } }),
            ["listener \"http\": defaultFilterChain.tls: an HTTP listener reads plaintext; terminate TLS on a TLS listener"]),
        ["server names on an HTTP listener"] = (c => ChangeListener(c, 0, l => l with { DefaultFilterChain = null, FilterChains = [new FilterChain { ServerNames = ["edition.cnn.com"], RouteTable = "http.8080" }] }),
            ["listener \"http\": filterChains[0].serverNames: only a TLS listener matches server names (protocol is HTTP)"]),
        ["server names on a default chain"] = (c => ChangeListener(c, 1, l => l with { DefaultFilterChain = l.DefaultFilterChain! with { ServerNames = ["*"] } }),
            ["listener \"tls\": defaultFilterChain.serverNames: the default chain takes connections no server name matched; remove serverNames"]),
        ["server name twice"] = (c => ChangeChain(c, 1, 1, f => f with { ServerNames = ["EDITION.cnn.com"] }),
            ["listener \"tls\": filterChains[1].serverNames[0]: \"EDITION.cnn.com\" is already matched by filterChains[0]"]),
        ["invalid server name"] = (c => ChangeChain(c, 1, 1, f => f with { ServerNames = ["cnn.*"] }),
            ["listener \"tls\": filterChains[1].serverNames[0]: host \"cnn.*\" is not valid: a wildcard is allowed only as the whole first label, as in *.example.com"]),
        ["two chains for any server name"] = (c => ChangeChain(ChangeChain(c, 1, 0, f => f with { ServerNames = [] }), 1, 1, f => f with { ServerNames = [] }),
            ["listener \"tls\": filterChains[1].serverNames: matches every server name, as filterChains[0] does; give it serverNames, or make it the defaultFilterChain"]),
        ["SIMPLE without certificate"] = (c => ChangeChain(c, 1, 1, f => f with { Tls = new DownstreamTls { Mode = TlsMode.Simple } }),
            ["listener \"tls\": filterChains[1].tls.certificateSecret: required for mode SIMPLE (the certificate the proxy presents)"]),
        ["MUTUAL without CA"] = (c => ChangeChain(c, 1, 1, f => f with { Tls = new DownstreamTls { Mode = TlsMode.Mutual, CertificateSecret = Secret.Default } }),
            ["listener \"tls\": filterChains[1].tls.caSecret: required for mode MUTUAL (the CA that verifies client certificates)"]),

        // Route tables.
        ["all weights zero"] = (c => ChangeRoute(c, 0, 0, r => r with { Forward = r.Forward! with { Clusters = [new WeightedCluster { Name = CnnHttp, Weight = 0 }, new WeightedCluster { Name = GatewayCnn, Weight = 0 }] } }),
            [$"{Routes}: virtualHosts[0].routes[0].forward.clusters: every weight is 0, so no cluster would get a request; give at least one a weight above 0"]),
        ["negative weight"] = (c => ChangeRoute(c, 0, 0, r => r with { Forward = r.Forward! with { Clusters = r.Forward.Clusters.With(1, w => w with { Weight = -1 }) } }),
            [$"{Routes}: virtualHosts[0].routes[0].forward.clusters[1].weight: -1 is not a weight; use 0 or more"]),
        ["no clusters"] = (c => ChangeRoute(c, 0, 3, r => r with { Forward = new ForwardAction() }),
            [$"{Routes}: virtualHosts[0].routes[3].forward.clusters: at least one cluster is required"]),
        ["domain twice"] = (c => ChangeHost(c, 1, h => h with { Domains = ["*", "Edition.CNN.com"] }),
            [$"{Routes}: virtualHosts[1].domains[1]: \"Edition.CNN.com\" is already a domain of virtual host \"edition.cnn.com:80\"; a domain may appear once in a route table"]),
        ["domain with a bad port"] = (c => ChangeHost(c, 1, h => h with { Domains = ["*", "edition.cnn.com:http"] }),
            [$"{Routes}: virtualHosts[1].domains[1]: \"edition.cnn.com:http\" has an invalid port; write host:port with a port from 1 to 65535"]),
        ["virtual host without domains"] = (c => ChangeHost(c, 1, h => h with { Domains = [] }),
            [$"{Routes}: virtualHosts[1].domains: at least one domain is required (\"*\" takes every host)"]),
        ["route without action"] = (c => ChangeRoute(c, 0, 3, r => r with { Forward = null }),
            [$"{Routes}: virtualHosts[0].routes[3]: sets none of forward, directResponse and redirect; set one"]),
        ["route with two actions"] = (c => ChangeRoute(c, 0, 2, r => r with { Forward = new ForwardAction { Clusters = [new WeightedCluster { Name = CnnHttp }] } }),
            [$"{Routes}: virtualHosts[0].routes[2]: sets more than one of forward, directResponse and redirect; set one"]),
        ["invalid regex"] = (c => ChangeRoute(c, 0, 1, r => r with { Match = new RouteMatch { Regex = "/old/(" } }),
            [$"{Routes}: virtualHosts[0].routes[1].match.regex: \"/old/(\" is not a valid regular expression: Not enough )'s at offset 6"]),
        ["regex beyond RE2"] = (c => ChangeRoute(c, 0, 1, r => r with { Match = new RouteMatch { Regex = "/(?!admin).*" } }),
            [$"{Routes}: virtualHosts[0].routes[1].match.regex: \"/(?!admin).*\" uses the negative look-ahead (?!, which RE2 (the regex engine of Istio and Envoy) does not support; see https://github.com/google/re2/wiki/Syntax"]),
        ["exact and prefix"] = (c => ChangeRoute(c, 0, 2, r => r with { Match = new RouteMatch { Exact = "/health", Prefix = "/" } }),
            [$"{Routes}: virtualHosts[0].routes[2].match: sets more than one of exact, prefix and regex; set one"]),
        ["prefix without slash"] = (c => ChangeRoute(c, 0, 0, r => r with { Match = r.Match! with { Prefix = "api" } }),
            [$"{Routes}: virtualHosts[0].routes[0].match.prefix: \"api\" must start with /"]),
        ["header with two conditions"] = (c => ChangeRoute(c, 0, 0, r => r with { Match = r.Match! with { Headers = [new HeaderMatch { Name = "x-canary", Exact = "true", Present = true }] } }),
            [$"{Routes}: virtualHosts[0].routes[0].match.headers[0]: sets more than one of exact, prefix, regex and present; set one"]),
        ["header without condition"] = (c => ChangeRoute(c, 0, 0, r => r with { Match = r.Match! with { Headers = [new HeaderMatch { Name = "" }] } }),
        [
            $"{Routes}: virtualHosts[0].routes[0].match.headers[0].name: must not be empty",
            $"{Routes}: virtualHosts[0].routes[0].match.headers[0]: sets none of exact, prefix, regex and present; set one",
        ]),
        ["redirect status"] = (c => ChangeRoute(c, 0, 1, r => r with { Redirect = r.Redirect! with { Status = 200 } }),
            [$"{Routes}: virtualHosts[0].routes[1].redirect.status: 200 is not a redirect status; use 301, 302, 303, 307 or 308"]),
        ["redirect scheme and port"] = (c => ChangeRoute(c, 0, 1, r => r with { Redirect = r.Redirect! with { Scheme = "ftp", Port = 0 } }),
        [
            $"{Routes}: virtualHosts[0].routes[1].redirect.scheme: \"ftp\" is not http or https",
            $"{Routes}: virtualHosts[0].routes[1].redirect.port: 0 is not a port (1-65535)",
        ]),
        ["direct response status"] = (c => ChangeRoute(c, 0, 2, r => r with { DirectResponse = new DirectResponseAction { Status = 99 } }),
            [$"{Routes}: virtualHosts[0].routes[2].directResponse.status: 99 is not a status for a direct response (200-599)"]),
        ["retry status code"] = (c => ChangeRoute(c, 0, 0, r => r with { Forward = r.Forward! with { Retries = RetryPolicy.IstioDefault with { RetriableStatusCodes = [503, 600] } } }),
            [$"{Routes}: virtualHosts[0].routes[0].forward.retries.retriableStatusCodes[1]: 600 is not an HTTP status code (100-599)"]),
        ["retries without conditions"] = (c => ChangeRoute(c, 0, 0, r => r with { Forward = r.Forward! with { Retries = new RetryPolicy { Attempts = 3 } } }),
            [$"{Routes}: virtualHosts[0].routes[0].forward.retries: attempts are set but nothing to retry on; add retryOn or retriableStatusCodes"]),
        ["negative timeout"] = (c => ChangeRoute(c, 0, 0, r => r with { Forward = r.Forward! with { Timeout = TimeSpan.FromSeconds(-1) } }),
            [$"{Routes}: virtualHosts[0].routes[0].forward.timeout: must not be negative"]),

        // Clusters.
        ["endpoint port out of range"] = (c => ChangeCluster(c, 0, k => k with { Endpoints = [new Endpoint { Address = "edition.cnn.com", Port = 0 }] }),
            ["cluster \"outbound|80||edition.cnn.com\": endpoints[0].port: 0 is not a port (1-65535)"]),
        ["endpoint weight zero"] = (c => ChangeCluster(c, 0, k => k with { Endpoints = [new Endpoint { Address = "edition.cnn.com", Port = 80, Weight = 0 }] }),
            ["cluster \"outbound|80||edition.cnn.com\": endpoints[0].weight: 0 is not a weight; use 1 or more"]),
        ["STATIC with a host name"] = (c => ChangeCluster(c, 3, k => k with { Endpoints = [new Endpoint { Address = "localhost", Port = 9000 }] }),
            ["cluster \"static\": endpoints[0].address: \"localhost\" is not an IP address; a STATIC cluster needs IP addresses (use STRICT_DNS or LOGICAL_DNS for host names)"]),
        ["STRICT_DNS without endpoints"] = (c => ChangeCluster(c, 1, k => k with { Endpoints = [] }),
            ["cluster \"outbound|443||edition.cnn.com\": endpoints: a STRICT_DNS cluster needs at least one endpoint to resolve"]),
        ["STRICT_DNS with a wildcard"] = (c => ChangeCluster(c, 1, k => k with { Endpoints = [new Endpoint { Address = "*.cnn.com", Port = 443 }] }),
            ["cluster \"outbound|443||edition.cnn.com\": endpoints[0].address: host \"*.cnn.com\" has a wildcard, which cannot be resolved with DNS"]),
        ["LOGICAL_DNS with two endpoints"] = (c => ChangeCluster(c, 0, k => k with { Discovery = ClusterDiscovery.LogicalDns, Endpoints = [.. k.Endpoints, new Endpoint { Address = "cnn.com", Port = 80 }] }),
            ["cluster \"outbound|80||edition.cnn.com\": endpoints: a LOGICAL_DNS cluster has exactly one endpoint, not 2; use STRICT_DNS for several"]),
        ["ORIGINAL_DST with endpoints"] = (c => ChangeCluster(c, 5, k => k with { Endpoints = [new Endpoint { Address = "10.0.0.2", Port = 80 }] }),
            ["cluster \"PassthroughCluster\": endpoints: an ORIGINAL_DST cluster has no endpoints; each connection goes to its original destination"]),
        ["BlackHoleCluster with endpoints"] = (c => ChangeCluster(c, 4, k => k with { Endpoints = [new Endpoint { Address = "10.0.0.2", Port = 80 }] }),
            ["cluster \"BlackHoleCluster\": BlackHoleCluster must be STATIC with no endpoints; it drops what it is sent"]),
        ["PassthroughCluster not ORIGINAL_DST"] = (c => ChangeCluster(c, 5, k => k with { Discovery = ClusterDiscovery.Eds }),
            ["cluster \"PassthroughCluster\": discovery: PassthroughCluster must be ORIGINAL_DST; it forwards to each connection's original destination"]),
        ["zero connect timeout"] = (c => ChangeCluster(c, 0, k => k with { ConnectTimeout = TimeSpan.Zero }),
            ["cluster \"outbound|80||edition.cnn.com\": connectTimeout: must be more than 0"]),
        ["zero pending connects"] = (c => ChangeCluster(c, 0, k => k with { MaxPendingConnects = 0 }),
            ["cluster \"outbound|80||edition.cnn.com\": maxPendingConnects: must be at least 1"]),
        ["MUTUAL origination without certificate"] = (c => ChangeCluster(c, 2, k => k with { Tls = new UpstreamTls { Mode = TlsMode.Mutual, CaSecret = Secret.RootCa } }),
            [$"{Gw}: tls.certificateSecret: required for mode MUTUAL (the client certificate to present)"]),
        ["invalid SNI"] = (c => ChangeCluster(c, 2, k => k with { Tls = k.Tls! with { Sni = "edition cnn" } }),
            [$"{Gw}: tls.sni: host \"edition cnn\" is not a valid DNS name: each dot-separated label needs 1-63 letters, digits or '-', not starting or ending with '-'"]),

        // Secrets.
        ["certificate without key"] = (c => c with { Secrets = c.Secrets.With(0, s => s with { PrivateKey = null }) },
        [
            "secret \"default\": privateKey: required with certificateChain",
            $"{Gw}: tls: mode ISTIO_MUTUAL uses secret \"default\", which holds no certificateChain and privateKey",
            "listener \"tls\": filterChains[1].tls: mode ISTIO_MUTUAL uses secret \"default\", which holds no certificateChain and privateKey",
        ]),
        ["empty secret"] = (c => c with { Secrets = [.. c.Secrets, new Secret { Name = "spare" }] },
            ["secret \"spare\": holds none of certificateChain, privateKey and trustedCa"]),
        ["secret not PEM"] = (c => c with { Secrets = c.Secrets.With(1, s => s with { TrustedCa = "MIIB" }) },
            ["secret \"ROOTCA\": trustedCa: expected PEM text starting with \"-----BEGIN \" (RFC 7468)"]),
    };

    public static TheoryData<string> CaseNames => new(Cases.Keys);

    [Fact]
    public void Validate_GatewaySnapshot_NoErrors()
    {
        Assert.Empty(ProxyConfigValidator.Validate(Gateway()));
    }

    [Fact]
    public void Validate_IstioMutualWithoutTheWorkloadSecrets_NoErrors()
    {
        // "default" and "ROOTCA" are the proxy's own certificate and the mesh root, which its identity agent supplies
        // (Envoy's SDS): a snapshot from the control plane never carries them.
        var config = Gateway();
        Assert.Empty(ProxyConfigValidator.Validate(config with { Secrets = [.. config.Secrets.Where(s => s.Name is not (Secret.Default or Secret.RootCa))] }));
    }

    [Fact]
    public void Validate_EmptySnapshot_NoErrors()
    {
        Assert.Empty(ProxyConfigValidator.Validate(new ProxyConfig { Version = "0" }));
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Validate_InconsistentSnapshot_NamesObjectAndField(string name)
    {
        var (change, expected) = Cases[name];

        var errors = ProxyConfigValidator.Validate(change(Gateway()));

        Assert.Equal(expected, errors);
    }

    [Fact]
    public void Validate_SeveralProblems_ReportsAllInBuildOrder()
    {
        var config = Gateway() with { Version = "" };
        config = ChangeListener(config, 2, l => l with { Port = 0 });
        config = ChangeCluster(config, 3, k => k with { Endpoints = [new Endpoint { Address = "127.0.0.1", Port = 0 }] });
        config = ChangeHost(config, 1, h => h with { Domains = [] });
        config = config with { Secrets = config.Secrets.With(1, s => s with { TrustedCa = "x" }) };

        Assert.Equal(
        [
            "proxy config: version: must not be empty",
            "secret \"ROOTCA\": trustedCa: expected PEM text starting with \"-----BEGIN \" (RFC 7468)",
            "cluster \"static\": endpoints[0].port: 0 is not a port (1-65535)",
            $"{Routes}: virtualHosts[1].domains: at least one domain is required (\"*\" takes every host)",
            "listener \"tcp\": port: 0 is not a port (1-65535)",
        ], ProxyConfigValidator.Validate(config));
    }

    private static ProxyConfig ChangeListener(ProxyConfig c, int index, Func<Listener, Listener> change) =>
        c with { Listeners = c.Listeners.With(index, change) };

    private static ProxyConfig ChangeChain(ProxyConfig c, int listener, int chain, Func<FilterChain, FilterChain> change) =>
        ChangeListener(c, listener, l => l with { FilterChains = l.FilterChains.With(chain, change) });

    private static ProxyConfig ChangeCluster(ProxyConfig c, int index, Func<Cluster, Cluster> change) =>
        c with { Clusters = c.Clusters.With(index, change) };

    private static ProxyConfig ChangeHost(ProxyConfig c, int host, Func<VirtualHost, VirtualHost> change) =>
        c with { RouteTables = c.RouteTables.With(0, t => t with { VirtualHosts = t.VirtualHosts.With(host, change) }) };

    private static ProxyConfig ChangeRoute(ProxyConfig c, int host, int route, Func<Route, Route> change) =>
        ChangeHost(c, host, h => h with { Routes = h.Routes.With(route, change) });
}

using Meshgate.Core.ProxyConfiguration;

namespace Meshgate.Tests.Capture;

/// <summary>
/// Sidecar snapshots written by hand in the contract's shapes (capture listener <c>virtualOutbound</c>, virtual
/// listeners <c>0.0.0.0_&lt;port&gt;</c>, route table <c>&lt;port&gt;</c> with <c>allow_any</c>/<c>block_all</c>), so the
/// proxy is tested on what the translator will emit.
/// </summary>
internal static class SidecarSnapshots
{
    /// <summary>
    /// An explicit-mode sidecar: 127.0.0.1:<paramref name="capturePort"/>; HTTP virtual listener on
    /// <paramref name="httpPort"/> (host <paramref name="httpHost"/> → STATIC <paramref name="httpUpstream"/>); TLS virtual
    /// listener on <paramref name="tlsPort"/> (SNI <paramref name="tlsHost"/> → STATIC <paramref name="tlsUpstream"/>);
    /// <paramref name="fallback"/> (PassthroughCluster or BlackHoleCluster) everywhere else. <paramref name="egress"/>
    /// allows the tests' origins to PassthroughCluster, which the egress guard refuses on loopback and 10.x by default.
    /// </summary>
    public static ProxyConfig Sidecar(
        int capturePort, string fallback, int httpPort, string httpHost, string httpUpstream, int tlsPort, string tlsHost, string tlsUpstream,
        string? accessLog = null, bool transparent = false, string captureAddress = "127.0.0.1", EgressSettings? egress = null)
    {
        var httpCluster = $"outbound|{httpPort}||{httpHost}";
        var tlsCluster = $"outbound|{tlsPort}||{tlsHost}";
        var catchAll = fallback == Cluster.Passthrough ? "allow_any" : "block_all";
        return new ProxyConfig
        {
            Version = "1",
            AccessLog = accessLog is null ? null : new AccessLogSettings { Path = accessLog },
            Egress = egress,
            Clusters =
            [
                Static(httpCluster, httpUpstream),
                Static(tlsCluster, tlsUpstream),
                Cluster.BlackHoleCluster,
                Cluster.PassthroughCluster,
            ],
            RouteTables =
            [
                new RouteTable
                {
                    Name = httpPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    VirtualHosts =
                    [
                        new VirtualHost
                        {
                            Name = $"{httpHost}:{httpPort}",
                            Domains = [httpHost, $"{httpHost}:{httpPort}"],
                            Routes = [new Route { Name = "default", Forward = new ForwardAction { Clusters = [new WeightedCluster { Name = httpCluster }] } }],
                        },
                        new VirtualHost
                        {
                            Name = catchAll,
                            Domains = ["*"],
                            Routes = [new Route { Name = catchAll, Forward = new ForwardAction { Clusters = [new WeightedCluster { Name = fallback }] } }],
                        },
                    ],
                },
            ],
            Listeners =
            [
                new Listener
                {
                    Name = "virtualOutbound",
                    Address = captureAddress,
                    Port = capturePort,
                    Protocol = transparent ? ListenerProtocol.Tcp : ListenerProtocol.Http,
                    ExplicitHttpProxy = !transparent,
                    UseOriginalDestination = transparent,
                    DefaultFilterChain = new FilterChain { Cluster = fallback },
                },
                new Listener
                {
                    Name = $"0.0.0.0_{httpPort}",
                    Address = "0.0.0.0",
                    Port = httpPort,
                    Protocol = ListenerProtocol.Http,
                    BindToPort = false,
                    FilterChains = [new FilterChain { RouteTable = httpPort.ToString(System.Globalization.CultureInfo.InvariantCulture) }],
                },
                new Listener
                {
                    Name = $"0.0.0.0_{tlsPort}",
                    Address = "0.0.0.0",
                    Port = tlsPort,
                    Protocol = ListenerProtocol.Tls,
                    BindToPort = false,
                    FilterChains = [new FilterChain { Name = tlsHost, ServerNames = [tlsHost], Cluster = tlsCluster }],
                    DefaultFilterChain = new FilterChain { Cluster = fallback },
                },
            ],
        };
    }

    private static Cluster Static(string name, string endpoint)
    {
        var colon = endpoint.LastIndexOf(':');
        return new Cluster
        {
            Name = name,
            Discovery = ClusterDiscovery.Static,
            Endpoints = [new Endpoint { Address = endpoint[..colon], Port = int.Parse(endpoint[(colon + 1)..], System.Globalization.CultureInfo.InvariantCulture) }],
        };
    }
}

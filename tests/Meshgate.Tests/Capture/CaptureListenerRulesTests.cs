using Meshgate.Core.ProxyConfiguration;
using Meshgate.Tests.ProxyConfiguration;
using Xunit;

namespace Meshgate.Tests.Capture;

/// <summary>The validator's rules for capture and virtual listeners, each case with its complete list of errors.</summary>
public class CaptureListenerRulesTests
{
    private static readonly Dictionary<string, (Func<ProxyConfig, ProxyConfig> Change, string[] Errors)> Cases = new()
    {
        ["virtual listener shares a bound port"] = (c => c with { Listeners = [.. c.Listeners, new Listener { Name = "bound80", Address = "0.0.0.0", Port = 80, Protocol = ListenerProtocol.Http, FilterChains = [new FilterChain { RouteTable = "80" }] }] }, []),
        ["two virtual listeners on one port"] = (c => Change(c, 2, l => l with { Port = 80, Protocol = ListenerProtocol.Tcp, FilterChains = [new FilterChain { Cluster = Cluster.Passthrough }], DefaultFilterChain = null }),
            ["listener \"0.0.0.0_443\": port: 0.0.0.0:80 is already the address of virtual listener \"0.0.0.0_80\""]),
        ["virtual listener on an exact address"] = (c => Change(c, 1, l => l with { Name = "10.0.0.9_80", Address = "10.0.0.9" }), []),
        ["capture listener not bound"] = (c => Change(c, 0, l => l with { BindToPort = false }),
        [
            "listener \"virtualOutbound\": bindToPort: a capture listener (explicitHttpProxy) must bind its port; set bindToPort: true",
            "listener \"0.0.0.0_80\": bindToPort: a virtual listener (bindToPort: false) gets traffic only from a capture listener, and the snapshot has none; add a listener with explicitHttpProxy or useOriginalDestination, or set bindToPort: true",
            "listener \"0.0.0.0_443\": bindToPort: a virtual listener (bindToPort: false) gets traffic only from a capture listener, and the snapshot has none; add a listener with explicitHttpProxy or useOriginalDestination, or set bindToPort: true",
        ]),
        ["original destination on a virtual listener"] = (c => Change(c, 1, l => l with { Protocol = ListenerProtocol.Tcp, UseOriginalDestination = true, FilterChains = [], DefaultFilterChain = new FilterChain { Cluster = Cluster.Passthrough } }),
            ["listener \"0.0.0.0_80\": bindToPort: a capture listener (useOriginalDestination) must bind its port; set bindToPort: true"]),
        ["original destination on an HTTP listener"] = (c => Change(c, 0, l => l with { ExplicitHttpProxy = false, UseOriginalDestination = true }),
        [
            "listener \"virtualOutbound\": useOriginalDestination: only a TCP listener captures connections by their original destination (protocol is HTTP)",
            "listener \"virtualOutbound\": defaultFilterChain.cluster: an HTTP listener routes requests with a routeTable; relay bytes to a cluster from a TCP or TLS listener",
        ]),
        ["both capture modes"] = (c => Change(c, 0, l => l with { UseOriginalDestination = true }),
        [
            "listener \"virtualOutbound\": useOriginalDestination: only a TCP listener captures connections by their original destination (protocol is HTTP)",
            "listener \"virtualOutbound\": useOriginalDestination: a capture listener is either an explicit HTTP proxy or transparent (useOriginalDestination); set one",
        ]),
        ["no capture listener"] = (c => c with { Listeners = [c.Listeners[1]] },
            ["listener \"0.0.0.0_80\": bindToPort: a virtual listener (bindToPort: false) gets traffic only from a capture listener, and the snapshot has none; add a listener with explicitHttpProxy or useOriginalDestination, or set bindToPort: true"]),
        ["capture default chain with a route table"] = (c => Change(c, 0, l => l with { DefaultFilterChain = new FilterChain { RouteTable = "80" } }),
            ["listener \"virtualOutbound\": defaultFilterChain: a capture listener's default chain sets only cluster (PassthroughCluster, BlackHoleCluster or another cluster) for destinations without a virtual listener"]),
        ["capture default chain to a missing cluster"] = (c => Change(c, 0, l => l with { DefaultFilterChain = new FilterChain { Cluster = "PasthroughCluster" } }),
            ["listener \"virtualOutbound\": defaultFilterChain.cluster: cluster \"PasthroughCluster\" is not defined; did you mean \"PassthroughCluster\"?"]),
        ["capture default chain to any cluster"] = (c => Change(c, 0, l => l with { DefaultFilterChain = new FilterChain { Cluster = "outbound|80||edition.cnn.com" } }), []),
        ["capture listener without default chain"] = (c => Change(c, 0, l => l with { DefaultFilterChain = null }), []),
        ["capture listener with filter chains"] = (c => Change(c, 0, l => l with { FilterChains = [new FilterChain { RouteTable = "80" }] }),
            ["listener \"virtualOutbound\": filterChains: a capture listener hands connections to the virtual listener of their destination; put the cluster for other destinations in defaultFilterChain.cluster"]),
        ["EDS with a host name"] = (c => c with { Clusters = c.Clusters.With(0, k => k with { Discovery = ClusterDiscovery.Eds, Endpoints = [new Endpoint { Address = "gateway.local", Port = 8080 }] }) },
            ["cluster \"outbound|80||edition.cnn.com\": endpoints[0].address: \"gateway.local\" is not an IP address; a EDS cluster needs IP addresses (use STRICT_DNS or LOGICAL_DNS for host names)"]),
    };

    public static TheoryData<string> CaseNames => new(Cases.Keys);

    [Fact]
    public void Validate_SidecarSnapshots_NoErrors()
    {
        Assert.Empty(ProxyConfigValidator.Validate(Sidecar()));
        Assert.Empty(ProxyConfigValidator.Validate(SidecarSnapshots.Sidecar(15001, Cluster.BlackHole, 80, "edition.cnn.com", "10.0.0.1:80", 443, "edition.cnn.com", "10.0.0.1:443", transparent: true, captureAddress: "0.0.0.0")));
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Validate_CaptureAndVirtualListeners_NamesObjectAndField(string name)
    {
        var (change, expected) = Cases[name];

        Assert.Equal(expected, ProxyConfigValidator.Validate(change(Sidecar())));
    }

    [Fact]
    public void Load_BindToPort_DefaultsToTrueAndReadsFalse()
    {
        const string Yaml = """
            version: "1"
            clusters: [{name: PassthroughCluster, discovery: ORIGINAL_DST}]
            listeners:
            - {name: virtualOutbound, address: 127.0.0.1, port: 15001, protocol: HTTP, explicitHttpProxy: true, defaultFilterChain: {cluster: PassthroughCluster}}
            - {name: 0.0.0.0_3306, address: 0.0.0.0, port: 3306, protocol: TCP, bindToPort: false, filterChains: [{cluster: PassthroughCluster}]}
            """;

        var loaded = ProxyConfigLoader.Load(Yaml, "sidecar.yaml");

        Assert.Empty(loaded.Errors);
        Assert.True(loaded.Config!.Listeners[0].BindToPort);
        Assert.False(loaded.Config.Listeners[1].BindToPort);
    }

    [Fact]
    public void Load_SidecarSample_Consistent()
    {
        var path = Path.Combine(TestPaths.RepositoryRoot, "samples", "proxy", "sidecar.yaml");

        var loaded = ProxyConfigLoader.Load(File.ReadAllText(path), path);

        Assert.Empty(loaded.Errors);
        Assert.Equal(2, loaded.Config!.Listeners.Count(l => !l.BindToPort));
    }

    private static ProxyConfig Sidecar() =>
        SidecarSnapshots.Sidecar(15001, Cluster.Passthrough, 80, "edition.cnn.com", "10.0.0.1:80", 443, "edition.cnn.com", "10.0.0.1:443");

    private static ProxyConfig Change(ProxyConfig c, int index, Func<Listener, Listener> change) =>
        c with { Listeners = c.Listeners.With(index, change) };
}

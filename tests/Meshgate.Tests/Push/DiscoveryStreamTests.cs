using System.Collections.Immutable;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Meshgate.ControlPlane;
using Meshgate.Core.ProxyConfiguration;
using Meshgate.Core.Resources;
using Meshgate.Core.Translation;
using Meshgate.Tests.EndToEnd;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;
using static Meshgate.Tests.Push.ProxyUnderTest;

namespace Meshgate.Tests.Push;

/// <summary>
/// The discovery stream over real gRPC: an in-process control plane whose snapshots the test writes (each proxy gets
/// a TCP listener on a port the test picks), and real <c>meshgate proxy</c> processes following it.
/// </summary>
public sealed class DiscoveryStreamTests : IAsyncLifetime
{
    private readonly string _data = Directory.CreateTempSubdirectory("meshgate-push-").FullName;
    private ImmutableDictionary<string, int> _ports = ImmutableDictionary<string, int>.Empty;
    private ControlPlaneServer _server = null!;

    public async Task InitializeAsync()
    {
        _server = ControlPlaneServer.Create(
            new ControlPlaneOptions { DataDirectory = _data, ApiEndpoint = new IPEndPoint(IPAddress.Loopback, 0), UnauthenticatedPlaintextApiForTests = true, DiscoveryEndpoint = new IPEndPoint(IPAddress.Loopback, 0) },
            NullLoggerFactory.Instance, Translate);
        await _server.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        Directory.Delete(_data, recursive: true);
    }

    private int DiscoveryPort => _server.DiscoveryEndPoint.Port;

    /// <summary>Each proxy (by name) listens on the port the test chose for it; 0 means no listener.</summary>
    private ProxyConfig Translate(ResourceSet resources, ProxyNode node, string version)
    {
        var port = _ports.GetValueOrDefault(node.Name);
        return new ProxyConfig
        {
            Version = version,
            Node = new Node { Id = node.Id, Role = node.Role, Namespace = node.Namespace, ServiceAccount = node.ServiceAccount },
            Listeners = port == 0 ? [] :
            [
                new Listener { Name = "tcp", Address = "127.0.0.1", Port = port, Protocol = ListenerProtocol.Tcp, DefaultFilterChain = new FilterChain { Cluster = Cluster.BlackHole } },
            ],
            Clusters = [Cluster.BlackHoleCluster],
        };
    }

    /// <summary>A store change, as an apply makes, so the push loop runs.</summary>
    private async Task ApplyAsync(string ns)
    {
        var (code, _, error) = await CliAsync(_server.ApiAddress, "create", "namespace", ns);
        Assert.True(code == 0, error);
    }

    [Fact]
    public async Task Stream_TwoProxies_RegisteredAsPodsAckedAndFollowAnApply()
    {
        int a1 = MeshgateProcess.FreePort(), b1 = MeshgateProcess.FreePort();
        _ports = _ports.SetItem("gw-a", a1).SetItem("gw-b", b1);
        await using var a = Start(DiscoveryPort, "gw-a", "istio-system", "istio=egressgateway,app=a");
        await using var b = Start(DiscoveryPort, "gw-b", "istio-system", "istio=egressgateway,app=b");

        var syncA = await WaitForSyncAsync(_server.ApiAddress, "gw-a", Synced, () => a.Output);
        var syncB = await WaitForSyncAsync(_server.ApiAddress, "gw-b", Synced, () => b.Output);
        Assert.Equal(200, await ReadyStatusAsync(await StatusPortAsync(a)));
        Assert.True(await AcceptsAsync(a1), a.Output);
        Assert.True(await AcceptsAsync(b1));
        Assert.Equal("gateway", syncA["role"]!.GetValue<string>());
        Assert.Equal("router~127.0.0.1~gw-a.istio-system~istio-system.svc.cluster.local", syncA["proxyId"]!.GetValue<string>());

        // Registered as pods, with the address, the labels and how to reach the admin pages.
        var pod = _server.Store.Current.Get(new ObjectKey(ResourceTypes.Pod, "istio-system", "gw-a"))!.Json;
        Assert.Equal("127.0.0.1", pod["status"]!["podIP"]!.GetValue<string>());
        Assert.Equal("Running", pod["status"]!["phase"]!.GetValue<string>());
        Assert.Equal("gw-a-sa", pod["spec"]!["serviceAccountName"]!.GetValue<string>());
        Assert.Equal("a", pod["metadata"]!["labels"]!["app"]!.GetValue<string>());
        Assert.Equal(syncA["adminPort"]!.GetValue<int>().ToString(System.Globalization.CultureInfo.InvariantCulture),
            pod["metadata"]!["annotations"]!["meshgate.io/admin-port"]!.GetValue<string>());
        var pods = await CliAsync(_server.ApiAddress, "get", "pods", "-n", "istio-system", "-o", "name");
        Assert.Equal("pod/gw-a\npod/gw-b\n", pods.Out);

        // An apply: both proxies get their new snapshot and ACK it.
        int a2 = MeshgateProcess.FreePort(), b2 = MeshgateProcess.FreePort();
        _ports = _ports.SetItem("gw-a", a2).SetItem("gw-b", b2);
        await ApplyAsync("push-1");
        var newA = await WaitForSyncAsync(_server.ApiAddress, "gw-a", p => Synced(p) && p["ackedVersion"]!.GetValue<string>() != syncA["ackedVersion"]!.GetValue<string>(), () => a.Output);
        await WaitForSyncAsync(_server.ApiAddress, "gw-b", p => Synced(p) && p["ackedVersion"]!.GetValue<string>() != syncB["ackedVersion"]!.GetValue<string>(), () => b.Output);
        Assert.True(await AcceptsAsync(a2));
        Assert.True(await AcceptsAsync(b2));
        var dump = await ConfigDumpAsync(newA["adminPort"]!.GetValue<int>());
        Assert.Equal(newA["ackedVersion"]!.GetValue<string>(), dump["version"]!.GetValue<string>());

        // The change went as a delta on the version each proxy ran: only the changed listener crossed the wire.
        Assert.True(newA["sentDelta"]!.GetValue<bool>(), newA.ToJsonString());
        await a.WaitForOutputAsync($"applied version {newA["ackedVersion"]!.GetValue<string>()} as a delta on {syncA["ackedVersion"]!.GetValue<string>()}", Deadline);
        Assert.Equal(a2, dump["listeners"]![0]!["port"]!.GetValue<int>());
        await WaitUntilAsync(async () => !await AcceptsAsync(a1), $"the old listener on {a1} closes");

        var status = await CliAsync(_server.ApiAddress, "proxy-status");
        Assert.Equal(0, status.Code);
        Assert.StartsWith("NAME", status.Out, StringComparison.Ordinal);
        Assert.Contains("gw-a.istio-system", status.Out, StringComparison.Ordinal);
        Assert.Equal(2, status.Out.Split('\n').Count(l => l.Contains("SYNCED", StringComparison.Ordinal)));

        var listeners = await CliAsync(_server.ApiAddress, "pc", "listeners", "gw-a.istio-system");
        Assert.True(listeners.Code == 0, listeners.Error);
        Assert.Contains($"127.0.0.1   {a2}", listeners.Out, StringComparison.Ordinal);
        Assert.Contains("Cluster: BlackHoleCluster", listeners.Out, StringComparison.Ordinal);
        var clusters = await CliAsync(_server.ApiAddress, "proxy-config", "clusters", "gw-b", "-n", "istio-system", "-o", "json");
        Assert.Equal("BlackHoleCluster", JsonNode.Parse(clusters.Out)![0]!["name"]!.GetValue<string>());
    }

    [Fact]
    public async Task Stream_SnapshotWithTakenPort_NackedAndLastGoodKept()
    {
        var good = MeshgateProcess.FreePort();
        _ports = _ports.SetItem("gw-n", good);
        await using var proxy = Start(DiscoveryPort, "gw-n", "istio-system", "istio=egressgateway");
        var synced = await WaitForSyncAsync(_server.ApiAddress, "gw-n", Synced, () => proxy.Output);
        var goodVersion = synced["ackedVersion"]!.GetValue<string>();

        using var squatter = new TcpListener(IPAddress.Loopback, 0);
        squatter.Start();
        _ports = _ports.SetItem("gw-n", ((IPEndPoint)squatter.LocalEndpoint).Port);
        await ApplyAsync("push-2");

        var nacked = await WaitForSyncAsync(_server.ApiAddress, "gw-n", p => p["nackError"] is not null, () => proxy.Output);
        Assert.Contains("address already in use", nacked["nackError"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(goodVersion, nacked["ackedVersion"]!.GetValue<string>());
        var status = await CliAsync(_server.ApiAddress, "proxy-status");
        Assert.Contains("NACK: ", status.Out, StringComparison.Ordinal);
        Assert.Contains(goodVersion, status.Out, StringComparison.Ordinal);
        var dump = await ConfigDumpAsync(nacked["adminPort"]!.GetValue<int>());
        Assert.Equal(goodVersion, dump["version"]!.GetValue<string>());
        Assert.True(await AcceptsAsync(good));
        await proxy.WaitForOutputAsync("NACK version", Deadline);

        // The change came as a delta, which the proxy refused; the control plane then sent it whole, refused too.
        var whole = await WaitForSyncAsync(_server.ApiAddress, "gw-n", p => p["nackError"] is not null && !p["sentDelta"]!.GetValue<bool>(), () => proxy.Output);
        Assert.Equal(nacked["nackedVersion"]!.GetValue<string>(), whole["nackedVersion"]!.GetValue<string>());
        Assert.Equal(goodVersion, whole["ackedVersion"]!.GetValue<string>());
        var refused = $"NACK version {whole["nackedVersion"]!.GetValue<string>()}, keeping {goodVersion}";
        await WaitUntilAsync(() => Task.FromResult(proxy.Output.Split(refused).Length == 3), $"the proxy refuses {whole["nackedVersion"]} twice, as a delta and whole");

        // The next good snapshot clears the NACK.
        var next = MeshgateProcess.FreePort();
        _ports = _ports.SetItem("gw-n", next);
        await ApplyAsync("push-3");
        var recovered = await WaitForSyncAsync(_server.ApiAddress, "gw-n", p => Synced(p) && p["nackError"] is null && p["ackedVersion"]!.GetValue<string>() != goodVersion);
        Assert.True(await AcceptsAsync(next), $"nothing on {next}:\n{proxy.Output}");
        Assert.Contains("SYNCED", (await CliAsync(_server.ApiAddress, "proxy-status")).Out, StringComparison.Ordinal);
        Assert.NotEqual(goodVersion, recovered["ackedVersion"]!.GetValue<string>());
    }

    [Fact]
    public async Task Stream_NamespaceMissing_ProxyToldWhyAndNotReady()
    {
        await using var proxy = Start(DiscoveryPort, "sleep", "nowhere", "app=sleep", role: "sidecar");

        await proxy.WaitForOutputAsync("namespaces \"nowhere\" not found", Deadline);
        Assert.Contains("FailedPrecondition", proxy.Output, StringComparison.Ordinal);
        Assert.Equal(503, await ReadyStatusAsync(await StatusPortAsync(proxy)));
        Assert.Null(_server.Store.Current.Get(new ObjectKey(ResourceTypes.Pod, "nowhere", "sleep")));
    }

    [Fact]
    public async Task ProxyConfig_PodUnknownOrProxyGone_ClearErrors()
    {
        var missing = await CliAsync(_server.ApiAddress, "pc", "clusters", "ghost");
        Assert.Equal(1, missing.Code);
        Assert.Contains("pod \"ghost\" not found in namespace \"default\"", missing.Error, StringComparison.Ordinal);

        _ports = _ports.SetItem("gone", 0);
        var proxy = Start(DiscoveryPort, "gone", "default", "app=gone", role: "sidecar");
        await using (proxy)
        {
            await WaitForSyncAsync(_server.ApiAddress, "gone", Synced, () => proxy.Output);
        }

        await WaitForSyncAsync(_server.ApiAddress, "gone", p => p["connected"]?.GetValue<bool>() == false);
        Assert.Contains("DISCONNECTED", (await CliAsync(_server.ApiAddress, "proxy-status")).Out, StringComparison.Ordinal);
        var unreachable = await CliAsync(_server.ApiAddress, "pc", "listeners", "gone");
        Assert.Equal(1, unreachable.Code);
        Assert.Contains("cannot reach the proxy admin of gone.default", unreachable.Error, StringComparison.Ordinal);
    }
}

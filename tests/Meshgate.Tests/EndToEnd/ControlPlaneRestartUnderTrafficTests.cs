using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using Meshgate.Commands;
using Xunit;

namespace Meshgate.Tests.EndToEnd;

/// <summary>
/// The control-plane issue's last acceptance point, with real processes: a control plane, an egress gateway and a
/// sidecar configured for the seed's HTTP flow; the control plane is killed (SIGKILL) and started again while curl
/// keeps sending through the sidecar and the gateway, and not one request fails. Afterwards a change reaches both
/// proxies and <c>proxy-status</c> shows it.
/// </summary>
public sealed class ControlPlaneRestartUnderTrafficTests : IAsyncLifetime
{
    private const string Origin = "127.0.0.80";
    private const string Workload = "127.0.0.75";

    private readonly string _dir = Directory.CreateTempSubdirectory("meshgate-restart-traffic-").FullName;
    private readonly int _apiPort = MeshgateProcess.FreePort();
    private readonly int _discoveryPort = MeshgateProcess.FreePort();
    private HttpClient? _http;
    private DnsmasqServer? _dns;
    private NginxServer? _nginx;

    /// <summary>The kubeconfig the control plane writes at every start (same port, root and token after a restart).</summary>
    private string Kubeconfig => Path.Combine(_dir, "data", "kubeconfig");

    private HttpClient Api => _http ??= ApiTarget.FromKubeconfig(Kubeconfig).CreateHttpClient(TimeSpan.FromSeconds(10));

    public async Task InitializeAsync()
    {
        ExternalTools.Require("curl");
        _dns = await DnsmasqServer.StartAsync(new Dictionary<string, string> { ["edition.cnn.com"] = Origin });
        _nginx = await NginxServer.StartAsync(_dir, $$"""
                server {
                    listen {{Origin}}:80;
                    location / { return 200 'politics\n'; }
                }
            """, new IPEndPoint(IPAddress.Parse(Origin), 80));
    }

    public async Task DisposeAsync()
    {
        if (_nginx is not null)
        {
            await _nginx.DisposeAsync();
        }

        if (_dns is not null)
        {
            await _dns.DisposeAsync();
        }

        _http?.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private MeshgateProcess StartControlPlane() =>
        MeshgateProcess.Start("controlplane", "--data", Path.Combine(_dir, "data"), "--listen", $"127.0.0.1:{_apiPort}",
            "--discovery-port", _discoveryPort.ToString(CultureInfo.InvariantCulture));

    private MeshgateProcess StartProxy(string role, string name, string ns, string labels, string serviceAccount) =>
        MeshgateProcess.Start(
            "proxy", "--discovery-address", $"127.0.0.1:{_discoveryPort}", "--ca-root-file", Path.Combine(_dir, "data", "ca", "root-cert.pem"), "--role", role, "--name", name, "--namespace", ns,
            "--labels", labels, "--service-account", serviceAccount, "--ip", Workload, "--admin-port", "0", "--status-port", "0",
            "--dns-server", _dns!.Endpoint.ToString());

    [Fact]
    public async Task ControlPlaneKilledAndRestartedUnderTraffic_NoRequestFails_ThenAChangeReachesEveryProxy()
    {
        var controlPlane = StartControlPlane();
        await controlPlane.WaitForOutputAsync("control plane ready", TimeSpan.FromSeconds(60));
        await ApplyAsync("""
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: istio, namespace: istio-system}
            data:
              mesh: |-
                accessLogFile: /dev/stdout
                meshgate:
                  egress:
                    allowedCidrs: [127.0.0.80/32]
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: istio-egressgateway, namespace: istio-system, labels: {istio: egressgateway}}
            spec:
              selector: {istio: egressgateway}
              ports:
              - {name: http2, port: 80, targetPort: 8080}
            """);
        foreach (var step in new[] { "http-serviceentry.yaml", "http-istio-gateway-destinationrule.yaml", "http-istio-virtualservice.yaml" })
        {
            await ApplyAsync(await File.ReadAllTextAsync(Path.Combine(TestPaths.TestData, "Seed", step)));
        }

        await using var gateway = StartProxy("gateway", "istio-egressgateway-1", "istio-system", "istio=egressgateway,app=istio-egressgateway", "istio-egressgateway-service-account");
        await using var sidecar = StartProxy("sidecar", "sleep-1", "default", "app=sleep", "sleep");
        await WaitSyncedAsync(() => controlPlane.Output + gateway.Output + sidecar.Output);
        Assert.Equal("politics\n200", await RequestAsync());
        await gateway.AccessLogLineAsync("outbound|80||edition.cnn.com");

        // Traffic from here on: sequential requests until told to stop (bounded: at most 2,000, at most 90 s).
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var results = new List<string>();
        var traffic = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested && results.Count < 2000)
            {
                var result = await RequestAsync();
                lock (results)
                {
                    results.Add(result);
                }
            }
        });

        int Sent()
        {
            lock (results)
            {
                return results.Count;
            }
        }

        await WaitUntilAsync(() => Sent() >= 10, "traffic before the kill");
        await controlPlane.KillAsync();
        await controlPlane.DisposeAsync();
        var atKill = Sent();
        await sidecar.WaitForOutputAsync("discovery: disconnected", TimeSpan.FromSeconds(30));
        await WaitUntilAsync(() => Sent() >= atKill + 20, "traffic while the control plane is gone");

        await using var restarted = StartControlPlane();
        await restarted.WaitForOutputAsync("control plane ready", TimeSpan.FromSeconds(60));
        await WaitSyncedAsync(() => restarted.Output + gateway.Output + sidecar.Output);
        var atResync = Sent();
        await WaitUntilAsync(() => Sent() >= atResync + 10, "traffic after the resync");
        await stop.CancelAsync();
        await traffic;

        List<string> all;
        lock (results)
        {
            all = [.. results];
        }

        var failed = all.Where(r => r != "politics\n200").ToList();
        Assert.True(failed.Count == 0, $"{failed.Count} of {all.Count} requests failed, e.g. {failed.FirstOrDefault()}");
        Assert.True(all.Count >= 40, $"only {all.Count} requests were sent");

        // A change reaches every proxy, and proxy-status says so.
        var before = await SynczAsync();
        await ApplyAsync("""
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata: {name: one-more}
            spec:
              hosts: [one-more.example.com]
              ports: [{number: 80, name: http, protocol: HTTP}]
              resolution: DNS
            """);
        await WaitSyncedAsync(() => restarted.Output);
        var after = await SynczAsync();
        foreach (var name in new[] { "istio-egressgateway-1", "sleep-1" })
        {
            Assert.NotEqual(Version(before, name), Version(after, name));
        }

        var (code, status) = await MeshgateProcess.RunAsync("", "proxy-status", "--kubeconfig", Kubeconfig);
        Assert.Equal(0, code);
        foreach (var name in new[] { "istio-egressgateway-1.istio-system", "sleep-1.default" })
        {
            var row = status.Split('\n').Single(l => l.StartsWith(name, StringComparison.Ordinal));
            Assert.Contains("SYNCED", row, StringComparison.Ordinal);
            Assert.Contains(Version(after, name.Split('.')[0]), row, StringComparison.Ordinal);
        }
    }

    private async Task<string> RequestAsync()
    {
        var (code, output) = await Curl.RunAsync("-sS", "-w", "%{http_code}", "-x", $"http://{Workload}:15001", "http://edition.cnn.com/politics");
        return code == 0 ? output : $"curl exit {code}: {output}";
    }

    private async Task ApplyAsync(string yaml)
    {
        var (code, output) = await MeshgateProcess.RunAsync(yaml, "apply", "-f", "-", "--kubeconfig", Kubeconfig);
        Assert.True(code == 0, output);
    }

    private Task<JsonArray> SynczAsync() => Syncz.ReadAsync(Api);

    private static string Version(JsonArray statuses, string name) =>
        statuses.Single(s => s!["name"]!.GetValue<string>() == name)!["ackedVersion"]!.GetValue<string>();

    /// <summary>Both proxies connected and running the store's current revision.</summary>
    private Task WaitSyncedAsync(Func<string> context) => Syncz.WaitAsync(Api, proxies: 2, context);

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var deadline = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(60), $"timed out waiting for {what}");
            await Task.Delay(20);
        }
    }
}

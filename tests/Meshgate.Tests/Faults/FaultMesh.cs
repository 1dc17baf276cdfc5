using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using Meshgate.Commands;
using Meshgate.Tests.EndToEnd;
using Xunit;

namespace Meshgate.Tests.Faults;

/// <summary>
/// The two-hop egress path as separate real processes, so a fault can hit one of them: <c>meshgate controlplane</c>,
/// an egress gateway and a sidecar (<c>meshgate proxy</c>, explicit mode) on <see cref="Workload"/>, nginx standing in
/// for edition.cnn.com on <see cref="Origin"/>, and dnsmasq resolving it (TTL 1 s). Configured as the seed's HTTP flow
/// (sidecar → gateway → origin); each test class uses its own addresses so classes run side by side.
/// </summary>
internal sealed class FaultMesh : IAsyncDisposable
{
    public const string Body = "politics\n";

    private readonly int _apiPort = MeshgateProcess.FreePort();
    private readonly int _discoveryPort = MeshgateProcess.FreePort();
    private HttpClient? _http;
    private NginxServer? _nginx;

    private FaultMesh(string workload, string origin, string? dataDirectory)
    {
        Workload = workload;
        Origin = origin;
        DataDirectory = dataDirectory ?? Path.Combine(Directory, "data");
    }

    public string Directory { get; } = System.IO.Directory.CreateTempSubdirectory("meshgate-faults-").FullName;

    public string Workload { get; }

    public string Origin { get; }

    /// <summary><c>DATA/kubeconfig</c>, which the control plane writes at start: the API's address, the mesh root and the admin token.</summary>
    public string Kubeconfig => Path.Combine(DataDirectory, "kubeconfig");

    /// <summary>The control plane's data directory (store, CA).</summary>
    public string DataDirectory { get; }

    public DnsmasqServer Dns { get; private set; } = null!;

    public MeshgateProcess ControlPlane { get; private set; } = null!;

    public MeshgateProcess Gateway { get; private set; } = null!;

    public MeshgateProcess Sidecar { get; private set; } = null!;

    /// <summary>A client of the resource API made from <see cref="Kubeconfig"/> (once the control plane has written it).</summary>
    public HttpClient Http => _http ??= ApiTarget.FromKubeconfig(Kubeconfig).CreateHttpClient(TimeSpan.FromSeconds(10));

    /// <summary>Everything that ran, for failure messages.</summary>
    public string Output => $"--- control plane\n{ControlPlane?.Output}\n--- gateway\n{Gateway?.Output}\n--- sidecar\n{Sidecar?.Output}";

    /// <summary>
    /// Starts the origin, DNS, the control plane (its data in <paramref name="dataDirectory"/>, else the test's
    /// folder), applies the seed's HTTP flow and starts both proxies, then waits until a request goes through.
    /// <paramref name="allowedCidrs"/> are the origins' addresses (the egress guard refuses loopback by default).
    /// </summary>
    public static async Task<FaultMesh> StartAsync(string workload, string origin, string allowedCidrs, string? dataDirectory = null)
    {
        ExternalTools.Require("curl");
        var mesh = new FaultMesh(workload, origin, dataDirectory);
        try
        {
            mesh.Dns = await DnsmasqServer.StartAsync(new Dictionary<string, string> { ["edition.cnn.com"] = origin });
            await mesh.StartOriginAsync();
            mesh.ControlPlane = mesh.StartControlPlane();
            await mesh.ControlPlane.WaitForOutputAsync("control plane ready", TimeSpan.FromSeconds(60));
            await mesh.ApplyAsync($$$"""
                apiVersion: v1
                kind: ConfigMap
                metadata: {name: istio, namespace: istio-system}
                data:
                  mesh: |-
                    accessLogFile: /dev/stdout
                    meshgate:
                      egress:
                        allowedCidrs: "{{{allowedCidrs}}}"
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
                await mesh.ApplyAsync(await File.ReadAllTextAsync(Path.Combine(TestPaths.TestData, "Seed", step)));
            }

            mesh.Gateway = mesh.StartGateway();
            mesh.Sidecar = mesh.StartProxy("sidecar", "sleep-1", "default", "app=sleep", "sleep");
            await mesh.WaitSyncedAsync();
            await mesh.WaitUntilAsync(async () => (await mesh.RequestAsync()).Ok, "the first request through both proxies");
            return mesh;
        }
        catch
        {
            await mesh.DisposeAsync();
            throw;
        }
    }

    public MeshgateProcess StartControlPlane() =>
        MeshgateProcess.Start("controlplane", "--data", DataDirectory, "--listen", $"127.0.0.1:{_apiPort}",
            "--discovery-port", _discoveryPort.ToString(CultureInfo.InvariantCulture));

    /// <summary>Replaces <see cref="ControlPlane"/> with a new process (after a kill), and waits until it serves.</summary>
    public async Task RestartControlPlaneAsync()
    {
        await ControlPlane.DisposeAsync();
        ControlPlane = StartControlPlane();
        await ControlPlane.WaitForOutputAsync("control plane ready", TimeSpan.FromSeconds(60));
    }

    public MeshgateProcess StartGateway() =>
        StartProxy("gateway", "istio-egressgateway-1", "istio-system", "istio=egressgateway,app=istio-egressgateway", "istio-egressgateway-service-account");

    /// <summary>Replaces <see cref="Gateway"/> with a new process of the same name (after a kill).</summary>
    public async Task RestartGatewayAsync()
    {
        await Gateway.DisposeAsync();
        Gateway = StartGateway();
        await Gateway.WaitForOutputAsync("discovery: applied version", TimeSpan.FromSeconds(60));
    }

    private MeshgateProcess StartProxy(string role, string name, string ns, string labels, string serviceAccount) =>
        MeshgateProcess.Start(
            "proxy", "--discovery-address", $"127.0.0.1:{_discoveryPort}", "--ca-root-file", Path.Combine(DataDirectory, "ca", "root-cert.pem"),
            "--role", role, "--name", name, "--namespace", ns, "--labels", labels, "--service-account", serviceAccount,
            "--ip", Workload, "--admin-port", "0", "--status-port", "0", "--dns-server", Dns.Endpoint.ToString());

    /// <summary>Starts nginx on <paramref name="address"/> (default <see cref="Origin"/>) answering 200 <paramref name="body"/>.</summary>
    public async Task StartOriginAsync(string? address = null, string body = Body)
    {
        address ??= Origin;
        var dir = Path.Combine(Directory, "nginx-" + address);
        System.IO.Directory.CreateDirectory(dir);
        var server = await NginxServer.StartAsync(dir, $$"""
                server {
                    listen {{address}}:80;
                    location / { return 200 '{{body.Replace("\n", "\\n", StringComparison.Ordinal)}}'; }
                }
            """, new IPEndPoint(IPAddress.Parse(address), 80));
        if (address == Origin)
        {
            _nginx = server;
        }
        else
        {
            _others.Add(server);
        }
    }

    private readonly List<NginxServer> _others = [];

    /// <summary>Stops the origin's nginx (master and workers): its port refuses connections from now on.</summary>
    public async Task StopOriginAsync()
    {
        if (_nginx is not null)
        {
            await _nginx.DisposeAsync();
            _nginx = null;
        }
    }

    /// <summary><c>meshgate apply -f -</c>; asserts it succeeded.</summary>
    public async Task ApplyAsync(string yaml)
    {
        var (code, output) = await MeshgateProcess.RunAsync(yaml, "apply", "-f", "-", "--kubeconfig", Kubeconfig);
        Assert.True(code == 0, $"apply exited {code}: {output}");
    }

    /// <summary>Both proxies connected and running the store's current revision.</summary>
    public Task WaitSyncedAsync() => Syncz.WaitAsync(Http, proxies: 2, () => Output);

    /// <summary>One request from the workload through its sidecar (explicit proxy), bounded by curl's --max-time 10.</summary>
    public async Task<RequestResult> RequestAsync(string path = "/politics")
    {
        var started = Stopwatch.GetTimestamp();
        var (code, output) = await Curl.RunAsync("--max-time", "10", "-sS", "-w", "\n%{http_code}", "-x", $"http://{Workload}:15001", "http://edition.cnn.com" + path);
        var ended = Stopwatch.GetTimestamp();
        var status = 0;
        var body = output;
        if (code == 0)
        {
            var cut = output.LastIndexOf('\n');
            status = int.Parse(output[(cut + 1)..], CultureInfo.InvariantCulture);
            body = output[..cut];
        }

        return new RequestResult(started, ended, code, status, body);
    }

    /// <summary>Polls <paramref name="condition"/> until it holds (60 s deadline).</summary>
    public async Task WaitUntilAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(deadline.Elapsed < (timeout ?? TimeSpan.FromSeconds(60)), $"timed out waiting for {what}\n{Output}");
            await Task.Delay(50);
        }
    }

    /// <summary>The store's objects of one kind in one namespace, through the Kubernetes API (404: none).</summary>
    public async Task<int> CountAsync(string groupVersionPath, string ns, string plural)
    {
        using var response = await Http.GetAsync($"/{groupVersionPath}/namespaces/{ns}/{plural}");
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return 0;
        }

        response.EnsureSuccessStatusCode();
        var list = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        return list["items"]!.AsArray().Count;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var process in new[] { Sidecar, Gateway, ControlPlane })
        {
            if (process is not null)
            {
                await process.DisposeAsync();
            }
        }

        await StopOriginAsync();
        foreach (var other in _others)
        {
            await other.DisposeAsync();
        }

        if (Dns is not null)
        {
            await Dns.DisposeAsync();
        }

        _http?.Dispose();
        System.IO.Directory.Delete(Directory, recursive: true);
    }
}

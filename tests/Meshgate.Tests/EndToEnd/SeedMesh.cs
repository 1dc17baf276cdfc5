using Meshgate.Commands;
using Xunit;

namespace Meshgate.Tests.EndToEnd;

/// <summary>
/// The setting of the control-plane issue's acceptance tests: a real <c>meshgate up</c> (control plane, egress gateway,
/// sidecar for <c>sleep</c> in explicit mode, all on <see cref="ProxyAddress"/>), a real nginx standing in for
/// <c>edition.cnn.com</c> on <see cref="Origin"/> (HTTP 301 to https, HTTPS 200 with a certificate from a throwaway CA),
/// and a real dnsmasq that the proxies resolve with.
/// </summary>
public class SeedMesh : IAsyncLifetime
{
    public const string Origin = "127.0.0.81";
    public const string ProxyAddress = "127.0.0.72";
    public const string OtherHost = "other.example.test";

    /// <summary>The Istio-API steps of "Egress Gateways with TLS Origination" (TestData/IstioDocs), in the page's order.</summary>
    public static readonly string[] TlsOriginationPage =
    [
        "egress-gateway-tls-origination--perform_tls_origination_with_an_egress_gateway_1.yaml",
        "egress-gateway-tls-origination--perform_tls_origination_with_an_egress_gateway_3.yaml",
        "egress-gateway-tls-origination--perform_tls_origination_with_an_egress_gateway_5.yaml",
        "egress-gateway-tls-origination--perform_tls_origination_with_an_egress_gateway_7.yaml",
    ];

    private readonly string[] _upArguments;

    public SeedMesh()
        : this(Origin, ProxyAddress, [])
    {
    }

    /// <summary>Another mesh beside the default one: its own stand-in and proxy addresses, and more <c>up</c> options.</summary>
    protected SeedMesh(string origin, string proxy, string[] upArguments)
    {
        OriginAddress = origin;
        ProxyIp = proxy;
        _upArguments = upArguments;
    }

    /// <summary>Where the stand-in for edition.cnn.com listens.</summary>
    public string OriginAddress { get; }

    /// <summary>
    /// The stand-ins' loopback addresses, which the egress guard refuses by default (docs/egress-safety.md): allowed
    /// as a user allows a range, <c>up --set values.meshgate.egress.allowedCidrs=...</c>. The stand-in for
    /// edition.cnn.com and the origins that tests point other names at (<c>Dns.SetAsync</c>).
    /// </summary>
    public string AllowedCidrs => $"{OriginAddress},127.0.0.83,127.0.0.84";

    /// <summary>The mesh config's egress section with <see cref="AllowedCidrs"/>, for tests that write the whole mesh config again.</summary>
    public string EgressMeshConfig => $"meshgate:\n  egress:\n    allowedCidrs: \"{AllowedCidrs}\"";

    /// <summary>The proxies' pod IP: the sidecar on 15001, the gateway on 8080 and 8443.</summary>
    public string ProxyIp { get; }

    private readonly string _dir = Directory.CreateTempSubdirectory("meshgate-seed-mesh-").FullName;
    private readonly int _apiPort = MeshgateProcess.FreePort();
    private HttpClient? _http;
    private CnnOrigin? _origin;
    private MeshgateProcess? _up;

    /// <summary><c>DATA/kubeconfig</c>, which <c>up</c> writes: the API's address, the mesh root and the admin token.</summary>
    public string Kubeconfig => Path.Combine(DataDirectory, "kubeconfig");

    /// <summary>A client of the resource API made from <see cref="Kubeconfig"/>.</summary>
    private HttpClient Api => _http ??= ApiTarget.FromKubeconfig(Kubeconfig).CreateHttpClient(TimeSpan.FromSeconds(30));

    /// <summary>The control plane's data directory (store, <c>ca/</c>, tokens, logs).</summary>
    public string DataDirectory => Path.Combine(_dir, "data");

    public MeshgateProcess Up => _up!;

    public string CaPath => _origin!.CaPath;

    /// <summary>The resolver the proxies use; tests point more names at their own servers.</summary>
    internal DnsmasqServer Dns => _origin!.Dns;

    public virtual async Task InitializeAsync()
    {
        try
        {
            ExternalTools.Require("curl");
            _origin = await CnnOrigin.StartAsync(_dir, OriginAddress, "<html><body>politics</body></html>", http2: true,
                otherHosts: new Dictionary<string, string> { [OtherHost] = "other\\n" });
            // The proxies trust the stand-in's throwaway CA as the system's roots (OpenSSL's SSL_CERT_FILE, which .NET
            // reads), so that TLS origination to "edition.cnn.com" verifies as it would against the real site.
            _up = MeshgateProcess.Start(
                new Dictionary<string, string> { ["SSL_CERT_FILE"] = _origin.CaPath },
                [
                    "up", "--data", Path.Combine(_dir, "data"), "--listen", $"127.0.0.1:{_apiPort}", "--discovery-port", "0",
                    "--proxy-address", ProxyIp, "--dns-server", _origin.Dns.Endpoint.ToString(),
                    "--set", "values.meshgate.egress.allowedCidrs=" + AllowedCidrs, .. _upArguments,
                ]);
            await _up.WaitForOutputAsync("meshgate up: ready", TimeSpan.FromSeconds(90));
        }
        catch
        {
            await DisposeAsync();
            throw;
        }
    }

    public virtual async Task DisposeAsync()
    {
        if (_up is not null)
        {
            await _up.TerminateAsync(TimeSpan.FromSeconds(30));
            await _up.DisposeAsync();
            _up = null;
        }

        if (_origin is not null)
        {
            await _origin.DisposeAsync();
            _origin = null;
        }

        _http?.Dispose();
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    /// <summary>Runs the real CLI against this mesh and asserts it succeeded.</summary>
    public async Task<string> CliAsync(params string[] args) => await CliWithStdinAsync("", args);

    public async Task<string> CliWithStdinAsync(string stdin, params string[] args)
    {
        var (code, output) = await MeshgateProcess.RunAsync(stdin, [.. args, "--kubeconfig", Kubeconfig]);
        Assert.True(code == 0, $"meshgate {string.Join(' ', args)} exited {code}:\n{output}");
        return output;
    }

    /// <summary><c>meshgate apply -f</c> a seed file, then waits until every proxy runs the result.</summary>
    public async Task<string> ApplySeedAsync(string file)
    {
        var output = await CliAsync("apply", "-f", Path.Combine(TestPaths.TestData, "Seed", file));
        await WaitSyncedAsync();
        return output;
    }

    /// <summary>Waits until both proxies run the store's current revision.</summary>
    public Task WaitSyncedAsync() => Syncz.WaitAsync(Api, proxies: 2, () => Up.Output);

    /// <summary>curl from the sleep workload: through its sidecar (explicit proxy), trusting the origin's CA.</summary>
    public async Task<(int Code, string Output)> CurlAsync(params string[] args) =>
        await Curl.RunAsync(["--suppress-connect-headers", "-x", $"http://{ProxyIp}:15001", "--cacert", CaPath, .. args]);

    /// <summary>The access-log lines (those starting with <c>[</c>) of the pods a selector picks, via <c>meshgate logs</c>.</summary>
    public async Task<IReadOnlyList<string>> AccessLogAsync(string selector, string ns)
    {
        var output = await CliAsync("logs", "-l", selector, "-n", ns, "-c", "istio-proxy", "--tail", "100000");
        return output.Split('\n').Where(l => l.StartsWith('[')).ToList();
    }

    /// <summary>Polls the pods' log until a line containing <paramref name="text"/> appears beyond the first <paramref name="skip"/> lines.</summary>
    public async Task<string> AccessLogLineAsync(string selector, string ns, string text, int skip = 0)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (true)
        {
            var lines = await AccessLogAsync(selector, ns);
            if (lines.Skip(skip).FirstOrDefault(l => l.Contains(text, StringComparison.Ordinal)) is { } line)
            {
                return line;
            }

            Assert.True(DateTime.UtcNow < deadline, $"no access-log line with {text} for {selector} in {ns}:\n{string.Join('\n', lines)}");
            await Task.Delay(100);
        }
    }
}

/// <summary>The one default <see cref="SeedMesh"/>, shared by the classes that use its fixed addresses, one class at a time.</summary>
[CollectionDefinition(Name)]
public sealed class SeedMeshCollection : ICollectionFixture<SeedMesh>
{
    public const string Name = "seed mesh";
}

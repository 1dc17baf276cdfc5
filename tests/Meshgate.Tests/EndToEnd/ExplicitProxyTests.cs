using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Meshgate.Core.ProxyConfiguration;
using Meshgate.Tests.Capture;
using Xunit;

namespace Meshgate.Tests.EndToEnd;

/// <summary>
/// The sidecar's explicit proxy (15001 in <c>meshgate up</c>) as a real process with real curl <c>-x</c> and a real
/// nginx: absolute-form HTTP routed by the virtual listener of port 80, CONNECT tunnels passed through by SNI to the
/// listener of 443, unknown destinations to PassthroughCluster or BlackHoleCluster, and a request aimed back at the
/// proxy refused instead of looping. Snapshots are written by hand in the contract's shapes.
/// </summary>
public sealed class ExplicitProxyTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("meshgate-explicit-").FullName;
    private readonly int _nginxHttp = MeshgateProcess.FreePort();
    private readonly int _nginxTls = MeshgateProcess.FreePort();
    private readonly int _allowProxy = MeshgateProcess.FreePort();
    private readonly int _blockProxy = MeshgateProcess.FreePort();
    private readonly IPAddress _otherHost = IPAddress.Parse($"127.0.0.{Random.Shared.Next(100, 250)}");
    private ThrowawayCa _ca = null!;
    private NginxServer _nginx = null!;
    private MeshgateProcess _allow = null!;
    private MeshgateProcess _block = null!;

    // xunit does not call DisposeAsync when InitializeAsync throws: clean up here then, or nginx outlives the run.
    public async Task InitializeAsync()
    {
        try
        {
            await StartAsync();
        }
        catch
        {
            await DisposeAsync();
            throw;
        }
    }

    private async Task StartAsync()
    {
        _ca = new ThrowawayCa(_dir);
        var (certificate, key) = _ca.IssueServer("edition.cnn.com", _dir);
        _nginx = await NginxServer.StartAsync(_dir, $$"""
                server { listen 127.0.0.1:{{_nginxHttp}}; location / { return 200 "nginx http $host $request_uri\n"; } }
                server { listen {{_otherHost}}:80; location / { return 200 "other host $host\n"; } }
                server {
                    listen 127.0.0.1:{{_nginxTls}} ssl;
                    ssl_certificate {{certificate}};
                    ssl_certificate_key {{key}};
                    location / { return 200 "nginx tls $ssl_server_name\n"; }
                }
            """, new IPEndPoint(IPAddress.Loopback, _nginxHttp), new IPEndPoint(IPAddress.Loopback, _nginxTls), new IPEndPoint(_otherHost, 80));
        _allow = await StartProxyAsync("allow", _allowProxy, Cluster.Passthrough);
        _block = await StartProxyAsync("block", _blockProxy, Cluster.BlackHole);
    }

    public async Task DisposeAsync()
    {
        if (_allow is not null)
        {
            await _allow.DisposeAsync();
        }

        if (_block is not null)
        {
            await _block.DisposeAsync();
        }

        if (_nginx is not null)
        {
            await _nginx.DisposeAsync();
        }

        _ca?.Dispose();
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    [Fact]
    public async Task AbsoluteForm_KnownHost_RoutedByPort80ListenerAndLogged()
    {
        var (code, output) = await Curl.RunAsync("-sS", "-x", $"http://127.0.0.1:{_allowProxy}", "http://edition.cnn.com/politics");

        Assert.Equal(0, code);
        Assert.Equal("nginx http edition.cnn.com /politics\n", output);
        var line = await _allow.AccessLogLineAsync("\"GET /politics HTTP/1.1\"");
        Assert.Contains("\"GET /politics HTTP/1.1\" 200 - via_upstream", line, StringComparison.Ordinal);
        Assert.Contains($"\"edition.cnn.com\" \"127.0.0.1:{_nginxHttp}\" outbound|80||edition.cnn.com ", line, StringComparison.Ordinal);
        Assert.EndsWith(" - default", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Connect_TlsHost_PassedThroughBySniWithCertificateOfOrigin()
    {
        var (code, output) = await Curl.RunAsync("-sS", "--cacert", _ca.CertificatePath, "-x", $"http://127.0.0.1:{_allowProxy}", "https://edition.cnn.com/");

        Assert.True(code == 0, $"curl exited {code}: {output}\nproxy:\n{_allow.Output}");
        Assert.Equal("nginx tls edition.cnn.com\n", output);
        var line = await _allow.AccessLogLineAsync("outbound|443||edition.cnn.com");
        Assert.StartsWith("[", line, StringComparison.Ordinal);
        Assert.Contains("\"- - -\" 0 - - - \"-\"", line, StringComparison.Ordinal);
        Assert.Contains($"\"127.0.0.1:{_nginxTls}\" outbound|443||edition.cnn.com ", line, StringComparison.Ordinal);
        Assert.EndsWith(" edition.cnn.com -", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Connect_ToPort80_TunnelledRequestsRoutedByThePort80Listener()
    {
        var (code, output) = await Curl.RunAsync("-sS", "-p", "-x", $"http://127.0.0.1:{_allowProxy}", "http://edition.cnn.com/tunnelled");

        Assert.True(code == 0 && output == "nginx http edition.cnn.com /tunnelled\n", $"curl exited {code}: {output}\nproxy:\n{_allow.Output}");
        var line = await _allow.AccessLogLineAsync("\"GET /tunnelled HTTP/1.1\"");
        Assert.Contains($"\"edition.cnn.com\" \"127.0.0.1:{_nginxHttp}\" outbound|80||edition.cnn.com ", line, StringComparison.Ordinal);
        Assert.EndsWith(" - default", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HttpsProxyEnvironment_CurlTunnelsThroughTheSidecar()
    {
        var (code, output) = await RunAsync("env", $"HTTPS_PROXY=http://127.0.0.1:{_allowProxy}", "curl", "--max-time", "30", "-sS", "--cacert", _ca.CertificatePath, "https://edition.cnn.com/env");

        Assert.True(code == 0, output);
        Assert.Equal("nginx tls edition.cnn.com\n", output);
    }

    [Fact]
    public async Task AbsoluteForm_UnknownHostOnPort80_AllowAnyPassthrough()
    {
        var (code, output) = await Curl.RunAsync("-sS", "-x", $"http://127.0.0.1:{_allowProxy}", $"http://{_otherHost}/x");

        Assert.Equal(0, code);
        Assert.Equal($"other host {_otherHost}\n", output);
        var line = await _allow.AccessLogLineAsync($"\"{_otherHost}\"");
        Assert.Contains($"\"{_otherHost}:80\" PassthroughCluster ", line, StringComparison.Ordinal);
        Assert.EndsWith(" - allow_any", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AbsoluteForm_PortWithoutListener_CaptureDefaultCluster()
    {
        var allowed = await Curl.RunAsync("-sS", "-x", $"http://127.0.0.1:{_allowProxy}", $"http://127.0.0.1:{_nginxHttp}/direct");
        var blocked = await Curl.RunAsync("-sS", "-o", "/dev/null", "-w", "%{http_code}", "-x", $"http://127.0.0.1:{_blockProxy}", $"http://127.0.0.1:{_nginxHttp}/direct");

        Assert.Equal((0, $"nginx http 127.0.0.1 /direct\n"), allowed);
        Assert.Equal((0, "502"), blocked);
        Assert.Contains($"\"127.0.0.1:{_nginxHttp}\" PassthroughCluster ", await _allow.AccessLogLineAsync("/direct"), StringComparison.Ordinal);
        Assert.Contains("\"GET /direct HTTP/1.1\" 502 - direct_response", await _block.AccessLogLineAsync("/direct"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RegistryOnly_UnknownHosts_BlockAll502AndClosedTunnel()
    {
        var http = await Curl.RunAsync("-sS", "-o", "/dev/null", "-w", "%{http_code}", "-x", $"http://127.0.0.1:{_blockProxy}", $"http://{_otherHost}/blocked");
        var tls = await Curl.RunAsync("-sS", "-k", "-x", $"http://127.0.0.1:{_blockProxy}", "https://unknown.example/");

        Assert.Equal((0, "502"), http);
        Assert.NotEqual(0, tls.Code); // closed during the handshake, as Istio's REGISTRY_ONLY does (curl exit 35)
        var blocked = await _block.AccessLogLineAsync("/blocked");
        Assert.Contains(" BlackHoleCluster ", blocked, StringComparison.Ordinal);
        Assert.EndsWith(" - block_all", blocked, StringComparison.Ordinal);
        var closed = await _block.AccessLogLineAsync("unknown.example");
        Assert.Contains("\"- - -\" 0 UH ", closed, StringComparison.Ordinal);
        Assert.Contains(" BlackHoleCluster ", closed, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Passthrough_ToTheProxyItself_LoopDetected()
    {
        var http = await Curl.RunAsync("-sS", "-o", "/dev/null", "-w", "%{http_code}", "-x", $"http://127.0.0.1:{_allowProxy}", $"http://127.0.0.1:{_allowProxy}/loop");
        var tunnel = await Curl.RunAsync("-sS", "-p", "-x", $"http://127.0.0.1:{_allowProxy}", $"telnet://127.0.0.1:{_allowProxy}");

        Assert.Equal((0, "508"), http);
        Assert.Contains("\"GET /loop HTTP/1.1\" 508 UH upstream_loop_detected", await _allow.AccessLogLineAsync("/loop"), StringComparison.Ordinal);
        Assert.NotEqual(0, tunnel.Code);
        var line = await _allow.AccessLogLineAsync("\"- - -\" 0 UH upstream_loop_detected");
        Assert.Contains($"\"127.0.0.1:{_allowProxy}\" PassthroughCluster ", line, StringComparison.Ordinal);
        Assert.Null(_allow.ExitCode);
    }

    [Theory]
    [InlineData("CONNECT edition.cnn.com HTTP/1.1")]
    [InlineData("CONNECT edition.cnn.com:0 HTTP/1.1")]
    [InlineData("CONNECT edition.cnn.com:99999 HTTP/1.1")]
    [InlineData("CONNECT :443 HTTP/1.1")]
    [InlineData("CONNECT [::1:443 HTTP/1.1")]
    [InlineData("CONNECT edition/cnn.com:443 HTTP/1.1")]
    [InlineData("CONNECT edition.cnn.com:443")]
    [InlineData("CONNECT edition.cnn.com:443 HTTP/2.0")]
    [InlineData("CONNECT http://edition.cnn.com:443/ HTTP/1.1")]
    public async Task Connect_MalformedTarget_400AndLogged(string requestLine)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, _allowProxy);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(requestLine + "\r\nHost: x\r\n\r\n"));
        using var reader = new StreamReader(stream, Encoding.ASCII);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));

        var status = await reader.ReadLineAsync(timeout.Token);

        Assert.Equal("HTTP/1.1 400 Bad Request", status);
        Assert.Contains("\"CONNECT - HTTP/1.1\" 400 DPE http1.invalid_url", await _allow.AccessLogLineAsync("http1.invalid_url"), StringComparison.Ordinal);
        var (code, _) = await Curl.RunAsync("-sS", "-x", $"http://127.0.0.1:{_allowProxy}", "http://edition.cnn.com/still-up");
        Assert.Equal(0, code);
    }

    private async Task<MeshgateProcess> StartProxyAsync(string name, int port, string fallback)
    {
        // The origins PassthroughCluster reaches are on loopback, which the egress guard refuses unless allowed.
        var config = SidecarSnapshots.Sidecar(port, fallback, 80, "edition.cnn.com", $"127.0.0.1:{_nginxHttp}", 443, "edition.cnn.com", $"127.0.0.1:{_nginxTls}", AccessLogSettings.Stdout,
            egress: new EgressSettings { AllowedCidrs = ["127.0.0.1", _otherHost.ToString()] });
        var path = Path.Combine(_dir, name + ".json");
        await File.WriteAllTextAsync(path, ProxyConfigLoader.ToJson(config));
        var proxy = MeshgateProcess.Start("proxy", "--role", "sidecar", "--config", path, "--admin-port", "0", "--status-port", "0");
        await proxy.WaitForOutputAsync("meshgate proxy: ready", TimeSpan.FromSeconds(60));
        return proxy;
    }

    private static async Task<(int Code, string Output)> RunAsync(string executable, params string[] args)
    {
        var info = new ProcessStartInfo(executable) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await output + (process.ExitCode == 0 ? "" : await error));
    }
}

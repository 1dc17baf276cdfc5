using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Meshgate.Proxy.Upstream;
using Xunit;

namespace Meshgate.Tests.EndToEnd;

/// <summary>
/// Egress safety on by default (docs/egress-safety.md), with a real <c>meshgate proxy</c>, real curl and openssl and a
/// real nginx on loopback: absolute-form requests, CONNECT tunnels and TLS passthrough by SNI to an address the proxy
/// resolves or the client names on 127.0.0.x are refused (403 or closed, flag SSRF, one log line, the metric) until the
/// configuration allows the range, which applies live; DNS rebinding after the check is refused; and domain fronting
/// (a request whose Host is not the SNI, a CONNECT whose ClientHello names another host) is refused unless allowed.
/// </summary>
public sealed class EgressSafetyTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("meshgate-egress-safety-").FullName;
    private readonly int _originHttp = MeshgateProcess.FreePort();
    private readonly int _originTls = MeshgateProcess.FreePort();
    private readonly int _capture = MeshgateProcess.FreePort();
    private readonly int _gateway = MeshgateProcess.FreePort();
    private readonly int _admin = MeshgateProcess.FreePort();
    private ThrowawayCa _ca = null!;
    private NginxServer _nginx = null!;
    private MeshgateProcess _proxy = null!;
    private string _config = "";
    private (string Certificate, string Key) _front;

    public async Task InitializeAsync()
    {
        try
        {
            ExternalTools.Require("curl");
            _ca = new ThrowawayCa(_dir);
            var site = _ca.IssueServer("site.test", _dir);
            _front = _ca.IssueServer("front.test", _dir);
            _nginx = await NginxServer.StartAsync(_dir, $$"""
                    server { listen 127.0.0.1:{{_originHttp}}; location / { return 200 "origin http $host $request_uri\n"; } }
                    server {
                        listen 127.0.0.1:{{_originTls}} ssl;
                        ssl_certificate {{site.Certificate}};
                        ssl_certificate_key {{site.Key}};
                        location / { return 200 "origin tls $ssl_server_name\n"; }
                    }
                """, new IPEndPoint(IPAddress.Loopback, _originHttp), new IPEndPoint(IPAddress.Loopback, _originTls));
            var hosts = Path.Combine(_dir, "hosts");
            await File.WriteAllTextAsync(hosts, "127.0.0.1 site.test\n");
            _config = Path.Combine(_dir, "proxy.yaml");
            await File.WriteAllTextAsync(_config, Config("v1", ""));
            _proxy = MeshgateProcess.Start(
                new Dictionary<string, string> { [HostsFile.OverrideVariable] = hosts },
                "proxy", "--role", "sidecar", "--config", _config, "--admin-port", Port(_admin), "--status-port", "0");
            await _proxy.WaitForOutputAsync("meshgate proxy: ready", TimeSpan.FromSeconds(60));
        }
        catch
        {
            await DisposeAsync();
            throw;
        }
    }

    public async Task DisposeAsync()
    {
        if (_proxy is not null)
        {
            await _proxy.DisposeAsync();
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
    public async Task AbsoluteForm_ToLoopback_403WithTheFlagByDefault_ThenAllowedOnceTheRangeIs()
    {
        var blocked = await Curl.RunAsync("-sS", "-w", "\n%{http_code}", "-x", Proxy, $"http://127.0.0.1:{_originHttp}/blocked");

        Assert.Equal((0, "egress destination blocked: loopback address\n403"), blocked);
        var line = await _proxy.AccessLogLineAsync("/blocked");
        Assert.Contains("\"GET /blocked HTTP/1.1\" 403 SSRF egress_destination_blocked{loopback} ", line, StringComparison.Ordinal);
        Assert.Contains($"\"127.0.0.1:{_originHttp}\" PassthroughCluster ", line, StringComparison.Ordinal);
        Assert.Matches("meshgate_egress_blocked_total\\{class=\"loopback\"\\} [1-9]", await MetricsAsync());

        // Literal forms a URL parser takes for 127.0.0.1 are the same address (sent raw: curl would normalise them).
        foreach (var literal in new[] { "2130706433", "0177.0.0.1", "0x7f.1", "127.1", "127.0.0.1." })
        {
            Assert.Equal("HTTP/1.1 403 Forbidden", await RawStatusAsync(_capture, $"GET http://{literal}:{_originHttp}/literal-{literal} HTTP/1.1\r\nHost: {literal}:{_originHttp}\r\n\r\n"));
            Assert.Contains($"403 SSRF egress_destination_blocked{{loopback}}", await _proxy.AccessLogLineAsync($"/literal-{literal} "), StringComparison.Ordinal);
        }

        await AllowLoopbackAsync();

        var allowed = await Curl.RunAsync("-sS", "-x", Proxy, $"http://127.0.0.1:{_originHttp}/allowed");
        Assert.Equal((0, "origin http 127.0.0.1 /allowed\n"), allowed);
        Assert.Contains("\"GET /allowed HTTP/1.1\" 200 - via_upstream ", await _proxy.AccessLogLineAsync("/allowed"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Connect_ToLoopbackWithoutListener_403BeforeTheTunnel_ThenTunnelledOnceAllowed()
    {
        // By name (resolved once, through the hosts file) and by address: no virtual listener on the port, so the tunnel
        // would go to PassthroughCluster whatever it carries, and is refused before it is opened.
        Assert.Equal("HTTP/1.1 403 Forbidden", await RawStatusAsync(_capture, $"CONNECT site.test:{_originHttp} HTTP/1.1\r\nHost: site.test:{_originHttp}\r\n\r\n"));
        var curl = await Curl.RunAsync("-sS", "-p", "-x", Proxy, $"http://127.0.0.1:{_originHttp}/tunnel");
        Assert.Equal(56, curl.Code); // "CONNECT tunnel failed, response 403"
        Assert.Contains("403", curl.Output, StringComparison.Ordinal);
        var line = await _proxy.AccessLogLineAsync($"\"site.test:{_originHttp}\"");
        Assert.Contains("\"CONNECT - HTTP/1.1\" 403 SSRF egress_destination_blocked{loopback} ", line, StringComparison.Ordinal);
        Assert.Contains($"\"127.0.0.1:{_originHttp}\" PassthroughCluster ", line, StringComparison.Ordinal);

        await AllowLoopbackAsync();

        Assert.Equal((0, $"origin http site.test /tunnel\n"), await Curl.RunAsync("-sS", "-p", "-x", Proxy, $"http://site.test:{_originHttp}/tunnel"));
    }

    [Fact]
    public async Task TlsPassthrough_SniDestinationResolvingToLoopback_ClosedAndLogged_ThenRelayedOnceAllowed()
    {
        // The gateway's passthrough chain for site.test goes to a STRICT_DNS cluster the proxy resolves: 127.0.0.1.
        var refused = await Curl.RunAsync("-sS", "--cacert", _ca.CertificatePath, "--resolve", $"site.test:{_gateway}:127.0.0.1", $"https://site.test:{_gateway}/");
        Assert.NotEqual(0, refused.Code);
        var line = await _proxy.AccessLogLineAsync("\"- - -\" 0 SSRF");
        Assert.Contains("\"- - -\" 0 SSRF egress_destination_blocked{loopback} ", line, StringComparison.Ordinal);
        Assert.Contains($"\"127.0.0.1:{_originTls}\" outbound|443||site.test ", line, StringComparison.Ordinal);

        // Through CONNECT, by SNI on the port's TLS virtual listener: the same cluster, closed after the tunnel opened.
        var tunnelled = await Curl.RunAsync("-sS", "--cacert", _ca.CertificatePath, "-x", Proxy, $"https://site.test:{_originTls}/");
        Assert.NotEqual(0, tunnelled.Code);

        await AllowLoopbackAsync();

        Assert.Equal((0, "origin tls site.test\n"), await Curl.RunAsync("-sS", "--cacert", _ca.CertificatePath, "--resolve", $"site.test:{_gateway}:127.0.0.1", $"https://site.test:{_gateway}/"));
        Assert.Equal((0, "origin tls site.test\n"), await Curl.RunAsync("-sS", "--cacert", _ca.CertificatePath, "-x", Proxy, $"https://site.test:{_originTls}/"));
    }

    [Fact]
    public async Task DnsRebinding_PublicStandInThenLoopback_SecondAnswerRefusedAndNeverDialled()
    {
        // A name answers an allowed address first (127.0.0.77 stands for a public one) and a refused one next.
        var originPort = MeshgateProcess.FreePort();
        using var first = new CountingOrigin(IPAddress.Parse("127.0.0.77"), originPort);
        using var second = new CountingOrigin(IPAddress.Loopback, originPort);
        await using var dns = await DnsmasqServer.StartAsync(new Dictionary<string, string> { ["rebind.test"] = "127.0.0.77" });
        var port = MeshgateProcess.FreePort();
        var config = Path.Combine(_dir, "rebind.yaml");
        await File.WriteAllTextAsync(config, $$"""
            version: rebind-1
            accessLog: {path: /dev/stdout}
            egress: {allowedCidrs: [127.0.0.77]}
            listeners:
            - {name: http, address: 127.0.0.1, port: {{port}}, protocol: HTTP, defaultFilterChain: {routeTable: http} }
            routeTables:
            - name: http
              virtualHosts:
              - {name: rebind, domains: ["*"], routes: [{name: rebind, forward: {clusters: [{name: "outbound|80||rebind.test"}], retries: {attempts: 0} } }]}
            clusters:
            - {name: "outbound|80||rebind.test", discovery: STRICT_DNS, endpoints: [{address: rebind.test, port: {{first.Port}} }]}
            """);
        await using var proxy = MeshgateProcess.Start("proxy", "--config", config, "--dns-server", dns.Endpoint.ToString(), "--admin-port", "0", "--status-port", "0");
        await proxy.WaitForOutputAsync("meshgate proxy: ready", TimeSpan.FromSeconds(60));

        Assert.Equal((0, "ok 200"), await Curl.RunAsync("-sS", "-w", " %{http_code}", $"http://127.0.0.1:{port}/first"));
        await dns.SetAsync("rebind.test", "127.0.0.1");

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        string status;
        do
        {
            await Task.Delay(200);
            status = (await Curl.RunAsync("-s", "-o", "/dev/null", "-w", "%{http_code}", $"http://127.0.0.1:{port}/next")).Output;
        }
        while (status == "200" && DateTime.UtcNow < deadline);

        Assert.Equal("403", status);
        var line = await proxy.AccessLogLineAsync("403 SSRF");
        Assert.Contains($"\"GET /next HTTP/1.1\" 403 SSRF egress_destination_blocked{{loopback}} ", line, StringComparison.Ordinal);
        Assert.Contains($"\"127.0.0.1:{first.Port}\" outbound|80||rebind.test ", line, StringComparison.Ordinal);
        Assert.True(first.Accepted > 0);
        Assert.Equal(0, second.Accepted); // the rebinding answer was never dialled
    }

    [Fact]
    public async Task TerminatedTls_HostIsNotTheSni_421_UnlessAllowed()
    {
        var args = new[] { "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", _ca.CertificatePath, "--resolve", $"front.test:{_gateway}:127.0.0.1" };

        Assert.Equal((0, "200"), await Curl.RunAsync([.. args, $"https://front.test:{_gateway}/same"]));
        Assert.Equal((0, "421"), await Curl.RunAsync([.. args, "--http1.1", "-H", "Host: other.test", $"https://front.test:{_gateway}/fronted"]));
        Assert.Equal((0, "421"), await Curl.RunAsync([.. args, "--http2", "-H", "Host: other.test", $"https://front.test:{_gateway}/fronted-h2"]));
        var line = await _proxy.AccessLogLineAsync("/fronted ");
        Assert.Contains("\"GET /fronted HTTP/1.1\" 421 DFB domain_fronting_blocked{sni_host} ", line, StringComparison.Ordinal);
        Assert.Contains("\"other.test\"", line, StringComparison.Ordinal);
        Assert.EndsWith(" front.test -", line, StringComparison.Ordinal);
        Assert.Contains("\"GET /fronted-h2 HTTP/2\" 421 DFB ", await _proxy.AccessLogLineAsync("/fronted-h2 "), StringComparison.Ordinal);
        Assert.Matches("meshgate_domain_fronting_refused_total\\{check=\"sni_host\"\\} [2-9]", await MetricsAsync());

        // A per-host exception lets that host through; the switch lets every host through.
        await RewriteAsync("v2", "egress: {domainFrontingExceptions: [other.test]}");
        Assert.Equal((0, "200"), await Curl.RunAsync([.. args, "-H", "Host: other.test", $"https://front.test:{_gateway}/excepted"]));
        Assert.Equal((0, "421"), await Curl.RunAsync([.. args, "-H", "Host: third.test", $"https://front.test:{_gateway}/third"]));
        await RewriteAsync("v3", "egress: {allowDomainFronting: true}");
        Assert.Equal((0, "200"), await Curl.RunAsync([.. args, "-H", "Host: third.test", $"https://front.test:{_gateway}/third-allowed"]));
    }

    [Fact]
    public async Task Connect_TunnelledClientHelloNamesAnotherHost_ClosedAsDomainFronting_UnlessAllowed()
    {
        ExternalTools.Require("openssl");
        await RewriteAsync("v2", "egress: {allowedCidrs: [127.0.0.1]}");

        // The tunnel is asked for site.test; its ClientHello names front.test.
        var fronted = await OpenSslThroughProxyAsync($"site.test:{_originTls}", "front.test");
        Assert.DoesNotContain("CN = site.test", fronted, StringComparison.Ordinal);
        var line = await _proxy.AccessLogLineAsync("domain_fronting_blocked{connect_sni}");
        Assert.Contains("\"- - -\" 0 DFB domain_fronting_blocked{connect_sni} ", line, StringComparison.Ordinal);
        Assert.EndsWith(" front.test -", line, StringComparison.Ordinal);

        // curl told to connect to another host than the URL's: the tunnel is asked for site.test, TLS names front.test.
        var connectTo = await Curl.RunAsync("-sS", "-k", "-x", Proxy, "--connect-to", $"front.test:{_originTls}:site.test:{_originTls}", $"https://front.test:{_originTls}/");
        Assert.NotEqual(0, connectTo.Code);
        await WaitForAsync(() => _proxy.Output.Split('\n').Count(l => l.Contains("DFB domain_fronting_blocked{connect_sni}", StringComparison.Ordinal)) == 2, "the second refusal's log line");

        // The matching name goes through, and so does the other once exempt.
        Assert.Contains("CN = site.test", await OpenSslThroughProxyAsync($"site.test:{_originTls}", "site.test"), StringComparison.Ordinal);
        await RewriteAsync("v3", "egress: {allowedCidrs: [127.0.0.1], domainFrontingExceptions: [front.test]}");
        Assert.Contains("CN = site.test", await OpenSslThroughProxyAsync($"site.test:{_originTls}", "front.test"), StringComparison.Ordinal);
    }

    private string Proxy => $"http://127.0.0.1:{_capture}";

    private async Task WaitForAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"no {what} in:\n{_proxy.Output}");
            await Task.Delay(50);
        }
    }

    private static string Port(int port) => port.ToString(CultureInfo.InvariantCulture);

    private Task AllowLoopbackAsync() => RewriteAsync("v2", "egress: {allowedCidrs: [127.0.0.0/8]}");

    /// <summary>The configuration file written again (renamed over); returns once the proxy applied it.</summary>
    private async Task RewriteAsync(string version, string egress)
    {
        var next = _config + ".tmp";
        await File.WriteAllTextAsync(next, Config(version, egress));
        File.Move(next, _config, overwrite: true);
        await _proxy.WaitForOutputAsync($"applied version {version}", TimeSpan.FromSeconds(10));
    }

    /// <summary>
    /// An explicit sidecar (capture listener, PassthroughCluster for unknown destinations, a TLS virtual listener on the
    /// TLS origin's port routing site.test by SNI) and a gateway TLS listener: site.test passed through by SNI to a
    /// STRICT_DNS cluster, front.test terminated and routed to a STATIC origin (declared: never checked).
    /// </summary>
    private string Config(string version, string egress) => $$"""
        version: {{version}}
        accessLog: {path: /dev/stdout}
        {{egress}}
        listeners:
        - name: virtualOutbound
          address: 127.0.0.1
          port: {{_capture}}
          protocol: HTTP
          explicitHttpProxy: true
          defaultFilterChain: {cluster: PassthroughCluster}
        - name: 0.0.0.0_{{_originTls}}
          address: 0.0.0.0
          port: {{_originTls}}
          protocol: TLS
          bindToPort: false
          filterChains: [{name: site.test, serverNames: [site.test], cluster: "outbound|{{_originTls}}||site.test"}]
          defaultFilterChain: {cluster: PassthroughCluster}
        - name: gateway
          address: 127.0.0.1
          port: {{_gateway}}
          protocol: TLS
          filterChains:
          - {name: site.test, serverNames: [site.test], cluster: "outbound|443||site.test"}
          - name: front.test
            serverNames: [front.test]
            tls: {mode: SIMPLE, certificateSecret: front-cert}
            routeTable: https
        routeTables:
        - name: https
          virtualHosts:
          - {name: front, domains: ["*"], routes: [{name: to-origin, forward: {clusters: [{name: "outbound|80||origin.test"}]} }]}
        clusters:
        - {name: PassthroughCluster, discovery: ORIGINAL_DST}
        - {name: "outbound|443||site.test", discovery: STRICT_DNS, endpoints: [{address: site.test, port: {{_originTls}} }]}
        - {name: "outbound|{{_originTls}}||site.test", discovery: STRICT_DNS, endpoints: [{address: site.test, port: {{_originTls}} }]}
        - {name: "outbound|80||origin.test", discovery: STATIC, endpoints: [{address: 127.0.0.1, port: {{_originHttp}} }]}
        secrets:
        - name: front-cert
          certificateChain: |
        {{Indent(File.ReadAllText(_front.Certificate))}}
          privateKey: |
        {{Indent(File.ReadAllText(_front.Key))}}
        """;

    private static string Indent(string pem) => string.Join("\n", pem.Trim().Split('\n').Select(l => "    " + l));

    private async Task<string> MetricsAsync() => (await Curl.RunAsync("-sS", $"http://127.0.0.1:{_admin}/stats/prometheus")).Output;

    /// <summary><c>openssl s_client -proxy</c>: a CONNECT to <paramref name="target"/>, then a ClientHello for <paramref name="serverName"/>.</summary>
    private async Task<string> OpenSslThroughProxyAsync(string target, string serverName)
    {
        var info = new ProcessStartInfo("openssl") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (var arg in new[] { "s_client", "-proxy", $"127.0.0.1:{_capture}", "-connect", target, "-servername", serverName, "-CAfile", _ca.CertificatePath })
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        process.StandardInput.Close();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var output = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var error = process.StandardError.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);
        return await output + await error;
    }

    /// <summary>Sends <paramref name="request"/> as it is and returns the response's status line.</summary>
    private static async Task<string?> RawStatusAsync(int port, string request)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, port);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request));
        using var reader = new StreamReader(stream, Encoding.ASCII);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        return await reader.ReadLineAsync(timeout.Token);
    }

    /// <summary>An HTTP origin that answers <c>ok</c> and counts the connections it accepted.</summary>
    private sealed class CountingOrigin : IDisposable
    {
        private static readonly byte[] Response = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"u8.ToArray();
        private readonly TcpListener _listener;
        private readonly CancellationTokenSource _stop = new();
        private int _accepted;

        public CountingOrigin(IPAddress address, int port)
        {
            _listener = new TcpListener(address, port);
            _listener.Start();
            _ = ServeAsync();
        }

        public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

        public int Accepted => Volatile.Read(ref _accepted);

        public void Dispose()
        {
            _stop.Cancel();
            _listener.Stop();
            _stop.Dispose();
        }

        private async Task ServeAsync()
        {
            try
            {
                while (true)
                {
                    var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                    Interlocked.Increment(ref _accepted);
                    _ = AnswerAsync(client);
                }
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
            }
        }

        private static async Task AnswerAsync(TcpClient client)
        {
            using (client)
            {
                try
                {
                    var stream = client.GetStream();
                    var buffer = new byte[4096];
                    var head = new StringBuilder();
                    while (!head.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
                    {
                        var read = await stream.ReadAsync(buffer);
                        if (read == 0)
                        {
                            return;
                        }

                        head.Append(Encoding.ASCII.GetString(buffer, 0, read));
                    }

                    await stream.WriteAsync(Response);
                }
                catch (IOException)
                {
                }
            }
        }
    }
}

using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Xunit;

namespace Meshgate.Tests.EndToEnd;

/// <summary>
/// <c>meshgate proxy --config</c> as a real process between real curl and real origin servers on loopback:
/// HTTP routed by Host, TLS passed through by SNI, one Envoy-format access-log line each.
/// </summary>
public sealed class ProxyStaticConfigTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("meshgate-proxy-").FullName;
    private readonly int _httpPort = MeshgateProcess.FreePort();
    private readonly int _tlsPort = MeshgateProcess.FreePort();
    private readonly TcpListener _httpOrigin = new(IPAddress.Loopback, 0);
    private readonly TcpListener _tlsOrigin = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private MeshgateProcess _proxy = null!;

    public async Task InitializeAsync()
    {
        _httpOrigin.Start();
        _tlsOrigin.Start();
        _ = ServeHttpAsync(_httpOrigin, _stop.Token);
        _ = ServeTlsAsync(_tlsOrigin, _stop.Token);
        var config = Path.Combine(_dir, "proxy.yaml");
        await File.WriteAllTextAsync(config, $$"""
            version: test-1
            accessLog: {path: /dev/stdout, encoding: TEXT}
            listeners:
            - name: egress-http
              address: 127.0.0.1
              port: {{_httpPort}}
              protocol: HTTP
              defaultFilterChain: {routeTable: http}
            - name: egress-tls
              address: 127.0.0.1
              port: {{_tlsPort}}
              protocol: TLS
              filterChains:
              - serverNames: [edition.cnn.com]
                cluster: outbound|443||edition.cnn.com
            routeTables:
            - name: http
              virtualHosts:
              - name: edition.cnn.com:80
                domains: [edition.cnn.com]
                routes:
                - forward: {clusters: [{name: "outbound|80||edition.cnn.com"}]}
            clusters:
            - name: outbound|80||edition.cnn.com
              discovery: STATIC
              endpoints: [{address: 127.0.0.1, port: {{((IPEndPoint)_httpOrigin.LocalEndpoint).Port}}}]
            - name: outbound|443||edition.cnn.com
              discovery: STATIC
              endpoints: [{address: 127.0.0.1, port: {{((IPEndPoint)_tlsOrigin.LocalEndpoint).Port}}}]
            """);
        _proxy = MeshgateProcess.Start("proxy", "--config", config, "--admin-port", "0", "--status-port", "0");
        await _proxy.WaitForOutputAsync("meshgate proxy: ready", TimeSpan.FromSeconds(60));
    }

    public async Task DisposeAsync()
    {
        await _stop.CancelAsync();
        await _proxy.DisposeAsync();
        _httpOrigin.Stop();
        _tlsOrigin.Stop();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public void Startup_NoDnsServerGiven_SystemResolverLogged()
    {
        Assert.Contains("resolving with the system resolver (/etc/hosts, /etc/resolv.conf)", _proxy.Output);
    }

    [Fact]
    public async Task Http_KnownHost_ForwardedAndLoggedLikeTheSeed()
    {
        var (code, output) = await Curl.RunAsync("-sS", "-o", "/dev/null", "-D", "-", "-H", "Host: edition.cnn.com", $"http://127.0.0.1:{_httpPort}/politics");

        Assert.Equal(0, code);
        Assert.StartsWith("HTTP/1.1 301 Moved Permanently", output);
        Assert.Contains("location: https://edition.cnn.com/politics", output, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("x-envoy-upstream-service-time:", output);
        var line = await _proxy.AccessLogLineAsync("\"GET /politics HTTP/1.1\"");
        Assert.Matches(
            $"""^\[\d{"{4}"}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{"{3}"}Z\] "GET /politics HTTP/1\.1" 301 - via_upstream - "-" 0 \d+ \d+ \d+ "-" "curl/[^"]+" "[0-9a-f-]{"{36}"}" "edition\.cnn\.com" "127\.0\.0\.1:\d+" outbound\|80\|\|edition\.cnn\.com 127\.0\.0\.1:\d+ 127\.0\.0\.1:{_httpPort} 127\.0\.0\.1:\d+ - -$""",
            line);
    }

    [Fact]
    public async Task Http_UnknownHost_404WithNoRouteFlag()
    {
        var (_, output) = await Curl.RunAsync("-s", "-o", "/dev/null", "-w", "%{http_code}", "-H", "Host: elsewhere.example", $"http://127.0.0.1:{_httpPort}/");

        Assert.Equal("404", output);
        Assert.Contains(" 404 NR route_not_found ", await _proxy.AccessLogLineAsync("\"elsewhere.example\""));
    }

    [Fact]
    public async Task Tls_KnownSni_PassedThroughUndecryptedAndLogged()
    {
        var (code, output) = await Curl.RunAsync("-sS", "-k", "--resolve", $"edition.cnn.com:{_tlsPort}:127.0.0.1", $"https://edition.cnn.com:{_tlsPort}/politics");

        Assert.Equal(0, code);
        Assert.Equal("tls origin", output); // only the origin could have answered: the proxy holds no certificate
        var line = await _proxy.AccessLogLineAsync("edition.cnn.com -");
        Assert.Matches(
            $"""^\[[^\]]+\] "- - -" 0 - - - "-" \d+ \d+ \d+ - "-" "-" "-" "-" "127\.0\.0\.1:\d+" outbound\|443\|\|edition\.cnn\.com 127\.0\.0\.1:\d+ 127\.0\.0\.1:{_tlsPort} 127\.0\.0\.1:\d+ edition\.cnn\.com -$""",
            line);
    }

    [Fact]
    public async Task Tls_UnknownSniAndGarbage_ClosedLoggedAndStillServing()
    {
        var (code, _) = await Curl.RunAsync("-sS", "-k", "--resolve", $"other.example:{_tlsPort}:127.0.0.1", $"https://other.example:{_tlsPort}/");
        using (var garbage = new TcpClient())
        {
            await garbage.ConnectAsync(IPAddress.Loopback, _tlsPort);
            await garbage.GetStream().WriteAsync(Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\n\r\n"));
            int read;
            try
            {
                read = await garbage.GetStream().ReadAsync(new byte[16]).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
            }
            catch (IOException)
            {
                read = 0; // reset: closed too
            }

            Assert.Equal(0, read);
        }

        Assert.NotEqual(0, code);
        Assert.Contains("\"- - -\" 0 NR filter_chain_not_found", await _proxy.AccessLogLineAsync("other.example -"));
        Assert.Contains("not_a_tls_client_hello", await _proxy.AccessLogLineAsync("not_a_tls_client_hello"));
        var (again, output) = await Curl.RunAsync("-sS", "-k", "--resolve", $"edition.cnn.com:{_tlsPort}:127.0.0.1", $"https://edition.cnn.com:{_tlsPort}/");
        Assert.Equal(0, again);
        Assert.Equal("tls origin", output);
    }

    /// <summary>A minimal origin: every request gets edition.cnn.com's answer, a 301 to https.</summary>
    private static async Task ServeHttpAsync(TcpListener listener, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            var client = await listener.AcceptTcpClientAsync(stop);
            _ = Task.Run(async () =>
            {
                using (client)
                {
                    var stream = client.GetStream();
                    var reader = new StreamReader(stream, Encoding.ASCII);
                    while (await reader.ReadLineAsync(stop) is { Length: > 0 } line)
                    {
                        if (line.StartsWith("GET", StringComparison.Ordinal))
                        {
                            while (await reader.ReadLineAsync(stop) is { Length: > 0 })
                            {
                            }

                            var response = "HTTP/1.1 301 Moved Permanently\r\nlocation: https://edition.cnn.com/politics\r\ncontent-length: 0\r\n\r\n";
                            await stream.WriteAsync(Encoding.ASCII.GetBytes(response), stop);
                        }
                    }
                }
            }, stop);
        }
    }

    private static async Task ServeTlsAsync(TcpListener listener, CancellationToken stop)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=edition.cnn.com", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(1));
        using var exportable = X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), null);
        while (!stop.IsCancellationRequested)
        {
            var client = await listener.AcceptTcpClientAsync(stop);
            _ = Task.Run(async () =>
            {
                using (client)
                {
                    try
                    {
                        await using var tls = new SslStream(client.GetStream());
                        await tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = exportable }, stop);
                        var buffer = new byte[4096];
                        _ = await tls.ReadAsync(buffer, stop);
                        var body = "tls origin";
                        await tls.WriteAsync(Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\ncontent-length: {body.Length}\r\nconnection: close\r\n\r\n{body}"), stop);
                        await tls.ShutdownAsync();
                    }
                    catch (Exception e) when (e is IOException or System.Security.Authentication.AuthenticationException or OperationCanceledException)
                    {
                    }
                }
            }, stop);
        }
    }
}

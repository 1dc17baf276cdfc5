using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Xunit;

namespace Meshgate.Tests.EndToEnd;

/// <summary>
/// Issue 3's acceptance test: <c>samples/proxy/egress-gateway.yaml</c>, with only the stand-in's loopback addresses allowed, in a real
/// <c>meshgate proxy</c> that resolves <c>edition.cnn.com</c> with a real DNS server (dnsmasq) to a real
/// nginx on 127.0.0.77 (HTTP on 80, HTTPS on 443 with a certificate for that name from a throwaway CA).
/// curl gets the origin's answers through 18080 and 18443, and the access log lines match the seed's
/// field for field.
/// </summary>
public sealed class EgressGatewaySampleTests : IAsyncLifetime
{
    // Fixed by the sample.
    private const int HttpPort = 18080;
    private const int TlsPort = 18443;
    private const string Origin = "127.0.0.77";
    private const string Body = "<html><body><h1>Politics</h1><p>edition.cnn.com as nginx on 127.0.0.77</p></body></html>"; // no quotes: nginx.conf holds it
    private const string StartTime = """^\[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\] """;

    private readonly string _dir = Directory.CreateTempSubdirectory("meshgate-egress-sample-").FullName;
    private CnnOrigin? _origin;
    private MeshgateProcess? _proxy;

    private MeshgateProcess Proxy => _proxy!;

    public async Task InitializeAsync()
    {
        try
        {
            ExternalTools.Require("curl");
            AssertSamplePortsFree();
            _origin = await CnnOrigin.StartAsync(_dir, Origin, Body);
            // The sample as a user runs it against this stand-in: its loopback addresses allowed, as the sample's egress
            // comment says (the egress guard refuses loopback by default; the real edition.cnn.com needs nothing).
            var sample = Path.Combine(_dir, "egress-gateway.yaml");
            await File.WriteAllTextAsync(sample, await File.ReadAllTextAsync(Path.Combine(TestPaths.RepositoryRoot, "samples", "proxy", "egress-gateway.yaml"))
                + $"\negress:\n  allowedCidrs: [{Origin}, 127.0.0.78]\n");
            _proxy = MeshgateProcess.Start("proxy", "--config", sample, "--dns-server", _origin.Dns.Endpoint.ToString(), "--admin-port", "0", "--status-port", "0");
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
            _proxy = null;
        }

        if (_origin is not null)
        {
            await _origin.DisposeAsync();
            _origin = null;
        }

        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    [Fact]
    public void Startup_DnsServerGiven_LoggedAsTheResolver()
    {
        Assert.Contains($"resolving with {_origin!.Dns.Endpoint} (after /etc/hosts)", Proxy.Output);
    }

    [Fact]
    public async Task Http_CurlThroughPort18080_OriginsRedirectAndTheSeedsLogLine()
    {
        var (code, headers) = await Curl.RunAsync("-sS", "-o", "/dev/null", "-D", "-", "--connect-to", $"edition.cnn.com:80:127.0.0.1:{HttpPort}", "http://edition.cnn.com/politics");

        Assert.True(code == 0, $"curl exited {code}:\n{headers}\n{Proxy.Output}");
        Assert.StartsWith("HTTP/1.1 301 Moved Permanently\n", headers);
        Assert.Contains("\nlocation: https://edition.cnn.com/politics\n", headers, StringComparison.OrdinalIgnoreCase);
        Assert.Matches("(?im)^server: nginx", headers); // the origin answered, not the proxy
        var length = Regex.Match(headers, "(?im)^content-length: (\\d+)$").Groups[1].Value;
        var line = await Proxy.AccessLogLineAsync("\"GET /politics HTTP/1.1\"");
        // The seed: "GET /politics HTTP/1.1" 301 - via_upstream - "-" 0 0 2 2 "172.30.239.55" … "edition.cnn.com"
        // "151.101.195.5:80" outbound|80||edition.cnn.com 172.30.239.16:55636 172.30.239.16:80 172.30.239.55:59224 - <route>.
        // Here: no x-forwarded-for from curl, nginx's 301 has a body, and the sample's route has no name.
        Assert.Matches(
            StartTime + $"""
                "GET /politics HTTP/1\.1" 301 - via_upstream - "-" 0 {length} \d+ \d+ "-" "curl/[^"]+" "[0-9a-f-]{"{36}"}" "edition\.cnn\.com" "127\.0\.0\.77:80" outbound\|80\|\|edition\.cnn\.com 127\.0\.0\.1:\d+ 127\.0\.0\.1:{HttpPort} 127\.0\.0\.1:\d+ - -$
                """,
            line);
    }

    [Fact]
    public async Task Tls_CurlThroughPort18443_CertificateVerifiedEndToEndAndTheSeedsLogLine()
    {
        var (code, body) = await Curl.RunAsync("-sS", "--resolve", $"edition.cnn.com:{TlsPort}:127.0.0.1", "--cacert", _origin!.CaPath, $"https://edition.cnn.com:{TlsPort}/politics");
        var (untrusted, _) = await Curl.RunAsync("-sS", "--resolve", $"edition.cnn.com:{TlsPort}:127.0.0.1", $"https://edition.cnn.com:{TlsPort}/politics");

        Assert.True(code == 0, $"curl exited {code}:\n{body}\n{Proxy.Output}");
        Assert.Equal(Body, body);
        Assert.Equal(60, untrusted); // CURLE_PEER_FAILED_VERIFICATION: the certificate is nginx's, checked against the test's CA
        var line = await Proxy.AccessLogLineAsync($"\"{Origin}:443\"");
        // The seed: "- - -" 0 - - - "-" 839 2504306 231 - "-" "-" "-" "-" "151.101.195.5:443" outbound|443||edition.cnn.com
        // 172.30.239.8:34470 172.30.239.8:443 172.30.239.15:43956 edition.cnn.com -
        var match = Regex.Match(
            line,
            StartTime + $"""
                "- - -" 0 - - - "-" (?<received>\d+) (?<sent>\d+) \d+ - "-" "-" "-" "-" "127\.0\.0\.77:443" outbound\|443\|\|edition\.cnn\.com 127\.\d+\.\d+\.\d+:\d+ 127\.0\.0\.1:{TlsPort} 127\.0\.0\.1:\d+ edition\.cnn\.com -$
                """);
        Assert.True(match.Success, line);
        Assert.True(long.Parse(match.Groups["received"].Value, System.Globalization.CultureInfo.InvariantCulture) > 0, line);
        Assert.True(long.Parse(match.Groups["sent"].Value, System.Globalization.CultureInfo.InvariantCulture) > Body.Length, line);
    }

    [Fact]
    public async Task Dns_AnswerChangesAndChangesBack_ProxyFollowsEachAfterTheTtl()
    {
        Assert.Equal("301", await HttpStatusAsync());

        // Nothing listens on 127.0.0.78: once the proxy follows the new answer (TTL 1 s), it fails to connect there,
        // and says so as Envoy does (503, UF, and URX: the sample spells out Istio's default retries).
        await _origin!.Dns.SetAsync("edition.cnn.com", "127.0.0.78");
        var moved = await PollUntilLoggedAsync("\"127.0.0.78:80\" outbound|80||edition.cnn.com");
        await _origin.Dns.SetAsync("edition.cnn.com", Origin);
        var back = await PollUntilLoggedAsync("\"127.0.0.77:80\" outbound|80||edition.cnn.com", after: "\"127.0.0.78:80\"");

        Assert.Contains("\"GET /politics HTTP/1.1\" 503 UF,URX upstream_reset_before_response_started{connection_failure} ", moved);
        Assert.Contains("\"GET /politics HTTP/1.1\" 301 - via_upstream - ", back);
        Assert.Equal("301", await HttpStatusAsync());
    }

    /// <summary>Sends requests until a log line containing <paramref name="text"/> appears (after the last line with <paramref name="after"/>), and returns it.</summary>
    private async Task<string> PollUntilLoggedAsync(string text, string? after = null)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            await HttpStatusAsync();
            var lines = Proxy.Output.Split('\n').Where(l => l.StartsWith('[')).ToList();
            var from = after is null ? 0 : lines.FindLastIndex(l => l.Contains(after, StringComparison.Ordinal)) + 1;
            if (lines.Skip(from).FirstOrDefault(l => l.Contains(text, StringComparison.Ordinal)) is { } line)
            {
                return line;
            }

            Assert.True(DateTime.UtcNow < deadline, $"no access-log line with {text} in time:\n{Proxy.Output}");
            await Task.Delay(200);
        }
    }

    private async Task<string> HttpStatusAsync()
    {
        var (_, status) = await Curl.RunAsync("-s", "-o", "/dev/null", "-w", "%{http_code}", "--connect-to", $"edition.cnn.com:80:127.0.0.1:{HttpPort}", "http://edition.cnn.com/politics");
        return status;
    }

    private static void AssertSamplePortsFree()
    {
        foreach (var port in new[] { HttpPort, TlsPort })
        {
            try
            {
                using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                probe.Bind(new IPEndPoint(IPAddress.Loopback, port));
            }
            catch (SocketException e)
            {
                Assert.Fail($"127.0.0.1:{port} is taken ({e.SocketErrorCode}), and samples/proxy/egress-gateway.yaml listens there: stop what holds it (another 'meshgate proxy'? see 'ss -ltnp sport = :{port}') and run the test again");
            }
        }
    }

}

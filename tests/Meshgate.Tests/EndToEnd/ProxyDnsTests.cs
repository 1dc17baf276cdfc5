using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Xunit;

namespace Meshgate.Tests.EndToEnd;

/// <summary>
/// How <c>meshgate proxy</c> is told its DNS servers (<c>--dns-server</c>, <c>MESHGATE_DNS_SERVERS</c>), with a
/// real dnsmasq that resolves <c>edition.cnn.com</c> to an origin on 127.0.0.77 and refuses every other name.
/// </summary>
public sealed class ProxyDnsTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("meshgate-proxy-dns-").FullName;
    private readonly int _port = MeshgateProcess.FreePort();
    private readonly TcpListener _origin = new(IPAddress.Parse("127.0.0.77"), 0);
    private readonly CancellationTokenSource _stop = new();
    private DnsmasqServer? _dns;
    private string _config = "";

    private int OriginPort => ((IPEndPoint)_origin.LocalEndpoint).Port;

    public async Task InitializeAsync()
    {
        ExternalTools.Require("curl");
        _origin.Start();
        _ = ServeAsync(_origin, _stop.Token);
        _dns = await DnsmasqServer.StartAsync(new Dictionary<string, string> { ["edition.cnn.com"] = "127.0.0.77" });
        _config = Path.Combine(_dir, "proxy.yaml");
        await File.WriteAllTextAsync(_config, $$"""
            version: test-1
            accessLog: {path: /dev/stdout, encoding: TEXT}
            egress: {allowedCidrs: [127.0.0.77]} # the stand-in origin; loopback is refused unless allowed
            listeners:
            - name: egress-http
              address: 127.0.0.1
              port: {{_port}}
              protocol: HTTP
              defaultFilterChain: {routeTable: http}
            routeTables:
            - name: http
              virtualHosts:
              - name: edition.cnn.com
                domains: [edition.cnn.com]
                routes:
                - forward: {clusters: [{name: "outbound|80||edition.cnn.com"}]}
              - name: unknown.example
                domains: [unknown.example]
                routes:
                - forward: {clusters: [{name: "outbound|80||unknown.example"}]}
            clusters:
            - name: outbound|80||edition.cnn.com
              discovery: STRICT_DNS
              endpoints: [{address: edition.cnn.com, port: {{OriginPort}}}]
            - name: outbound|80||unknown.example
              discovery: STRICT_DNS
              endpoints: [{address: unknown.example, port: 80}]
            """);
    }

    public async Task DisposeAsync()
    {
        await _stop.CancelAsync();
        _origin.Stop();
        if (_dns is not null)
        {
            await _dns.DisposeAsync();
        }

        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task Proxy_DnsServersFromEnvironment_NamesResolvedThere()
    {
        await using var proxy = MeshgateProcess.Start(new Dictionary<string, string> { ["MESHGATE_DNS_SERVERS"] = $"{_dns!.Endpoint}" }, "proxy", "--config", _config, "--admin-port", "0", "--status-port", "0");
        await proxy.WaitForOutputAsync("meshgate proxy: ready", TimeSpan.FromSeconds(60));

        var (status, body) = await GetAsync("edition.cnn.com");

        Assert.Contains($"resolving with {_dns.Endpoint} (after /etc/hosts)", proxy.Output);
        Assert.Equal(("200", "origin"), (status, body));
        Assert.Contains($"\"edition.cnn.com\" \"127.0.0.77:{OriginPort}\" outbound|80||edition.cnn.com ", await proxy.AccessLogLineAsync("edition.cnn.com"));
    }

    [Fact]
    public async Task Proxy_OptionAndEnvironment_OptionWins()
    {
        await using var proxy = MeshgateProcess.Start(
            new Dictionary<string, string> { ["MESHGATE_DNS_SERVERS"] = "127.0.0.1:1" },
            "proxy", "--config", _config, "--dns-server", "127.0.0.1:2", "--dns-server", $"{_dns!.Endpoint}", "--admin-port", "0", "--status-port", "0");
        await proxy.WaitForOutputAsync("meshgate proxy: ready", TimeSpan.FromSeconds(60));

        var (status, _) = await GetAsync("edition.cnn.com");

        Assert.Contains($"resolving with 127.0.0.1:2, {_dns.Endpoint} (after /etc/hosts)", proxy.Output);
        Assert.Equal("200", status); // the dead first server is passed over
    }

    [Fact]
    public async Task Proxy_NameTheServerCannotResolve_503NoHealthyUpstreamAndStillServing()
    {
        await using var proxy = MeshgateProcess.Start("proxy", "--config", _config, "--dns-server", $"{_dns!.Endpoint}", "--admin-port", "0", "--status-port", "0");
        await proxy.WaitForOutputAsync("meshgate proxy: ready", TimeSpan.FromSeconds(60));

        var (status, body) = await GetAsync("unknown.example");
        var (again, _) = await GetAsync("edition.cnn.com");

        Assert.Equal(("503", "no healthy upstream"), (status, body));
        Assert.Contains("\"GET / HTTP/1.1\" 503 UH no_healthy_upstream ", await proxy.AccessLogLineAsync("\"unknown.example\""));
        Assert.Contains("resolving unknown.example failed (Refused); using nothing", proxy.Output);
        Assert.Equal("200", again);
    }

    [Theory]
    [InlineData("--dns-server", "dns.example:53", "error: --dns-server: \"dns.example:53\" is not a DNS server address: expected IP:PORT, e.g. 127.0.0.1:5353 or [::1]:53")]
    [InlineData("--dns-server", "127.0.0.1:5353,127.0.0.1:http", "error: --dns-server: \"127.0.0.1:http\" is not a DNS server address: expected IP:PORT, e.g. 127.0.0.1:5353 or [::1]:53")]
    public async Task Proxy_InvalidDnsServer_ExitsWithTheReason(string option, string value, string error)
    {
        var (code, output) = await MeshgateProcess.RunAsync("", "proxy", "--config", _config, option, value);

        Assert.Equal(1, code);
        Assert.Equal(error + "\n", output);
    }

    private async Task<(string Status, string Body)> GetAsync(string host)
    {
        var info = new ProcessStartInfo("curl") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { "--max-time", "30", "-s", "-w", "\n%{http_code}", "-H", $"Host: {host}", $"http://127.0.0.1:{_port}/" })
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        var split = output.LastIndexOf('\n');
        return (output[(split + 1)..], output[..split]);
    }

    /// <summary>The origin: "origin" with 200 to every request, keep-alive.</summary>
    private static async Task ServeAsync(TcpListener listener, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await listener.AcceptTcpClientAsync(stop);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            _ = Task.Run(async () =>
            {
                using (client)
                {
                    try
                    {
                        var stream = client.GetStream();
                        var reader = new StreamReader(stream, Encoding.ASCII);
                        while (await reader.ReadLineAsync(stop) is { } line)
                        {
                            if (line.Length == 0)
                            {
                                await stream.WriteAsync("HTTP/1.1 200 OK\r\ncontent-length: 6\r\n\r\norigin"u8.ToArray(), stop);
                            }
                        }
                    }
                    catch (Exception e) when (e is IOException or OperationCanceledException)
                    {
                    }
                }
            }, stop);
        }
    }
}

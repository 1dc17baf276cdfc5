using System.Text.Json;
using System.Text.RegularExpressions;
using Meshgate.Core.ProxyConfiguration;
using Meshgate.Tests.Observability;
using Meshgate.Tests.Proxy;
using Microsoft.AspNetCore.Http;
using Xunit;

namespace Meshgate.Tests.EndToEnd;

/// <summary>
/// <c>meshgate proxy --config FILE --admin-port 0 --status-port 0</c> as a real process with real curl: the admin
/// pages and readiness, Istio's metrics after real traffic, exact body byte counts in the access log, and the
/// configuration file followed while it runs.
/// </summary>
public sealed partial class ProxyAdminTests : IAsyncLifetime
{
    private const int ChunkSize = 1000;
    private const int Chunks = 3;

    private readonly string _dir = Directory.CreateTempSubdirectory("meshgate-admin-").FullName;
    private readonly int _httpPort = MeshgateProcess.FreePort();
    private readonly int _tlsPort = MeshgateProcess.FreePort();
    private HttpOrigin _a = null!;
    private HttpOrigin _b = null!;
    private TlsEchoOrigin _tls = null!;
    private MeshgateProcess _proxy = null!;
    private string _config = null!;
    private int _adminPort;
    private int _statusPort;

    public async Task InitializeAsync()
    {
        _a = await HttpOrigin.StartAsync(ServeAsync);
        _b = await HttpOrigin.StartAsync("b");
        _tls = TlsEchoOrigin.Start("tls");
        _config = Path.Combine(_dir, "proxy.yaml");
        await File.WriteAllTextAsync(_config, Config("v1", "a"));
        _proxy = MeshgateProcess.Start("proxy", "--config", _config, "--admin-port", "0", "--status-port", "0");
        await _proxy.WaitForOutputAsync("meshgate proxy: ready", TimeSpan.FromSeconds(60));
        _adminPort = int.Parse(AdminLine().Match(_proxy.Output).Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        _statusPort = int.Parse(StatusLine().Match(_proxy.Output).Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
    }

    public async Task DisposeAsync()
    {
        await _proxy.DisposeAsync();
        await _a.DisposeAsync();
        await _b.DisposeAsync();
        await _tls.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task HealthzReady_ListenersOpen_200AndTheAdminPagesSayLive()
    {
        var ready = await PollAsync(async () => await Curl.RunAsync("-s", "-o", "/dev/null", "-w", "%{http_code}", $"http://127.0.0.1:{_statusPort}/healthz/ready"), "200");

        Assert.Equal("200", ready);
        Assert.Equal("404", (await Curl.RunAsync("-s", "-o", "/dev/null", "-w", "%{http_code}", $"http://127.0.0.1:{_statusPort}/stats")).Output);
        Assert.Equal("LIVE\n", (await AdminAsync("/ready")).Output);
        using var info = JsonDocument.Parse((await AdminAsync("/server_info")).Output);
        Assert.Equal("LIVE", info.RootElement.GetProperty("state").GetString());
        Assert.Equal("v1", info.RootElement.GetProperty("configVersion").GetString());
        Assert.Equal(["http", "tls"], info.RootElement.GetProperty("listeners").EnumerateArray().Select(l => l.GetProperty("name").GetString()).Order(StringComparer.Ordinal));
        Assert.Equal($"127.0.0.1:{_adminPort}", info.RootElement.GetProperty("admin").GetString());
        Assert.Equal("HTTP", info.RootElement.GetProperty("listeners").EnumerateArray().Single(l => l.GetProperty("name").GetString() == "http").GetProperty("protocol").GetString());
        Assert.Equal("405", (await Curl.RunAsync("-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST", $"http://127.0.0.1:{_adminPort}/stats")).Output);
    }

    [Fact]
    public async Task Stats_AfterRealRequestsAndATlsConnection_IstioMetricsCountThem()
    {
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal("a", (await Curl.RunAsync("-s", "-H", "Host: a.test", $"http://127.0.0.1:{_httpPort}/")).Output);
        }

        Assert.Equal("404", (await Curl.RunAsync("-s", "-o", "/dev/null", "-w", "%{http_code}", "-H", "Host: nowhere.test", $"http://127.0.0.1:{_httpPort}/")).Output);
        var (client, tls, reader) = await TlsEchoOrigin.ConnectAsync(_tlsPort);
        using (client)
        await using (tls)
        {
            Assert.Equal("tls:hello", await TlsEchoOrigin.EchoAsync(tls, reader, "hello"));
        }

        var tcp = new[] { ("destination_service", "a.test"), ("upstream_cluster", "outbound|443||a.test") };
        await PollAsync(async () => PrometheusText.Parse((await AdminAsync("/stats/prometheus")).Output).Where("istio_tcp_connections_closed_total", tcp).SingleOrDefault()?.Value.ToString(System.Globalization.CultureInfo.InvariantCulture), "1");
        var samples = PrometheusText.Parse((await AdminAsync("/stats/prometheus")).Output);

        var ok = Assert.Single(samples.Where("istio_requests_total", ("response_code", "200")));
        Assert.Equal(3, ok.Value);
        Assert.Equal("a.test", ok.Labels["destination_service"]);
        Assert.Equal("outbound|80||a.test", ok.Labels["upstream_cluster"]);
        Assert.Equal("-", ok.Labels["response_flags"]);
        Assert.Equal("source", ok.Labels["reporter"]);
        var notFound = Assert.Single(samples.Where("istio_requests_total", ("response_code", "404")));
        Assert.Equal(1, notFound.Value);
        Assert.Equal("NR", notFound.Labels["response_flags"]);
        Assert.Equal("unknown", notFound.Labels["destination_service"]);
        Assert.Equal(3, Assert.Single(samples.Where("istio_request_duration_milliseconds_count", ("response_code", "200"))).Value);
        Assert.Equal(1, Assert.Single(samples.Where("istio_tcp_connections_opened_total", tcp)).Value);
        Assert.True(Assert.Single(samples.Where("istio_tcp_received_bytes_total", tcp)).Value > 200); // at least the ClientHello
        Assert.True(Assert.Single(samples.Where("istio_tcp_sent_bytes_total", tcp)).Value > 0);
        var stats = (await AdminAsync("/stats")).Output.Split('\n');
        Assert.Contains(stats, l => l.StartsWith("istio_requests_total{", StringComparison.Ordinal) && l.Contains("response_code=\"200\"", StringComparison.Ordinal) && l.EndsWith("}: 3", StringComparison.Ordinal));
    }

    [Fact]
    public async Task StatsPrometheus_Scraped_ValidTextExposition004WithEveryIstioFamily()
    {
        await Curl.RunAsync("-s", "-H", "Host: a.test", $"http://127.0.0.1:{_httpPort}/");

        var (_, output) = await Curl.RunAsync("-s", "-D", "-", $"http://127.0.0.1:{_adminPort}/stats/prometheus");

        var split = output.IndexOf("\n\n", StringComparison.Ordinal);
        Assert.Contains("content-type: text/plain; version=0.0.4; charset=utf-8", output[..split], StringComparison.OrdinalIgnoreCase);
        var body = output[(split + 2)..];
        PrometheusText.Parse(body);
        foreach (var family in new[] { "istio_requests_total counter", "istio_request_duration_milliseconds histogram", "istio_tcp_connections_opened_total counter", "istio_tcp_connections_closed_total counter", "istio_tcp_sent_bytes_total counter", "istio_tcp_received_bytes_total counter" })
        {
            Assert.Contains($"# TYPE {family}\n", body, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task ConfigDump_ReadBack_EqualsTheConfigurationFile()
    {
        var (code, dump) = await AdminAsync("/config_dump");

        Assert.Equal(0, code);
        var fromDump = ProxyConfigLoader.Load(dump, "config_dump");
        Assert.Empty(fromDump.Errors);
        Assert.Equal(ProxyConfigLoader.Load(await File.ReadAllTextAsync(_config), _config).Config, fromDump.Config);
        Assert.Equal("v1", fromDump.Config!.Version);
    }

    [Fact]
    public async Task Clusters_HostNameEndpoint_ListedWithTheAddressItResolvesToNow()
    {
        var (_, text) = await AdminAsync("/clusters");
        var (_, json) = await AdminAsync("/clusters?format=json");

        Assert.Contains($"outbound|80||b.test::127.0.0.1:{_b.Port}::hostname::localhost\n", text, StringComparison.Ordinal);
        Assert.Contains($"outbound|80||a.test::127.0.0.1:{_a.Port}::health_flags::healthy\n", text, StringComparison.Ordinal);
        Assert.Contains("outbound|80||b.test::discovery::STRICT_DNS\n", text, StringComparison.Ordinal);
        using var document = JsonDocument.Parse(json);
        var b = document.RootElement.GetProperty("clusters").EnumerateArray().Single(c => c.GetProperty("name").GetString() == "outbound|80||b.test");
        var endpoint = Assert.Single(b.GetProperty("endpoints").EnumerateArray());
        Assert.Equal("localhost", endpoint.GetProperty("address").GetString());
        Assert.Equal("STRICT_DNS", b.GetProperty("discovery").GetString());
        Assert.Contains("127.0.0.1", endpoint.GetProperty("resolved").EnumerateArray().Select(a => a.GetString()));
    }

    [Fact]
    public async Task AccessLog_ChunkedResponseAndRequestBodies_ExactBodyByteCounts()
    {
        var (_, chunked) = await Curl.RunAsync("-s", "-D", "-", "-H", "Host: a.test", $"http://127.0.0.1:{_httpPort}/chunked");
        var upload = Path.Combine(_dir, "upload.bin");
        await File.WriteAllBytesAsync(upload, new byte[1234]);
        var (_, posted) = await Curl.RunAsync("-s", "-H", "Host: a.test", "--data-binary", $"@{upload}", $"http://127.0.0.1:{_httpPort}/upload");
        var (_, streamed) = await Curl.RunAsync("-s", "-H", "Host: a.test", "-H", "Transfer-Encoding: chunked", "--data-binary", $"@{upload}", $"http://127.0.0.1:{_httpPort}/upload-chunked");

        Assert.Contains("transfer-encoding: chunked", chunked, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("content-length", chunked, StringComparison.OrdinalIgnoreCase);
        Assert.Equal("received 1234", posted);
        Assert.Equal("received 1234", streamed);
        Assert.Matches($"""^\[[^\]]+\] "GET /chunked HTTP/1\.1" 200 - via_upstream - "-" 0 {Chunks * ChunkSize} \d+ """, await _proxy.AccessLogLineAsync("\"GET /chunked "));
        Assert.Matches("""^\[[^\]]+\] "POST /upload HTTP/1\.1" 200 - via_upstream - "-" 1234 13 \d+ """, await _proxy.AccessLogLineAsync("\"POST /upload "));
        Assert.Matches("""^\[[^\]]+\] "POST /upload-chunked HTTP/1\.1" 200 - via_upstream - "-" 1234 13 \d+ """, await _proxy.AccessLogLineAsync("\"POST /upload-chunked "));
    }

    [Fact]
    public async Task ConfigFile_Rewritten_AppliedThenABrokenOneRefusedKeepingTheLastGood()
    {
        // Written beside and renamed over, as editors and config management do.
        var next = _config + ".tmp";
        await File.WriteAllTextAsync(next, Config("v2", "b"));
        File.Move(next, _config, overwrite: true);
        await _proxy.WaitForOutputAsync("applied version v2", TimeSpan.FromSeconds(10));

        Assert.Equal("b", (await Curl.RunAsync("-s", "-H", "Host: a.test", $"http://127.0.0.1:{_httpPort}/")).Output);
        Assert.Contains("\"version\": \"v2\"", (await AdminAsync("/config_dump")).Output, StringComparison.Ordinal);

        // Written in place, broken twice over: not YAML, then consistent-looking but pointing nowhere.
        await File.WriteAllTextAsync(_config, "version: v3\nlisteners: [\n");
        await _proxy.WaitForOutputAsync("rejected, keeping version v2", TimeSpan.FromSeconds(10));
        await File.WriteAllTextAsync(_config, Config("v4", "missing"));
        await _proxy.WaitForOutputAsync("cluster \"outbound|80||missing.test\" is not defined", TimeSpan.FromSeconds(10));

        Assert.Equal("b", (await Curl.RunAsync("-s", "-H", "Host: a.test", $"http://127.0.0.1:{_httpPort}/")).Output);
        Assert.DoesNotContain("applied version v3", _proxy.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("applied version v4", _proxy.Output, StringComparison.Ordinal);
        var stats = (await AdminAsync("/stats")).Output;
        Assert.Contains("listener_manager.lds.update_success: 1\n", stats, StringComparison.Ordinal);
        Assert.Contains("listener_manager.lds.update_rejected: 2\n", stats, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Proxy_AdminPortTakenOrOutOfRange_ExitsWithTheReason()
    {
        var (taken, takenOutput) = await MeshgateProcess.RunAsync("", "proxy", "--config", _config, "--admin-port", _adminPort.ToString(System.Globalization.CultureInfo.InvariantCulture), "--status-port", "0");
        var (range, rangeOutput) = await MeshgateProcess.RunAsync("", "proxy", "--config", _config, "--status-port", "70000");

        Assert.NotEqual(0, taken);
        Assert.Contains($"error: cannot open the admin port 127.0.0.1:{_adminPort} or the readiness port 127.0.0.1:0: address already in use", takenOutput, StringComparison.Ordinal);
        Assert.NotEqual(0, range);
        Assert.Contains("--status-port 70000 is not a port", rangeOutput, StringComparison.Ordinal);
    }

    /// <summary>Origin a: <c>/chunked</c> streams <see cref="Chunks"/> flushed chunks, <c>/upload*</c> counts the body, else "a".</summary>
    private static async Task ServeAsync(HttpContext context)
    {
        switch (context.Request.Path.Value)
        {
            case "/chunked":
                for (var i = 0; i < Chunks; i++)
                {
                    await context.Response.Body.WriteAsync(new byte[ChunkSize]);
                    await context.Response.Body.FlushAsync();
                }

                return;
            case "/upload" or "/upload-chunked":
                var length = 0L;
                var buffer = new byte[4096];
                int read;
                while ((read = await context.Request.Body.ReadAsync(buffer)) > 0)
                {
                    length += read;
                }

                var answer = $"received {length}";
                context.Response.ContentLength = answer.Length;
                await context.Response.WriteAsync(answer);
                return;
            default:
                context.Response.ContentLength = 1;
                await context.Response.WriteAsync("a");
                return;
        }
    }

    private string Config(string version, string target) => $$"""
        version: {{version}}
        accessLog: {path: /dev/stdout, encoding: TEXT}
        egress: {allowedCidrs: [127.0.0.1, "::1"]} # b.test resolves "localhost", which the egress guard refuses unless allowed
        listeners:
        - {name: http, address: 127.0.0.1, port: {{_httpPort}}, protocol: HTTP, defaultFilterChain: {routeTable: http} }
        - name: tls
          address: 127.0.0.1
          port: {{_tlsPort}}
          protocol: TLS
          filterChains:
          - {serverNames: ["{{TlsEchoOrigin.ServerName}}"], cluster: "outbound|443||a.test"}
        routeTables:
        - name: http
          virtualHosts:
          - {name: a, domains: [a.test], routes: [ {forward: {clusters: [ {name: "outbound|80||{{target}}.test"} ]} } ]}
        clusters:
        - {name: "outbound|80||a.test", discovery: STATIC, endpoints: [ {address: 127.0.0.1, port: {{_a.Port}} } ]}
        - {name: "outbound|80||b.test", discovery: STRICT_DNS, endpoints: [ {address: localhost, port: {{_b.Port}} } ]}
        - {name: "outbound|443||a.test", discovery: STATIC, endpoints: [ {address: 127.0.0.1, port: {{_tls.Port}} } ]}
        """;

    private Task<(int Code, string Output)> AdminAsync(string path) => Curl.RunAsync("-sS", "--fail", $"http://127.0.0.1:{_adminPort}{path}");

    /// <summary>Polls <paramref name="read"/> until it returns <paramref name="expected"/> or 10 s pass; returns the last value.</summary>
    private static async Task<string?> PollAsync(Func<Task<string?>> read, string expected)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            var value = await read();
            if (value == expected || DateTime.UtcNow > deadline)
            {
                return value;
            }

            await Task.Delay(50);
        }
    }

    private static Task<string?> PollAsync(Func<Task<(int Code, string Output)>> curl, string expected) =>
        PollAsync(async () => (await curl()).Output, expected);

    [GeneratedRegex(@"admin listening on 127\.0\.0\.1:(\d+)")]
    private static partial Regex AdminLine();

    [GeneratedRegex(@"readiness listening on 127\.0\.0\.1:(\d+)")]
    private static partial Regex StatusLine();
}

using System.Text.RegularExpressions;

using Meshgate.Core.ProxyConfiguration;
using Meshgate.Tests.Proxy;

using Microsoft.AspNetCore.Http;

using Xunit;

namespace Meshgate.Tests.EndToEnd;

/// <summary>
/// The Native AOT <c>meshgate-proxy</c> executable (src/Meshgate.ProxyExecutable, published by test.sh and
/// ./meshgate) as a real process: forwarding through a STATIC cluster to a loopback origin with real curl, its admin
/// pages, and refusing a bad configuration exactly as <c>meshgate proxy</c> does. Without the published binary the
/// tests fail (they are never skipped): run ./test.sh, or publish it and set MESHGATE_PROXY_BINARY.
/// </summary>
public sealed partial class MeshgateProxyTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("meshgate-aot-").FullName;
    private readonly int _httpPort = MeshgateProcess.FreePort();
    private HttpOrigin _origin = null!;
    private string _config = "";
    private MeshgateProcess _proxy = null!;
    private int _adminPort;

    /// <summary>$MESHGATE_PROXY_BINARY, else what test.sh or ./meshgate published.</summary>
    public static string Binary
    {
        get
        {
            var configured = Environment.GetEnvironmentVariable(Meshgate.Supervision.ProxyExecutable.EnvironmentVariable);
            var candidates = string.IsNullOrEmpty(configured)
                ? new[] { Path.Combine(TestPaths.RepositoryRoot, "artifacts", "test-proxy", "meshgate-proxy"), Path.Combine(TestPaths.RepositoryRoot, "artifacts", "meshgate", "meshgate-proxy") }
                : [configured];
            return candidates.FirstOrDefault(File.Exists)
                ?? throw new InvalidOperationException($"meshgate-proxy not found ({string.Join(", ", candidates)}): run ./test.sh, or 'dotnet publish src/Meshgate.ProxyExecutable -c Release -r linux-x64 -o artifacts/test-proxy'");
        }
    }

    public async Task InitializeAsync()
    {
        // The origin answers with the request line it saw, so a test can tell what the proxy sent.
        _origin = await HttpOrigin.StartAsync(context =>
        {
            var body = $"origin saw {context.Request.Method} {context.Request.Path}{context.Request.QueryString}";
            context.Response.ContentType = "text/plain";
            context.Response.ContentLength = body.Length;
            return context.Response.WriteAsync(body);
        });
        _config = Path.Combine(_dir, "proxy.yaml");
        await File.WriteAllTextAsync(_config, $$"""
            version: aot-1
            accessLog: {path: /dev/stdout, encoding: TEXT}
            listeners:
            - name: egress-http
              address: 127.0.0.1
              port: {{_httpPort}}
              protocol: HTTP
              defaultFilterChain: {routeTable: http}
            routeTables:
            - name: http
              virtualHosts:
              - name: edition.cnn.com:80
                domains: [edition.cnn.com]
                routes:
                - match: {prefix: /old}
                  redirect: {path: /new}
                - forward: {clusters: [{name: "outbound|80||edition.cnn.com"}], timeout: 15s}
            clusters:
            - name: outbound|80||edition.cnn.com
              discovery: STATIC
              connectTimeout: 2s
              endpoints: [{address: 127.0.0.1, port: {{_origin.Port}}}]
            """);
        _proxy = MeshgateProcess.StartProgram(Binary, new Dictionary<string, string>(), "proxy", "--config", _config, "--admin-port", "0", "--status-port", "0");
        await _proxy.WaitForOutputAsync("meshgate proxy: ready", TimeSpan.FromSeconds(30));
        _adminPort = int.Parse(AdminLine().Match(_proxy.Output).Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
    }

    public async Task DisposeAsync()
    {
        await _proxy.DisposeAsync();
        await _origin.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task Curl_ThroughStaticCluster_ForwardedAndLogged()
    {
        var (code, output) = await Curl.RunAsync("-sS", "-D", "-", "-H", "Host: edition.cnn.com", $"http://127.0.0.1:{_httpPort}/politics");

        Assert.Equal(0, code);
        Assert.StartsWith("HTTP/1.1 200 OK", output);
        Assert.Contains("x-envoy-upstream-service-time:", output);
        Assert.EndsWith("origin saw GET /politics", output);
        Assert.Contains("\"GET /politics HTTP/1.1\" 200 - via_upstream", await _proxy.AccessLogLineAsync("/politics"));
    }

    [Fact]
    public async Task Curl_RedirectRouteWithDefaultStatus_Answers301()
    {
        var (_, output) = await Curl.RunAsync("-sS", "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}", "-H", "Host: edition.cnn.com", $"http://127.0.0.1:{_httpPort}/old");

        Assert.Equal("301 http://edition.cnn.com/new", output);
    }

    [Fact]
    public async Task ConfigDump_LoadedWithoutReflection_ReadsBackEqualWithDefaultsWritten()
    {
        var (code, dump) = await Curl.RunAsync("-sS", "--fail", $"http://127.0.0.1:{_adminPort}/config_dump");

        Assert.Equal(0, code);
        // The defaults the file leaves out were kept by the source-generated reader (InitializerDefaults), not zeroed.
        Assert.Contains("\"bindToPort\": true", dump, StringComparison.Ordinal);
        Assert.Contains("\"weight\": 1", dump, StringComparison.Ordinal);
        Assert.Contains("\"status\": 301", dump, StringComparison.Ordinal);
        Assert.Contains("\"timeout\": \"15s\"", dump, StringComparison.Ordinal);
        var expected = ProxyConfigLoader.Load(await File.ReadAllTextAsync(_config), _config);
        Assert.Empty(expected.Errors);
        Assert.Equal(expected.Config, ProxyConfigLoader.Load(dump, "config_dump").Config);
    }

    [Fact]
    public async Task StatsPrometheus_AfterARequest_CountsIt()
    {
        await Curl.RunAsync("-sS", "-o", "/dev/null", "-H", "Host: edition.cnn.com", $"http://127.0.0.1:{_httpPort}/counted");

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        string stats;
        do
        {
            stats = (await Curl.RunAsync("-sS", "--fail", $"http://127.0.0.1:{_adminPort}/stats/prometheus")).Output;
            if (CompletedRequests().IsMatch(stats))
            {
                break;
            }

            await Task.Delay(50);
        }
        while (DateTime.UtcNow < deadline);

        Assert.Matches(CompletedRequests(), stats);
    }

    [Fact]
    public async Task Process_IsNative_NoRuntimeOrJitLoaded()
    {
        var maps = await File.ReadAllTextAsync($"/proc/{_proxy.ProcessId}/maps");

        Assert.Contains("meshgate-proxy", maps, StringComparison.Ordinal);
        Assert.DoesNotContain("libcoreclr.so", maps, StringComparison.Ordinal);
        Assert.DoesNotContain("libclrjit.so", maps, StringComparison.Ordinal);
        Assert.DoesNotContain(".dll", maps, StringComparison.Ordinal);
    }

    public static TheoryData<string, string, string> BadConfigurations => new()
    {
        // The schema walk (reflection over the model in meshgate, over what the AOT compiler kept in meshgate-proxy).
        { "unknown field", "  endpoints: [{address: 127.0.0.1, port: 80, wieght: 2}]", "clusters[0].endpoints[0].wieght: unknown field \"wieght\"; did you mean \"weight\"?" },
        { "wrong type", "  endpoints: [{address: 127.0.0.1, port: \"eighty\"}]", "clusters[0].endpoints[0].port: expected an integer" },
        { "enum", "  discovery: STATIC_DNS\n  endpoints: [{address: 127.0.0.1, port: 80}]", "clusters[0].discovery: \"STATIC_DNS\" is not one of" },
        { "missing required", "  endpoints: [{address: 127.0.0.1}]", "clusters[0].endpoints[0].port: required field is missing" },
        // The consistency check, after the source-generated reader.
        { "zero weight", "  endpoints: [{address: 127.0.0.1, port: 80, weight: 0}]", "endpoints[0].weight: 0 is not a weight" },
    };

    [Theory]
    [MemberData(nameof(BadConfigurations))]
    public async Task BadConfig_RefusedLikeMeshgateProxy_NamingTheField(string what, string clusterBody, string error)
    {
        var config = Path.Combine(_dir, "bad.yaml");
        await File.WriteAllTextAsync(config, $"""
            version: bad
            listeners:
            - name: tcp
              address: 127.0.0.1
              port: {MeshgateProcess.FreePort()}
              protocol: TCP
              defaultFilterChain: {"{"}cluster: origin{"}"}
            clusters:
            - name: origin
              discovery: STATIC
            {clusterBody}
            """.Replace("\n  discovery: STATIC\n  discovery:", "\n  discovery:", StringComparison.Ordinal));
        string[] args = ["proxy", "--config", config, "--admin-port", "0", "--status-port", "0"];

        var (aotCode, aotOutput) = await MeshgateProcess.RunProgramAsync(Binary, new Dictionary<string, string>(), TimeSpan.FromSeconds(30), "", args);
        var (jitCode, jitOutput) = await MeshgateProcess.RunAsync(new Dictionary<string, string>(), TimeSpan.FromSeconds(60), "", args);

        Assert.True(aotCode != 0, $"{what}: meshgate-proxy accepted the configuration:\n{aotOutput}");
        Assert.Equal(jitCode, aotCode);
        Assert.Contains(error, aotOutput, StringComparison.Ordinal);
        Assert.Equal(jitOutput, aotOutput);
    }

    [Fact]
    public async Task Help_SameOptionsAsMeshgateProxy()
    {
        var (aotCode, aot) = await MeshgateProcess.RunProgramAsync(Binary, new Dictionary<string, string>(), TimeSpan.FromSeconds(30), "", "proxy", "--help");
        var (_, jit) = await MeshgateProcess.RunAsync(new Dictionary<string, string>(), TimeSpan.FromSeconds(60), "", "proxy", "--help");

        Assert.Equal(0, aotCode);
        Assert.Contains("--discovery-address", aot, StringComparison.Ordinal);
        Assert.Equal(jit.Replace("meshgate proxy", "meshgate-proxy proxy", StringComparison.Ordinal), aot);
    }

    [GeneratedRegex(@"admin listening on 127\.0\.0\.1:(\d+)")]
    private static partial Regex AdminLine();

    [GeneratedRegex(@"istio_requests_total\{[^}]*response_code=""200""[^}]*\} [1-9]")]
    private static partial Regex CompletedRequests();
}

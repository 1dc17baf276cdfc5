using Meshgate.Core.ProxyConfiguration;
using Meshgate.Proxy;
using Meshgate.Tests.EndToEnd;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace Meshgate.Tests.Forwarding;

/// <summary>
/// An in-process <see cref="ProxyServer"/> on loopback from a YAML snapshot, writing its access log to a file of its
/// own, for tests that drive it with real sockets. <c>{port}</c> in the YAML is the HTTP listener's port; the
/// harness adds the <c>accessLog</c> section.
/// </summary>
internal sealed class ProxyHarness : IAsyncDisposable
{
    private readonly string _dir;

    private ProxyHarness(ProxyServer proxy, string dir, int port)
    {
        Proxy = proxy;
        _dir = dir;
        Port = port;
    }

    public ProxyServer Proxy { get; }

    /// <summary>The first listener's port.</summary>
    public int Port { get; }

    public string AccessLogPath => Path.Combine(_dir, "access.log");

    /// <param name="inlineScheduling">Kestrel runs handlers on the socket threads, as <c>meshgate proxy</c> does by default.</param>
    /// <param name="limits">Connection caps and deadlines; the proxy's defaults when null.</param>
    /// <param name="directHttp1">The direct HTTP/1.1 path on (the default) or every request through YARP.</param>
    /// <param name="eventLoop">The proxy's own event loop (the default where supported) or the runtime's sockets.</param>
    public static async Task<ProxyHarness> StartAsync(string yaml, int? port = null, bool inlineScheduling = false, ProxyLimits? limits = null, bool directHttp1 = true, bool? eventLoop = null)
    {
        var dir = Directory.CreateTempSubdirectory("meshgate-forwarding-").FullName;
        var listenPort = port ?? MeshgateProcess.FreePort();
        var text = yaml.Replace("{port}", listenPort.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal)
            + $"\naccessLog: {{path: \"{Path.Combine(dir, "access.log")}\"}}\n";
        var loaded = ProxyConfigLoader.Load(text, "test.yaml");
        Assert.True(loaded.Config is not null, string.Join('\n', loaded.Errors));
        var proxy = ProxyServer.Create(loaded.Config, NullLoggerFactory.Instance, options: new ProxyOptions
        {
            InlineScheduling = inlineScheduling,
            Limits = limits ?? ProxyLimits.Default,
            DirectHttp1 = directHttp1,
            EventLoop = eventLoop ?? Meshgate.Proxy.EventLoop.EventLoopSupport.EnabledByEnvironment(),
        });
        await proxy.StartAsync();
        return new ProxyHarness(proxy, dir, listenPort);
    }

    /// <summary>As <see cref="StartAsync(string, int?, bool, ProxyLimits?, bool, bool?)"/> for a snapshot already made (a translation's).</summary>
    public static async Task<ProxyHarness> StartAsync(ProxyConfig config, int port)
    {
        var dir = Directory.CreateTempSubdirectory("meshgate-forwarding-").FullName;
        var withLog = config with { AccessLog = new AccessLogSettings { Path = Path.Combine(dir, "access.log") } };
        Assert.Empty(ProxyConfigValidator.Validate(withLog));
        var proxy = ProxyServer.Create(withLog, NullLoggerFactory.Instance, options: new ProxyOptions { Limits = ProxyLimits.Default });
        await proxy.StartAsync();
        return new ProxyHarness(proxy, dir, port);
    }

    /// <summary>
    /// A snapshot with one HTTP listener on <c>{port}</c> that sends every request to one STATIC cluster with one
    /// endpoint on 127.0.0.1, the cluster's <paramref name="clusterTls"/> (a <c>tls:</c> line) and
    /// <paramref name="tail"/> (top-level sections such as <c>secrets:</c>) added.
    /// </summary>
    public static string SingleClusterYaml(int endpointPort, string cluster = "outbound|80||origin.test", string clusterTls = "", string tail = "") => $$"""
        version: v1
        listeners:
        - {name: http, address: 127.0.0.1, port: {port}, protocol: HTTP, defaultFilterChain: {routeTable: http} }
        routeTables:
        - name: http
          virtualHosts:
          - {name: all, domains: ["*"], routes: [ {forward: {clusters: [ {name: "{{cluster}}"} ]} } ]}
        clusters:
        - name: "{{cluster}}"
          discovery: STATIC
          connectTimeout: 1s
          endpoints: [{address: 127.0.0.1, port: {{endpointPort}} }]
          {{clusterTls}}
        {{tail}}
        """;

    /// <summary>The access log once it has at least <paramref name="count"/> lines (10 s deadline).</summary>
    public async Task<string[]> LogLinesAsync(int count)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            var lines = File.Exists(AccessLogPath) ? await ReadSharedAsync() : [];
            if (lines.Length >= count)
            {
                return lines;
            }

            Assert.True(DateTime.UtcNow < deadline, $"expected {count} access-log lines, got {lines.Length}:\n{string.Join('\n', lines)}");
            await Task.Delay(10);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Proxy.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    private async Task<string[]> ReadSharedAsync()
    {
        await using var stream = new FileStream(AccessLogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var reader = new StreamReader(stream);
        var text = await reader.ReadToEndAsync();
        return text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }
}

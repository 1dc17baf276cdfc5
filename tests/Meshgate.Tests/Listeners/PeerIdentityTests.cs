using System.Globalization;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Meshgate.Core.ProxyConfiguration;
using Meshgate.Proxy;
using Meshgate.Proxy.Observability;
using Meshgate.Tests.EndToEnd;
using Meshgate.Tests.Observability;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace Meshgate.Tests.Listeners;

/// <summary>
/// Peer identities over real sockets: a client presenting a certificate with the SPIFFE identity of the sleep workload
/// reaches a gateway chain that terminates mutual TLS; the proxy originates TLS to an origin whose certificate carries
/// an identity of its own. The custom access-log format prints the three identities (%DOWNSTREAM_PEER_URI_SAN%,
/// %DOWNSTREAM_LOCAL_URI_SAN%, %UPSTREAM_PEER_URI_SAN%) and the metrics carry <c>source_principal</c>, for an HTTP
/// request (routed by the chain's route table) and for a TCP relay of the decrypted bytes.
/// </summary>
public sealed class PeerIdentityTests : IAsyncLifetime
{
    private const string Sleep = "spiffe://cluster.local/ns/default/sa/sleep";
    private const string GatewayIdentity = "spiffe://cluster.local/ns/istio-system/sa/istio-egressgateway-service-account";
    private const string OriginIdentity = "spiffe://cluster.local/ns/external/sa/origin";
    private const string Format =
        "%REQ(:METHOD)% %REQ(:PATH)% %RESPONSE_CODE% peer=%DOWNSTREAM_PEER_URI_SAN% local=%DOWNSTREAM_LOCAL_URI_SAN% upstream=%UPSTREAM_PEER_URI_SAN% sni=%REQUESTED_SERVER_NAME%";

    private readonly string _dir = Directory.CreateTempSubdirectory("meshgate-peer-identity-").FullName;
    private readonly int _port = MeshgateProcess.FreePort();
    private readonly SpiffeCertificates _ca = new();
    private X509Certificate2 _client = null!;
    private X509Certificate2 _originCertificate = null!;
    private WebApplication _origin = null!;
    private ProxyServer _proxy = null!;

    private string AccessLogPath => Path.Combine(_dir, "access.log");

    public async Task InitializeAsync()
    {
        _client = _ca.Issue("sleep", [], [Sleep]);
        _originCertificate = _ca.Issue("origin.test", ["origin.test"], [OriginIdentity]);
        using var gateway = _ca.Issue("gw.test", ["gw.test", "tcp.test"], [GatewayIdentity]);
        var originPort = await StartOriginAsync();

        var (gatewayChain, gatewayKey) = SpiffeCertificates.Pem(gateway);
        var yaml = $$"""
            version: v1
            listeners:
            - name: 0.0.0.0_8443
              address: 127.0.0.1
              port: {{_port}}
              protocol: TLS
              filterChains:
              - name: https
                serverNames: [gw.test]
                tls: {mode: MUTUAL, certificateSecret: gw-cert, caSecret: mesh-ca}
                routeTable: https.gw
              - name: tls-tcp
                serverNames: [tcp.test]
                tls: {mode: MUTUAL, certificateSecret: gw-cert, caSecret: mesh-ca}
                cluster: "outbound|443||origin.test"
            routeTables:
            - name: https.gw
              virtualHosts:
              - {name: gw, domains: ["gw.test", "gw.test:{{_port}}"], routes: [ {name: to-origin, forward: {clusters: [ {name: "outbound|443||origin.test"} ]} } ]}
            clusters:
            - name: "outbound|443||origin.test"
              discovery: STATIC
              endpoints: [{address: 127.0.0.1, port: {{originPort}} }]
              tls: {mode: SIMPLE, sni: origin.test, caSecret: mesh-ca}
            secrets:
            - name: gw-cert
              certificateChain: |
            {{Indent(gatewayChain)}}
              privateKey: |
            {{Indent(gatewayKey)}}
            - name: mesh-ca
              trustedCa: |
            {{Indent(_ca.RootPem)}}
            accessLog:
              path: "{{AccessLogPath}}"
              format: "{{Format}}"
            """;
        var loaded = ProxyConfigLoader.Load(yaml, "peer-identity.yaml");
        Assert.True(loaded.Config is not null, string.Join('\n', loaded.Errors));
        _proxy = ProxyServer.Create(loaded.Config, NullLoggerFactory.Instance);
        await _proxy.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _proxy.DisposeAsync();
        await _origin.StopAsync();
        await _origin.DisposeAsync();
        _client.Dispose();
        _originCertificate.Dispose();
        _ca.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task Http_ClientWithSpiffeCertificate_IdentitiesInTheAccessLogAndSourcePrincipalInTheMetrics()
    {
        var response = await RequestAsync("gw.test", "/politics");

        Assert.StartsWith("HTTP/1.1 200 ", response, StringComparison.Ordinal);
        Assert.EndsWith("origin /politics", response, StringComparison.Ordinal);
        var line = Assert.Single(await LogLinesAsync(1));
        Assert.Equal($"GET /politics 200 peer={Sleep} local={GatewayIdentity} upstream={OriginIdentity} sni=gw.test", line);

        var request = Assert.Single(_proxy.Metrics.Requests());
        Assert.Equal(new RequestKey("origin.test", "outbound|443||origin.test", 200, ResponseFlags.None, Sleep), request.Key);
        var sample = Assert.Single(PrometheusText.Parse(Prometheus()).Where("istio_requests_total", ("source_principal", Sleep)));
        Assert.Equal(1, sample.Value);
        Assert.Equal("outbound|443||origin.test", sample.Labels["upstream_cluster"]);
    }

    [Fact]
    public async Task Http_TwoRequestsOnOneConnection_OneSeriesBothCounted()
    {
        var response = await RequestAsync("gw.test", "/one", "/two");

        Assert.Contains("origin /one", response, StringComparison.Ordinal);
        Assert.EndsWith("origin /two", response, StringComparison.Ordinal);
        var lines = await LogLinesAsync(2);
        Assert.All(lines, l => Assert.Contains($" peer={Sleep} ", l, StringComparison.Ordinal));
        Assert.Equal(2, Assert.Single(_proxy.Metrics.Requests()).Count);
    }

    [Fact]
    public async Task Tcp_DecryptedBytesRelayedOverOriginatedTls_IdentitiesLoggedAndCounted()
    {
        var response = await RequestAsync("tcp.test", "/relayed");

        Assert.StartsWith("HTTP/1.1 200 ", response, StringComparison.Ordinal);
        Assert.EndsWith("origin /relayed", response, StringComparison.Ordinal);
        var line = Assert.Single(await LogLinesAsync(1));
        Assert.Equal($"- - 0 peer={Sleep} local={GatewayIdentity} upstream={OriginIdentity} sni=tcp.test", line);

        var samples = PrometheusText.Parse(Prometheus());
        Assert.Equal(1, Assert.Single(samples.Where("istio_tcp_connections_closed_total", ("source_principal", Sleep))).Value);
        Assert.True(Assert.Single(samples.Where("istio_tcp_received_bytes_total", ("source_principal", Sleep))).Value > 0);
    }

    /// <summary>One TLS connection with the sleep certificate, an HTTP/1.1 request per path; the raw responses.</summary>
    private async Task<string> RequestAsync(string serverName, params string[] paths)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, _port);
        await using var tls = new SslStream(tcp.GetStream());
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = serverName,
            ApplicationProtocols = [SslApplicationProtocol.Http11],
            ClientCertificateContext = SslStreamCertificateContext.Create(_client, null),
            RemoteCertificateValidationCallback = (_, _, _, _) => true, // the proxy is under test, not the client
        });
        var request = new StringBuilder();
        for (var i = 0; i < paths.Length; i++)
        {
            request.Append(CultureInfo.InvariantCulture, $"GET {paths[i]} HTTP/1.1\r\nHost: {serverName}\r\n{(i == paths.Length - 1 ? "Connection: close\r\n" : "")}\r\n");
        }

        await tls.WriteAsync(Encoding.ASCII.GetBytes(request.ToString()));

        // Read until the last response is complete (a relay closes once the client does, as curl would after the body).
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var response = new StringBuilder();
        var buffer = new byte[4096];
        var last = "origin " + paths[^1];
        while (!response.ToString().EndsWith(last, StringComparison.Ordinal))
        {
            var read = await tls.ReadAsync(buffer, timeout.Token);
            if (read == 0)
            {
                break;
            }

            response.Append(Encoding.ASCII.GetString(buffer, 0, read));
        }

        return response.ToString();
    }

    private async Task<int> StartOriginAsync()
    {
        var port = MeshgateProcess.FreePort();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port, listen => listen.UseHttps(_originCertificate)));
        _origin = builder.Build();
        _origin.Run(context =>
        {
            var body = "origin " + context.Request.Path.Value;
            context.Response.ContentLength = body.Length;
            return context.Response.WriteAsync(body);
        });
        await _origin.StartAsync();
        return port;
    }

    private string Prometheus()
    {
        using var text = new StringWriter(CultureInfo.InvariantCulture);
        MetricsExposition.WritePrometheus(text, _proxy.Metrics, new ServerStats(SourceLabels.From(null), TimeSpan.Zero, true, 1));
        return text.ToString();
    }

    /// <summary>The access log once it has at least <paramref name="count"/> lines (10 s deadline).</summary>
    private async Task<string[]> LogLinesAsync(int count)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            string[] lines = [];
            if (File.Exists(AccessLogPath))
            {
                await using var stream = new FileStream(AccessLogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                using var reader = new StreamReader(stream);
                lines = (await reader.ReadToEndAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
            }

            if (lines.Length >= count)
            {
                return lines;
            }

            Assert.True(DateTime.UtcNow < deadline, $"expected {count} access-log lines, got {lines.Length}:\n{string.Join('\n', lines)}");
            await Task.Delay(10);
        }
    }

    private static string Indent(string pem) => string.Join("\n", pem.Trim().Split('\n').Select(l => "    " + l));
}

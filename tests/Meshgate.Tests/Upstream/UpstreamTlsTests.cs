using System.IO.Pipelines;
using System.Net;
using Meshgate.Core.ProxyConfiguration;
using Meshgate.Proxy.Listeners;
using Meshgate.Proxy.Observability;
using Meshgate.Proxy.Upstream;
using Meshgate.Tests.EndToEnd;
using Meshgate.Tests.Forwarding;
using Xunit;

namespace Meshgate.Tests.Upstream;

/// <summary>
/// TLS origination (DestinationRule <c>tls.mode: SIMPLE</c>, <c>MUTUAL</c>) against a real nginx TLS origin with a
/// certificate from a throwaway CA: the chain is verified against the cluster's CA secret, the SNI is sent, and a
/// refused handshake is a 503 with UF and the reason in %UPSTREAM_TRANSPORT_FAILURE_REASON%.
/// </summary>
public sealed class UpstreamTlsTests : IAsyncLifetime
{
    private const string OriginName = "origin.test";
    private readonly string _dir = Directory.CreateTempSubdirectory("meshgate-upstream-tls-").FullName;
    private readonly int _originPort = MeshgateProcess.FreePort();
    private readonly int _mutualPort = MeshgateProcess.FreePort();
    private ThrowawayCa _ca = null!;
    private ThrowawayCa _otherCa = null!;
    private string _clientCertificate = null!;
    private string _clientKey = null!;
    private NginxServer _nginx = null!;

    public async Task InitializeAsync()
    {
        _ca = new ThrowawayCa(_dir);
        var otherDir = Directory.CreateDirectory(Path.Combine(_dir, "other")).FullName;
        _otherCa = new ThrowawayCa(otherDir);
        var (certificate, key) = _ca.IssueServer(OriginName, _dir);
        (_clientCertificate, _clientKey) = _ca.IssueClient("client.test", _dir);
        _nginx = await NginxServer.StartAsync(_dir, $$"""
                server {
                    listen 127.0.0.1:{{_originPort}} ssl;
                    ssl_certificate {{certificate}};
                    ssl_certificate_key {{key}};
                    location / { return 200 "sni=$ssl_server_name\n"; }
                }
                server {
                    listen 127.0.0.1:{{_mutualPort}} ssl;
                    ssl_certificate {{certificate}};
                    ssl_certificate_key {{key}};
                    ssl_client_certificate {{_ca.CertificatePath}};
                    ssl_verify_client on;
                    location / { return 200 "client=$ssl_client_s_dn\n"; }
                }
            """, new IPEndPoint(IPAddress.Loopback, _originPort), new IPEndPoint(IPAddress.Loopback, _mutualPort));
    }

    public async Task DisposeAsync()
    {
        await _nginx.DisposeAsync();
        _ca.Dispose();
        _otherCa.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private static string Indent(string pem) => string.Join("\n", pem.Trim().Split('\n').Select(l => "    " + l));

    private string Config(string tls, string caPath, int port) => $$"""
        version: v1
        listeners:
        - {name: http, address: 127.0.0.1, port: {port}, protocol: HTTP, defaultFilterChain: {routeTable: http} }
        routeTables:
        - name: http
          virtualHosts:
          - {name: all, domains: ["*"], routes: [ {forward: {clusters: [ {name: "outbound|443||{{OriginName}}"} ]} } ]}
        clusters:
        - name: "outbound|443||{{OriginName}}"
          discovery: STATIC
          endpoints: [{address: 127.0.0.1, port: {{port}} }]
          tls: {{tls}}
        secrets:
        - name: origin-ca
          trustedCa: |
        {{Indent(File.ReadAllText(caPath))}}
        - name: client
          certificateChain: |
        {{Indent(File.ReadAllText(_clientCertificate))}}
          privateKey: |
        {{Indent(File.ReadAllText(_clientKey))}}
        """;

    [Fact]
    public async Task Simple_ChainFromTheCaSecret_200AndTheServiceHostAsSni()
    {
        await using var proxy = await ProxyHarness.StartAsync(Config("{mode: SIMPLE, caSecret: origin-ca}", _ca.CertificatePath, _originPort));
        using var client = new HttpClient();

        var response = await client.GetAsync($"http://127.0.0.1:{proxy.Port}/tls");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal($"sni={OriginName}\n", await response.Content.ReadAsStringAsync());
        Assert.Contains("\"GET /tls HTTP/1.1\" 200 - via_upstream - \"-\" ", Assert.Single(await proxy.LogLinesAsync(1)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Simple_WrongCa_503UfWithTheTransportFailureReason()
    {
        await using var proxy = await ProxyHarness.StartAsync(Config("{mode: SIMPLE, caSecret: origin-ca}", _otherCa.CertificatePath, _originPort));
        using var client = new HttpClient();

        var response = await client.GetAsync($"http://127.0.0.1:{proxy.Port}/tls");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Contains("transport failure reason: TLS_error:|CERTIFICATE_VERIFY_FAILED", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var line = Assert.Single(await proxy.LogLinesAsync(1));
        Assert.Contains(" 503 UF upstream_reset_before_response_started{connection_failure} - \"TLS_error:|CERTIFICATE_VERIFY_FAILED:TLS_error_end\" ", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Simple_NoCaSecret_SystemRootsRefuseTheThrowawayCa()
    {
        await using var proxy = await ProxyHarness.StartAsync(Config("{mode: SIMPLE}", _ca.CertificatePath, _originPort));
        using var client = new HttpClient();

        var response = await client.GetAsync($"http://127.0.0.1:{proxy.Port}/tls");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Contains("CERTIFICATE_VERIFY_FAILED", Assert.Single(await proxy.LogLinesAsync(1)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Simple_SniOtherThanTheCertificate_RefusedUnlessSubjectAltNamesAllowIt()
    {
        await using (var proxy = await ProxyHarness.StartAsync(Config("{mode: SIMPLE, sni: other.test, caSecret: origin-ca}", _ca.CertificatePath, _originPort)))
        {
            using var client = new HttpClient();
            var response = await client.GetAsync($"http://127.0.0.1:{proxy.Port}/tls");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.Contains("SAN does not match other.test", Assert.Single(await proxy.LogLinesAsync(1)), StringComparison.Ordinal);
        }

        await using (var proxy = await ProxyHarness.StartAsync(Config($"{{mode: SIMPLE, sni: other.test, caSecret: origin-ca, subjectAltNames: [{OriginName}]}}", _ca.CertificatePath, _originPort)))
        {
            using var client = new HttpClient();
            var response = await client.GetAsync($"http://127.0.0.1:{proxy.Port}/tls");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("sni=other.test\n", await response.Content.ReadAsStringAsync());
        }
    }

    [Fact]
    public async Task Relay_TcpBytesOverOriginatedTls_OriginAnswersAndTheClientsFinEndsIt()
    {
        using var state = ClusterWithTls("{mode: SIMPLE, caSecret: origin-ca}", _ca.CertificatePath);
        var toProxy = new Pipe();
        var fromProxy = new Pipe();
        var downstream = new DuplexPipe(toProxy.Reader, fromProxy.Writer);
        await using var upstream = await state.ConnectRelayAsync(new IPEndPoint(IPAddress.Loopback, _originPort), CancellationToken.None);
        Assert.NotNull(upstream.LocalEndPoint);

        var relay = TcpRelay.RunAsync(downstream, upstream.Stream, upstream.HalfClose, TcpMetrics.Discard, CancellationToken.None);
        await toProxy.Writer.WriteAsync("GET /relay HTTP/1.1\r\nHost: origin.test\r\n\r\n"u8.ToArray());
        await toProxy.Writer.CompleteAsync(); // the client's FIN: close_notify and FIN upstream; nginx answers, then closes
        var answer = await new StreamReader(fromProxy.Reader.AsStream()).ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(10));
        var result = await relay.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.StartsWith("HTTP/1.1 200 OK", answer, StringComparison.Ordinal);
        Assert.EndsWith($"sni={OriginName}\n", answer, StringComparison.Ordinal);
        Assert.False(result.UpstreamReset);
    }

    [Fact]
    public async Task Relay_WrongCa_HandshakeRefusedWithTheReason()
    {
        using var state = ClusterWithTls("{mode: SIMPLE, caSecret: origin-ca}", _otherCa.CertificatePath);

        var error = await Assert.ThrowsAsync<UpstreamTlsException>(() => state.ConnectRelayAsync(new IPEndPoint(IPAddress.Loopback, _originPort), CancellationToken.None));

        Assert.Equal("TLS_error:|CERTIFICATE_VERIFY_FAILED:TLS_error_end", error.Reason);
    }

    private ClusterState ClusterWithTls(string tls, string caPath)
    {
        var loaded = ProxyConfigLoader.Load(Config(tls, caPath, _originPort).Replace("{port}", "1", StringComparison.Ordinal), "test.yaml");
        Assert.True(loaded.Config is not null, string.Join('\n', loaded.Errors));
        var config = loaded.Config;
        return new ClusterState(config.Clusters[0], new EndpointResolver(new SystemLookup(), TimeProvider.System), config.Secrets.ToDictionary(s => s.Name));
    }

    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }

    [Fact]
    public async Task Mutual_ClientCertificateFromTheSecret_OriginSeesIt()
    {
        await using var proxy = await ProxyHarness.StartAsync(Config("{mode: MUTUAL, caSecret: origin-ca, certificateSecret: client}", _ca.CertificatePath, _mutualPort));
        using var client = new HttpClient();

        var response = await client.GetAsync($"http://127.0.0.1:{proxy.Port}/mutual");

        Assert.Equal("client=CN=client.test\n", await response.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}

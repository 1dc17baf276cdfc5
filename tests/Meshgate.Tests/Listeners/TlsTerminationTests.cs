using System.Net;
using Meshgate.Core.ProxyConfiguration;
using Meshgate.Proxy.Listeners;
using Meshgate.Tests.EndToEnd;
using Meshgate.Tests.Forwarding;
using Meshgate.Tests.Proxy;
using Microsoft.AspNetCore.Http;
using Xunit;

namespace Meshgate.Tests.Listeners;

/// <summary>
/// TLS termination on a TLS listener (an Istio Gateway server with <c>tls.mode: SIMPLE</c> or <c>MUTUAL</c>): real curl
/// with <c>--cacert</c> of a throwaway CA, the proxy presenting the chain's certificate, requests routed by the chain's
/// route table to a real HTTP origin over HTTP/1.1 and HTTP/2 (ALPN h2); client certificates for MUTUAL; an SNI no chain
/// takes is closed; a passthrough chain on the same listener still relays the TLS bytes untouched (to nginx).
/// </summary>
public sealed class TlsTerminationTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("meshgate-tls-termination-").FullName;
    private readonly int _passthroughPort = MeshgateProcess.FreePort();
    private ThrowawayCa _ca = null!;
    private HttpOrigin _origin = null!;
    private NginxServer _nginx = null!;
    private ProxyHarness _proxy = null!;
    private (string Certificate, string Key) _client;
    private (string Certificate, string Key) _intruder;

    public async Task InitializeAsync()
    {
        _ca = new ThrowawayCa(_dir);
        var gateway = _ca.IssueServer("gw.test", _dir);
        var mutual = _ca.IssueServer("mtls.test", _dir);
        var passthrough = _ca.IssueServer("pass.test", _dir);
        var mesh = _ca.IssueServer("mesh.test", _dir);
        var tcp = _ca.IssueServer("tcp.test", _dir);
        _client = _ca.IssueClient("client.test", _dir);
        _intruder = _ca.IssueClient("intruder.test", _dir);
        _origin = await HttpOrigin.StartAsync(context =>
        {
            var body = $"origin {context.Request.Host.Value} {context.Request.Path.Value}\n";
            context.Response.ContentLength = body.Length;
            return context.Response.WriteAsync(body);
        });
        _nginx = await NginxServer.StartAsync(_dir, $$"""
                server {
                    listen 127.0.0.1:{{_passthroughPort}} ssl;
                    ssl_certificate {{passthrough.Certificate}};
                    ssl_certificate_key {{passthrough.Key}};
                    location / { return 200 "nginx sni=$ssl_server_name\n"; }
                }
            """, new IPEndPoint(IPAddress.Loopback, _passthroughPort));
        _proxy = await ProxyHarness.StartAsync($$"""
            version: v1
            listeners:
            - name: 0.0.0.0_8443
              address: 127.0.0.1
              port: {port}
              protocol: TLS
              filterChains:
              - name: https
                serverNames: [gw.test]
                tls: {mode: SIMPLE, certificateSecret: gw-cert}
                routeTable: https.gw
              - name: mutual
                serverNames: [mtls.test]
                tls: {mode: MUTUAL, certificateSecret: mtls-cert, caSecret: client-ca, subjectAltNames: [client.test]}
                routeTable: https.gw
              - name: mesh
                serverNames: [mesh.test]
                tls: {mode: ISTIO_MUTUAL}
                routeTable: https.gw
              - name: tls-tcp
                serverNames: [tcp.test]
                tls: {mode: SIMPLE, certificateSecret: tcp-cert}
                cluster: "outbound|80||origin.test"
              - name: passthrough
                serverNames: [pass.test]
                cluster: "outbound|443||pass.test"
            routeTables:
            - name: https.gw
              virtualHosts:
              - {name: gw, domains: ["gw.test", "gw.test:{port}", "mtls.test", "mtls.test:{port}", "mesh.test:{port}"], routes: [ {name: to-origin, forward: {clusters: [ {name: "outbound|80||origin.test"} ]} } ]}
            clusters:
            - name: "outbound|80||origin.test"
              discovery: STATIC
              endpoints: [{address: 127.0.0.1, port: {{_origin.Port}} }]
            - name: "outbound|443||pass.test"
              discovery: STATIC
              endpoints: [{address: 127.0.0.1, port: {{_passthroughPort}} }]
            secrets:
            - name: gw-cert
              certificateChain: |
            {{Indent(File.ReadAllText(gateway.Certificate))}}
              privateKey: |
            {{Indent(File.ReadAllText(gateway.Key))}}
            - name: mtls-cert
              certificateChain: |
            {{Indent(File.ReadAllText(mutual.Certificate))}}
              privateKey: |
            {{Indent(File.ReadAllText(mutual.Key))}}
            - name: tcp-cert
              certificateChain: |
            {{Indent(File.ReadAllText(tcp.Certificate))}}
              privateKey: |
            {{Indent(File.ReadAllText(tcp.Key))}}
            - name: client-ca
              trustedCa: |
            {{Indent(File.ReadAllText(_ca.CertificatePath))}}
            - name: default
              certificateChain: |
            {{Indent(File.ReadAllText(mesh.Certificate))}}
              privateKey: |
            {{Indent(File.ReadAllText(mesh.Key))}}
            - name: ROOTCA
              trustedCa: |
            {{Indent(File.ReadAllText(_ca.CertificatePath))}}
            """);
    }

    public async Task DisposeAsync()
    {
        await _proxy.DisposeAsync();
        await _nginx.DisposeAsync();
        await _origin.DisposeAsync();
        _ca.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private static void Has(string line, string part) => Assert.True(line.Contains(part, StringComparison.Ordinal), $"expected {part} in the access-log line:\n{line}");

    private static string Indent(string pem) => string.Join("\n", pem.Trim().Split('\n').Select(l => "    " + l));

    private Task<(int Code, string Output)> CurlAsync(string host, params string[] args) =>
        Curl.RunAsync([
            "-sS", "--cacert", _ca.CertificatePath, "--resolve", $"{host}:{_proxy.Port}:127.0.0.1",
            "-w", "%{http_code} %{http_version}\n", .. args, $"https://{host}:{_proxy.Port}/path",
        ]);

    [Fact]
    public async Task Simple_Http11_TerminatedAndRoutedByTheChainsRouteTable()
    {
        var (code, output) = await CurlAsync("gw.test", "--http1.1");

        Assert.True(code == 0, output);
        Assert.Equal($"origin gw.test:{_proxy.Port} /path\n200 1.1\n", output);
        var line = Assert.Single(await _proxy.LogLinesAsync(1));
        Has(line, "\"GET /path HTTP/1.1\" 200 - via_upstream - \"-\" ");
        Has(line, " outbound|80||origin.test ");
        Has(line, " gw.test to-origin");
    }

    [Fact]
    public async Task Simple_Http2ByAlpn_Answers()
    {
        var (code, output) = await CurlAsync("gw.test", "--http2");

        Assert.True(code == 0, output);
        Assert.Equal($"origin gw.test:{_proxy.Port} /path\n200 2\n", output);
        var line = Assert.Single(await _proxy.LogLinesAsync(1));
        Has(line, "\"GET /path HTTP/2\" 200 - via_upstream - \"-\" ");
        Has(line, " gw.test to-origin");
    }

    [Fact]
    public async Task Simple_SeveralRequestsOnOneConnection()
    {
        var (code, output) = await Curl.RunAsync(
            "-sS", "--cacert", _ca.CertificatePath, "--resolve", $"gw.test:{_proxy.Port}:127.0.0.1", "--http2",
            "-w", "%{http_code}\n", $"https://gw.test:{_proxy.Port}/one", $"https://gw.test:{_proxy.Port}/two");

        Assert.True(code == 0, output);
        Assert.Equal($"origin gw.test:{_proxy.Port} /one\n200\norigin gw.test:{_proxy.Port} /two\n200\n", output);
        Assert.Equal(2, (await _proxy.LogLinesAsync(2)).Length);
    }

    [Fact]
    public async Task UnknownSni_ClosedAndLoggedAsNoFilterChain()
    {
        var (code, output) = await CurlAsync("other.test");

        Assert.NotEqual(0, code);
        Assert.DoesNotContain("origin", output, StringComparison.Ordinal);
        var line = Assert.Single(await _proxy.LogLinesAsync(1));
        Has(line, "\"- - -\" 0 NR filter_chain_not_found");
        Has(line, " other.test ");
    }

    [Fact]
    public async Task Mutual_NoClientCertificate_HandshakeRefused()
    {
        var (code, output) = await CurlAsync("mtls.test");

        Assert.NotEqual(0, code);
        Assert.DoesNotContain("origin", output, StringComparison.Ordinal);
        var line = Assert.Single(await _proxy.LogLinesAsync(1));
        Has(line, "\"- - -\" 0 DPE - TLS_error:|PEER_DID_NOT_RETURN_A_CERTIFICATE:TLS_error_end ");
        Has(line, " mtls.test ");
    }

    [Fact]
    public async Task Mutual_ClientCertificateFromTheCa_200()
    {
        var (code, output) = await CurlAsync("mtls.test", "--cert", _client.Certificate, "--key", _client.Key);

        Assert.True(code == 0, output);
        Assert.Equal($"origin mtls.test:{_proxy.Port} /path\n200 2\n", output);
        Has(Assert.Single(await _proxy.LogLinesAsync(1)), " mtls.test to-origin");
    }

    [Fact]
    public async Task Mutual_ClientCertificateWithoutAnAllowedSan_Refused()
    {
        var (code, output) = await CurlAsync("mtls.test", "--cert", _intruder.Certificate, "--key", _intruder.Key);

        Assert.NotEqual(0, code);
        Assert.DoesNotContain("origin", output, StringComparison.Ordinal);
        Has(Assert.Single(await _proxy.LogLinesAsync(1)), "0 DPE - TLS_error:|CERTIFICATE_VERIFY_FAILED:verify_cert_failed:_verify_SAN_list:TLS_error_end ");
    }

    [Fact]
    public async Task IstioMutual_TheMeshSecretsDefaultAndRootCa()
    {
        var (refused, _) = await CurlAsync("mesh.test");
        var (code, output) = await CurlAsync("mesh.test", "--cert", _client.Certificate, "--key", _client.Key);

        Assert.NotEqual(0, refused);
        Assert.True(code == 0, output);
        Assert.Equal($"origin mesh.test:{_proxy.Port} /path\n200 2\n", output);
        var lines = await _proxy.LogLinesAsync(2);
        Assert.Contains(lines, l => l.Contains("0 DPE - TLS_error:|PEER_DID_NOT_RETURN_A_CERTIFICATE:TLS_error_end ", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains(" mesh.test to-origin", StringComparison.Ordinal));
    }

    [Fact]
    public async Task DomainFronting_MutualComparesSniAndHost_IstioMutualIsTheMeshsOwnHop()
    {
        // The route table takes both hosts: only the fronting check tells the answers apart.
        var (mutualCode, mutual) = await CurlAsync("mtls.test", "--cert", _client.Certificate, "--key", _client.Key, "-H", "Host: gw.test");
        var (meshCode, mesh) = await CurlAsync("mesh.test", "--cert", _client.Certificate, "--key", _client.Key, "-H", "Host: gw.test");

        Assert.True(mutualCode == 0 && meshCode == 0, mutual + mesh);
        Assert.EndsWith("421 2\n", mutual, StringComparison.Ordinal);
        Assert.Equal("origin gw.test /path\n200 2\n", mesh);
        var lines = await _proxy.LogLinesAsync(2);
        Assert.Contains(lines, l => l.Contains("421 DFB domain_fronting_blocked{sni_host} ", StringComparison.Ordinal) && l.EndsWith(" mtls.test -", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains(" 200 - via_upstream ", StringComparison.Ordinal) && l.EndsWith(" mesh.test to-origin", StringComparison.Ordinal));
    }

    [Fact]
    public void IstioMutual_WithoutTheMeshSecrets_EveryHandshakeRefusedSayingWhich()
    {
        var context = DownstreamTlsContext.Create(new DownstreamTls { Mode = TlsMode.IstioMutual }, new Dictionary<string, Secret>());

        Assert.Equal("filter chain tls.certificateSecret: no secret named \"default\" in the snapshot's secrets; add it (ISTIO_MUTUAL needs \"default\" and \"ROOTCA\")", context.Unusable);
    }

    [Fact]
    public async Task SimpleWithACluster_DecryptedBytesRelayedAsTcp()
    {
        var (code, output) = await CurlAsync("tcp.test");

        Assert.True(code == 0, output);
        Assert.Equal($"origin tcp.test:{_proxy.Port} /path\n200 1.1\n", output);
        var line = Assert.Single(await _proxy.LogLinesAsync(1));
        Has(line, "\"- - -\" 0 - - - ");
        Has(line, " outbound|80||origin.test ");
        Has(line, " tcp.test -");
    }

    [Fact]
    public async Task Passthrough_OnTheSameListener_StillRelaysTheTlsBytes()
    {
        var (code, output) = await CurlAsync("pass.test");

        Assert.True(code == 0, output);
        Assert.Equal("nginx sni=pass.test\n200 1.1\n", output);
        var line = Assert.Single(await _proxy.LogLinesAsync(1));
        Has(line, "\"- - -\" 0 - - - ");
        Has(line, " outbound|443||pass.test ");
    }
}

using System.Globalization;
using System.Net;
using Grpc.Core;
using Grpc.Net.Client;
using Meshgate.Core.ProxyConfiguration;
using Meshgate.Proxy.Identity;
using Meshgate.Tests.Forwarding;
using Meshgate.Tests.Listeners;
using Meshgate.Tests.Proxy;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Xunit;

namespace Meshgate.Tests.Upstream;

/// <summary>
/// HTTP/2 to the upstream, over real sockets: a cluster with <c>http2</c> (a GRPC, GRPC-WEB or HTTP2 port) speaks h2c
/// with prior knowledge, or h2 by ALPN when it originates TLS, so real gRPC calls (unary, server streaming, a status in
/// the trailers) pass through intact; an ISTIO_MUTUAL cluster offers h2 and http/1.1 and speaks what the server
/// chooses (a Meshgate gateway's terminating chain: HTTP/2); a REFUSED_STREAM is retried under <c>refused-stream</c>.
/// </summary>
public sealed class Http2UpstreamTests : IDisposable
{
    private readonly SpiffeCertificates _ca = new();

    public void Dispose() => _ca.Dispose();

    private static string Config(int originPort, string tls = "", string retries = "", string secrets = "") => $$"""
        version: v1
        listeners:
        - {name: http, address: 127.0.0.1, port: {port}, protocol: HTTP, defaultFilterChain: {routeTable: http} }
        routeTables:
        - name: http
          virtualHosts:
          - {name: all, domains: ["*"], routes: [ {name: grpc, forward: {clusters: [ {name: "outbound|50051||grpc.test"} ] {{retries}} } } ]}
        clusters:
        - {name: "outbound|50051||grpc.test", discovery: STATIC, http2: true, endpoints: [{address: 127.0.0.1, port: {{originPort}} }] {{tls}} }
        {{secrets}}
        """;

    private string CaSecret => $$"""
        secrets:
        - name: test-ca
          trustedCa: |
        {{Indent(_ca.RootPem)}}
        """;

    private static string Indent(string pem) => string.Join("\n", pem.Trim().Split('\n').Select(l => "    " + l));

    private static GrpcChannel Channel(int port) => GrpcChannel.ForAddress($"http://127.0.0.1:{port}");

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Grpc_UnaryAndServerStreaming_ThroughTheProxy_StatusOkAndMessagesIntact(bool tls)
    {
        using var certificate = _ca.Issue("grpc.test", ["grpc.test"], []);
        await using var origin = await GrpcOrigin.StartAsync(tls ? certificate : null);
        await using var proxy = await ProxyHarness.StartAsync(tls
            ? Config(origin.Port, ", tls: {mode: SIMPLE, sni: grpc.test, caSecret: test-ca}", secrets: CaSecret)
            : Config(origin.Port));
        using var channel = Channel(proxy.Port);
        var invoker = channel.CreateCallInvoker();

        var echoed = await invoker.AsyncUnaryCall(GrpcOrigin.Unary, null, new CallOptions(), "hello"u8.ToArray());
        Assert.Equal("echo:hello"u8.ToArray(), echoed);

        using var call = invoker.AsyncServerStreamingCall(GrpcOrigin.Stream, null, new CallOptions(), [20]);
        var messages = new List<byte[]>();
        while (await call.ResponseStream.MoveNext(CancellationToken.None))
        {
            messages.Add(call.ResponseStream.Current);
        }

        Assert.Equal(20, messages.Count);
        for (var i = 0; i < messages.Count; i++)
        {
            Assert.Equal(Enumerable.Repeat((byte)i, i + 1), messages[i]);
        }

        Assert.Equal(StatusCode.OK, call.GetStatus().StatusCode);
        Assert.Equal("20", call.GetTrailers().GetValue("x-sent"));
        var lines = await proxy.LogLinesAsync(2);
        Assert.Contains("\"POST /meshgate.test.Echo/Unary HTTP/2\" 200 - via_upstream ", lines[0], StringComparison.Ordinal);
        Assert.Contains("\"POST /meshgate.test.Echo/Stream HTTP/2\" 200 - via_upstream ", lines[1], StringComparison.Ordinal);
        Assert.Contains(" outbound|50051||grpc.test 127.0.0.1:", lines[1], StringComparison.Ordinal); // %UPSTREAM_LOCAL_ADDRESS% of the h2 connection
    }

    [Fact]
    public async Task Grpc_ErrorStatusInTheTrailersAfterMessages_PassedThrough()
    {
        await using var origin = await GrpcOrigin.StartAsync();
        await using var proxy = await ProxyHarness.StartAsync(Config(origin.Port));
        using var channel = Channel(proxy.Port);
        using var call = channel.CreateCallInvoker().AsyncServerStreamingCall(GrpcOrigin.Stream, null, new CallOptions(), [3, 1]);

        var received = 0;
        var error = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            while (await call.ResponseStream.MoveNext(CancellationToken.None))
            {
                received++;
            }
        });

        Assert.Equal(3, received);
        Assert.Equal(StatusCode.NotFound, error.StatusCode);
        Assert.Equal("gone", error.Status.Detail);
        Assert.Equal("3", call.GetTrailers().GetValue("x-sent"));
    }

    [Fact]
    public async Task Http2Cluster_PlainHttpOrigin_ReceivesHttp2FromAnHttp11Client()
    {
        await using var origin = await HttpOrigin.StartAsync(
            context => context.Response.WriteAsync(context.Request.Protocol),
            kestrel => kestrel.ConfigureEndpointDefaults(listen => listen.Protocols = HttpProtocols.Http2));
        await using var proxy = await ProxyHarness.StartAsync(Config(origin.Port));
        using var client = new HttpClient();

        Assert.Equal("HTTP/2", await client.GetStringAsync($"http://127.0.0.1:{proxy.Port}/"));
        Assert.Contains("\"GET / HTTP/1.1\" 200 - via_upstream ", Assert.Single(await proxy.LogLinesAsync(1)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RefusedStream_ListedInRetryOn_RetriedAndAnswered()
    {
        // SocketsHttpHandler itself sends a refused request again a few times; refuse more often than that.
        const int Refused = 6;
        await using var origin = new RefusingHttp2Origin(Refused);
        await using var proxy = await ProxyHarness.StartAsync(Config(origin.Port, retries: ", retries: {attempts: 5, retryOn: [refused-stream]}"));
        using var client = new HttpClient();

        var response = await client.GetAsync($"http://127.0.0.1:{proxy.Port}/refused");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(Refused + 1, origin.Streams);
        Assert.Contains("\"GET /refused HTTP/1.1\" 200 - via_upstream ", Assert.Single(await proxy.LogLinesAsync(1)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RefusedStream_NotListed_503UrWithEnvoysDetails()
    {
        await using var origin = new RefusingHttp2Origin(int.MaxValue);
        await using var proxy = await ProxyHarness.StartAsync(Config(origin.Port, retries: ", retries: {attempts: 2, retryOn: [connect-failure]}"));
        using var client = new HttpClient();

        var response = await client.GetAsync($"http://127.0.0.1:{proxy.Port}/refused");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("upstream connect error or disconnect/reset before headers. reset reason: remote refused stream reset", await response.Content.ReadAsStringAsync());
        Assert.Contains(" 503 UR upstream_reset_before_response_started{remote_refused_stream_reset} ", Assert.Single(await proxy.LogLinesAsync(1)), StringComparison.Ordinal);
    }

    private const string SleepIdentity = "spiffe://cluster.local/ns/default/sa/sleep";
    private const string GatewayIdentity = "spiffe://cluster.local/ns/istio-system/sa/istio-egressgateway-service-account";

    private WorkloadSecrets Workload(string name, string identity)
    {
        using var certificate = _ca.Issue(name, [], [identity]);
        var (chain, key) = SpiffeCertificates.Pem(certificate);
        return new WorkloadSecrets(
            new Secret { Name = Secret.Default, CertificateChain = chain, PrivateKey = key },
            new Secret { Name = Secret.RootCa, TrustedCa = _ca.RootPem },
            identity,
            certificate.SerialNumber,
            certificate.NotBefore,
            certificate.NotAfter);
    }

    private static string Sidecar(int gatewayPort) => $$"""
        version: v1
        listeners:
        - {name: http, address: 127.0.0.1, port: {port}, protocol: HTTP, defaultFilterChain: {routeTable: http} }
        routeTables:
        - name: http
          virtualHosts:
          - {name: all, domains: ["*"], routes: [ {name: to-gateway, forward: {clusters: [ {name: "outbound|80|cnn|istio-egressgateway.istio-system.svc.cluster.local"} ]} } ]}
        clusters:
        - name: "outbound|80|cnn|istio-egressgateway.istio-system.svc.cluster.local"
          discovery: STATIC
          endpoints: [{address: 127.0.0.1, port: {{gatewayPort}} }]
          tls: {mode: ISTIO_MUTUAL, sni: edition.cnn.com}
        """;

    [Fact]
    public async Task IstioMutual_ToAGatewaysTerminatingChain_OffersH2AndTheGatewayLogsHttp2()
    {
        await using var origin = await HttpOrigin.StartAsync(context => context.Response.WriteAsync($"origin saw {context.Request.Protocol}"));
        await using var gateway = await ProxyHarness.StartAsync($$"""
            version: v1
            listeners:
            - name: 0.0.0.0_8080
              address: 127.0.0.1
              port: {port}
              protocol: TLS
              filterChains:
              - {name: https, serverNames: [edition.cnn.com], tls: {mode: ISTIO_MUTUAL}, routeTable: https.80.https.istio-egressgateway.default}
            routeTables:
            - name: https.80.https.istio-egressgateway.default
              virtualHosts:
              - {name: "edition.cnn.com:80", domains: ["edition.cnn.com"], routes: [ {name: to-origin, forward: {clusters: [ {name: "outbound|80||edition.cnn.com"} ]} } ]}
            clusters:
            - {name: "outbound|80||edition.cnn.com", discovery: STATIC, endpoints: [{address: 127.0.0.1, port: {{origin.Port}} }]}
            """);
        await gateway.Proxy.SetWorkloadSecretsAsync(Workload("gateway", GatewayIdentity));
        await using var sidecar = await ProxyHarness.StartAsync(Sidecar(gateway.Port));
        await sidecar.Proxy.SetWorkloadSecretsAsync(Workload("sleep", SleepIdentity));
        using var client = new HttpClient();

        for (var i = 0; i < 2; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"http://127.0.0.1:{sidecar.Port}/politics");
            request.Headers.Host = "edition.cnn.com";
            var response = await client.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("origin saw HTTP/1.1", await response.Content.ReadAsStringAsync()); // the gateway's own hop stays HTTP/1.1
        }

        // As the page's gateway log: "GET /politics HTTP/2" 200, from the sleep workload over mutual TLS.
        var lines = await gateway.LogLinesAsync(2);
        Assert.All(lines, line => Assert.Contains("\"GET /politics HTTP/2\" 200 - via_upstream ", line, StringComparison.Ordinal));
        var sent = await sidecar.LogLinesAsync(2);
        Assert.All(sent, line => Assert.Contains(
            string.Create(CultureInfo.InvariantCulture, $"\"127.0.0.1:{gateway.Port}\" outbound|80|cnn|istio-egressgateway.istio-system.svc.cluster.local 127.0.0.1:"),
            line,
            StringComparison.Ordinal));
    }

    [Fact]
    public async Task IstioMutual_ServerChoosesHttp11_RequestsGoAsHttp11()
    {
        using var certificate = _ca.Issue("origin", [], [GatewayIdentity]);
        var connections = 0;
        await using var origin = await HttpOrigin.StartAsync(
            context => context.Response.WriteAsync($"origin saw {context.Request.Protocol}"),
            kestrel => kestrel.ConfigureEndpointDefaults(listen =>
            {
                listen.Protocols = HttpProtocols.Http1;
                listen.Use(next => connection =>
                {
                    Interlocked.Increment(ref connections);
                    return next(connection);
                });
                listen.UseHttps(new HttpsConnectionAdapterOptions { ServerCertificate = certificate, ClientCertificateMode = ClientCertificateMode.AllowCertificate, ClientCertificateValidation = (_, _, _) => true });
            }));
        await using var sidecar = await ProxyHarness.StartAsync(Sidecar(origin.Port));
        await sidecar.Proxy.SetWorkloadSecretsAsync(Workload("sleep", SleepIdentity));
        using var client = new HttpClient();

        for (var i = 0; i < 3; i++)
        {
            var response = await client.GetAsync($"http://127.0.0.1:{sidecar.Port}/politics");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("origin saw HTTP/1.1", await response.Content.ReadAsStringAsync());
        }

        // The connection opened offering h2 carries the requests as HTTP/1.1, once the server chose http/1.1.
        Assert.Equal(1, Volatile.Read(ref connections));
        Assert.All(await sidecar.LogLinesAsync(3), line => Assert.Contains(" 200 - via_upstream ", line, StringComparison.Ordinal));
    }
}

using System.Text;
using Xunit;

namespace Meshgate.Tests.EndToEnd;

/// <summary>
/// Identity on every egress hop, with the seed's own configuration: in its plain HTTP flow and its TLS-passthrough flow
/// the sidecar → gateway hop is the mesh's mutual TLS (a packet capture on it sees a TLS handshake offering ALPN
/// <c>istio</c>, never the request nor the application's ClientHello), and the gateway logs and counts the sender's
/// SPIFFE identity; DestinationRule <c>tls.mode: DISABLE</c> turns it off, and <c>analyze</c> says so (MG0016).
/// </summary>
[Collection(SeedMeshCollection.Name)]
public sealed class MeshTunnelSeedTests(SeedMesh mesh)
{
    private const string Gateway = "istio=egressgateway";
    private const string Sleep = "spiffe://cluster.local/ns/default/sa/sleep";

    // Istio's default format is what the seed shows; this one adds the peer so the test can read it from the log.
    private const string Format = "[%START_TIME%] \\\"%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%\\\" %RESPONSE_CODE% %UPSTREAM_CLUSTER% peer=%DOWNSTREAM_PEER_URI_SAN%\\n";

    [Fact]
    public async Task SeedHttpFlow_SidecarToGatewayHop_IsMutualTlsAndTheGatewayLogsTheSender()
    {
        try
        {
            await SetMeshConfigAsync($"accessLogFile: /dev/stdout\naccessLogFormat: \"{Format}\"");
            await mesh.ApplySeedAsync("http-serviceentry.yaml");
            await mesh.ApplySeedAsync("http-istio-gateway-destinationrule.yaml");
            await mesh.ApplySeedAsync("http-istio-virtualservice.yaml");
            var before = (await mesh.AccessLogAsync(Gateway, "istio-system")).Count;

            var (toGateway, fromGateway) = await CaptureAsync(8080, "http://edition.cnn.com/politics");
            AssertTunnel(toGateway, fromGateway, "GET /politics");
            var line = await mesh.AccessLogLineAsync(Gateway, "istio-system", "outbound|80||edition.cnn.com", before);
            Assert.EndsWith($"\"GET /politics\" 301 outbound|80||edition.cnn.com peer={Sleep}", line);
            Assert.Contains($"source_principal=\"{Sleep}\"", await GatewayMetricsAsync());

            // Said explicitly, the hop is plaintext: the request crosses it in the clear, and analyze says why.
            var disabled = File.ReadAllText(Path.Combine(TestPaths.TestData, "Seed", "http-istio-gateway-destinationrule.yaml"))
                .Replace("  subsets:\n", "  trafficPolicy:\n    tls:\n      mode: DISABLE\n  subsets:\n", StringComparison.Ordinal);
            await mesh.CliWithStdinAsync(disabled, "apply", "-f", "-");
            await mesh.WaitSyncedAsync();
            var (plainTo, _) = await CaptureAsync(8080, "http://edition.cnn.com/politics");
            var plain = Text(plainTo);
            Assert.True(plainTo.Count > 0 && plainTo[0][0] != 0x16, "the hop should start in the clear");
            Assert.True(plain.StartsWith("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", StringComparison.Ordinal), plain); // h2c to the gateway's http2 port, in the clear
            Assert.Contains("MG0016", await mesh.CliAsync("analyze", "-A"));
        }
        finally
        {
            await CleanupAsync();
        }
    }

    [Fact]
    public async Task SeedPassthroughFlow_ApplicationTlsRidesInsideTheMeshTls_GatewayLogsTheSender()
    {
        try
        {
            await SetMeshConfigAsync($"accessLogFile: /dev/stdout\naccessLogFormat: \"{Format}\"");
            await mesh.ApplySeedAsync("https-serviceentry.yaml");
            await mesh.ApplySeedAsync("https-istio-gateway-destinationrule-virtualservice.yaml");
            var before = (await mesh.AccessLogAsync(Gateway, "istio-system")).Count;

            // The application's ClientHello names edition.cnn.com in the clear; on the hop only the mesh's handshake shows.
            var (toGateway, fromGateway) = await CaptureAsync(8443, "https://edition.cnn.com/politics");
            AssertTunnel(toGateway, fromGateway, "edition.cnn.com");
            var line = await mesh.AccessLogLineAsync(Gateway, "istio-system", "outbound|443||edition.cnn.com", before);
            Assert.EndsWith($"\"- -\" 0 outbound|443||edition.cnn.com peer={Sleep}", line);
            Assert.Matches($"istio_tcp_connections_opened_total\\{{[^}}]*source_principal=\"{Sleep}\"", await GatewayMetricsAsync());
        }
        finally
        {
            await CleanupAsync();
        }
    }

    /// <summary>
    /// Plain TCP through the egress gateway (a port added to its Service, a Gateway server of protocol TCP, mesh and
    /// gateway tcp routes): the application's bytes ride inside the tunnel, the gateway's TCP listener unwraps it,
    /// relays them to a real echo server, and counts the connection under the sender's identity.
    /// </summary>
    [Fact]
    public async Task TcpThroughTheGateway_WrappedToo_TheGatewayCountsTheSender()
    {
        const string Host = "tcp-echo.example.test";
        const string Address = "127.0.0.84";
        const int Port = 7070;
        using var echo = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Parse(Address), Port);
        echo.Start();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var serving = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                using var client = await echo.AcceptTcpClientAsync(stop.Token);
                var stream = client.GetStream();
                var buffer = new byte[1024];
                int read;
                while ((read = await stream.ReadAsync(buffer, stop.Token)) > 0)
                {
                    await stream.WriteAsync(buffer.AsMemory(0, read), stop.Token);
                }
            }
        });
        await mesh.Dns.SetAsync(Host, Address);

        // The egress gateway's Service gets the port, as an operator adds it to the gateway's install values.
        var service = System.Text.Json.Nodes.JsonNode.Parse(await mesh.CliAsync("get", "svc", "istio-egressgateway", "-n", "istio-system", "-o", "json"))!;
        var original = service.ToJsonString();
        service["spec"]!["ports"]!.AsArray().Add(new System.Text.Json.Nodes.JsonObject { ["name"] = "tcp-echo", ["port"] = Port, ["targetPort"] = Port, ["protocol"] = "TCP" });
        var yaml = $$"""
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata:
              name: tcp-echo
            spec:
              hosts: [{{Host}}]
              ports: [{number: {{Port}}, name: tcp, protocol: TCP}]
              resolution: DNS
            ---
            apiVersion: networking.istio.io/v1
            kind: Gateway
            metadata:
              name: tcp-egress
            spec:
              selector: {istio: egressgateway}
              servers:
              - port: {number: {{Port}}, name: tcp, protocol: TCP}
                hosts: [{{Host}}]
            ---
            apiVersion: networking.istio.io/v1
            kind: DestinationRule
            metadata:
              name: egressgateway-for-tcp-echo
            spec:
              host: istio-egressgateway.istio-system.svc.cluster.local
              subsets: [{name: tcp-echo}]
            ---
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata:
              name: tcp-echo-through-egress-gateway
            spec:
              hosts: [{{Host}}]
              gateways: [mesh, tcp-egress]
              tcp:
              - match: [{gateways: [mesh], port: {{Port}}}]
                route:
                - destination:
                    host: istio-egressgateway.istio-system.svc.cluster.local
                    subset: tcp-echo
                    port: {number: {{Port}}}
              - match: [{gateways: [tcp-egress], port: {{Port}}}]
                route:
                - destination:
                    host: {{Host}}
                    port: {number: {{Port}}}
            """;
        try
        {
            await mesh.CliWithStdinAsync(service.ToJsonString(), "apply", "-f", "-");
            await mesh.CliWithStdinAsync(yaml, "apply", "-f", "-");
            await mesh.WaitSyncedAsync();

            // The application: CONNECT through the explicit sidecar, then its own bytes.
            using var client = new System.Net.Sockets.TcpClient();
            await client.ConnectAsync(mesh.ProxyIp, 15001);
            var stream = client.GetStream();
            await stream.WriteAsync(Encoding.ASCII.GetBytes($"CONNECT {Host}:{Port} HTTP/1.1\r\nHost: {Host}:{Port}\r\n\r\n"));
            Assert.StartsWith("HTTP/1.1 200", await ReadUntilAsync(stream, "\r\n\r\n"));
            await stream.WriteAsync(Encoding.ASCII.GetBytes("hello through the tunnel"));
            Assert.Equal("hello through the tunnel", await ReadUntilAsync(stream, "tunnel"));
            client.Close();

            var counted = "istio_tcp_connections_opened_total\\{(?=[^}]*destination_service=\"" + Host + "\")(?=[^}]*source_principal=\"" + Sleep + "\")";
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
            while (!System.Text.RegularExpressions.Regex.IsMatch(await GatewayMetricsAsync(), counted))
            {
                Assert.True(DateTime.UtcNow < deadline, await GatewayMetricsAsync());
                await Task.Delay(200);
            }
        }
        finally
        {
            await mesh.CliWithStdinAsync(yaml, "delete", "-f", "-");
            await mesh.CliWithStdinAsync(original, "apply", "-f", "-");
            await mesh.WaitSyncedAsync();
            await stop.CancelAsync();
            echo.Stop();
            await serving.ContinueWith(_ => { }, TaskScheduler.Default);
        }
    }

    private static async Task<string> ReadUntilAsync(System.Net.Sockets.NetworkStream stream, string end)
    {
        var text = new StringBuilder();
        var buffer = new byte[256];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        while (!text.ToString().Contains(end, StringComparison.Ordinal))
        {
            var read = await stream.ReadAsync(buffer, timeout.Token);
            if (read == 0)
            {
                break;
            }

            text.Append(Encoding.ASCII.GetString(buffer, 0, read));
        }

        return text.ToString();
    }

    /// <summary>The first bytes to the gateway are a TLS handshake offering ALPN istio; <paramref name="secret"/> crosses in neither direction.</summary>
    private static void AssertTunnel(IReadOnlyList<byte[]> toGateway, IReadOnlyList<byte[]> fromGateway, string secret)
    {
        Assert.NotEmpty(toGateway);
        var first = toGateway[0];
        Assert.True(first is [0x16, 0x03, ..], $"the hop does not start with a TLS handshake record: {Convert.ToHexString(first.AsSpan(0, Math.Min(16, first.Length)))}");
        Assert.Contains("\u0005istio", Text([first])); // ALPN protocol_name_list entry: length 5, "istio"
        Assert.DoesNotContain(secret, Text(toGateway));
        Assert.DoesNotContain(secret, Text(fromGateway));
    }

    private async Task<(IReadOnlyList<byte[]> ToGateway, IReadOnlyList<byte[]> FromGateway)> CaptureAsync(int port, string url)
    {
        await using var capture = PacketCapture.Start(mesh.ProxyIp, port);
        var (code, output) = await mesh.CurlAsync("-sS", "-o", "/dev/null", "-w", "%{http_code}", url);
        Assert.True(code == 0, output);
        return await capture.StopAsync();
    }

    private static string Text(IEnumerable<byte[]> payloads) => string.Concat(payloads.Select(p => Encoding.Latin1.GetString(p)));

    private async Task<string> GatewayMetricsAsync()
    {
        var pod = (await mesh.CliAsync("get", "pod", "-l", Gateway, "-n", "istio-system", "-o", "jsonpath={.items[0].metadata.name}")).Trim();
        var port = (await mesh.CliAsync("get", "pod", pod, "-n", "istio-system", "-o", "jsonpath={.metadata.annotations.meshgate\\.io/admin-port}")).Trim();
        using var http = new HttpClient();
        return await http.GetStringAsync($"http://127.0.0.1:{port}/stats/prometheus");
    }

    private async Task SetMeshConfigAsync(string meshConfig)
    {
        // The stand-ins stay allowed whatever else the test sets (the egress guard refuses loopback by default).
        meshConfig += "\n" + mesh.EgressMeshConfig;
        var indented = string.Join('\n', meshConfig.Split('\n').Select(l => "    " + l));
        await mesh.CliWithStdinAsync($"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: istio\n  namespace: istio-system\ndata:\n  mesh: |-\n{indented}\n", "apply", "-f", "-");
        await mesh.WaitSyncedAsync();
    }

    private async Task CleanupAsync()
    {
        foreach (var (kind, name) in new[] { ("gateway", "istio-egressgateway"), ("serviceentry", "cnn"), ("virtualservice", "direct-cnn-through-egress-gateway"), ("destinationrule", "egressgateway-for-cnn") })
        {
            await MeshgateProcess.RunAsync("", "delete", kind, name, "--kubeconfig", mesh.Kubeconfig);
        }

        await SetMeshConfigAsync("accessLogFile: /dev/stdout\noutboundTrafficPolicy:\n  mode: ALLOW_ANY");
    }
}

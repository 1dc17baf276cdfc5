using System.Text.RegularExpressions;
using Xunit;

namespace Meshgate.Tests.EndToEnd;

/// <summary>
/// The control-plane issue's acceptance: the seed's HTTP and HTTPS sections (Istio APIs), step by step, with
/// <c>meshgate up</c>, real curl through the sleep sidecar, real nginx for <c>edition.cnn.com</c> and real dnsmasq;
/// the output and the gateway's log lines as the seed shows them. The tests share one mesh and run one after another;
/// each leaves the configuration as it found it.
/// </summary>
[Collection(SeedMeshCollection.Name)]
public sealed class SeedFlowTests(SeedMesh mesh)
{
    private const string Gateway = "istio=egressgateway";
    private const string Sidecar = "app=sleep";
    private const string StartTime = """^\[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\] """;
    private const string Uuid = "[0-9a-f-]{36}";

    [Fact]
    public async Task HttpSection_SidecarThenEgressGatewayThenCleanup_AsTheSeedShows()
    {
        try
        {
            // Step 1: the ServiceEntry alone. The request leaves through the sidecar, not the gateway.
            Assert.Equal("serviceentry.networking.istio.io/cnn created\n", await mesh.ApplySeedAsync("http-serviceentry.yaml"));
            var gatewayBefore = (await mesh.AccessLogAsync(Gateway, "istio-system")).Count;
            var sidecarBefore = (await mesh.AccessLogAsync(Sidecar, "default")).Count;
            AssertRedirectThenOk(await mesh.CurlAsync("-sSL", "-o", "/dev/null", "-D", "-", "http://edition.cnn.com/politics"));
            await mesh.AccessLogLineAsync(Sidecar, "default", "outbound|80||edition.cnn.com", sidecarBefore);
            Assert.Equal(gatewayBefore, (await mesh.AccessLogAsync(Gateway, "istio-system")).Count);

            // Steps 2 and 3: Gateway and DestinationRule, then the VirtualService: port 80 goes through the gateway.
            Assert.Equal(
                "gateway.networking.istio.io/istio-egressgateway created\ndestinationrule.networking.istio.io/egressgateway-for-cnn created\n",
                await mesh.ApplySeedAsync("http-istio-gateway-destinationrule.yaml"));
            Assert.Equal("virtualservice.networking.istio.io/direct-cnn-through-egress-gateway created\n", await mesh.ApplySeedAsync("http-istio-virtualservice.yaml"));
            sidecarBefore = (await mesh.AccessLogAsync(Sidecar, "default")).Count;
            AssertRedirectThenOk(await mesh.CurlAsync("-sSL", "-o", "/dev/null", "-D", "-", "http://edition.cnn.com/politics"));

            // The seed (Istio APIs): [2019-09-03T20:57:49.103Z] "GET /politics HTTP/2" 301 ... "edition.cnn.com"
            // "151.101.65.67:80" outbound|80||edition.cnn.com ...: HTTP/2 on the hop to the gateway's "http2" port, in
            // today's default format (the Gateway API tab's line shows it: via_upstream, the local addresses, the route).
            var line = await mesh.AccessLogLineAsync(Gateway, "istio-system", "outbound|80||edition.cnn.com", gatewayBefore);
            AssertLine(
                StartTime + $$"""
                    "GET /politics HTTP/2" 301 - via_upstream - "-" 0 \d+ \d+ \d+ "[0-9.]+" "curl/[^"]+" "{{Uuid}}" "edition\.cnn\.com" "127\.0\.0\.81:80" outbound\|80\|\|edition\.cnn\.com 127\.0\.0\.\d+:\d+ 127\.0\.0\.72:8080 127\.0\.0\.72:\d+ - -$
                    """,
                line);

            // The sidecar sent port 80 to the gateway's subset cluster, and the port-443 request straight out.
            await mesh.AccessLogLineAsync(Sidecar, "default", "outbound|80|cnn|istio-egressgateway.istio-system.svc.cluster.local", sidecarBefore);
            await mesh.AccessLogLineAsync(Sidecar, "default", "outbound|443||edition.cnn.com", sidecarBefore);
            Assert.DoesNotContain(await mesh.AccessLogAsync(Gateway, "istio-system"), l => l.Contains("outbound|443||edition.cnn.com", StringComparison.Ordinal));
        }
        finally
        {
            await CleanupAsync();
        }

        // After the cleanup commands, traffic no longer passes through the gateway.
        var gatewayAfter = (await mesh.AccessLogAsync(Gateway, "istio-system")).Count;
        var sidecarAfter = (await mesh.AccessLogAsync(Sidecar, "default")).Count;
        AssertRedirectThenOk(await mesh.CurlAsync("-sSL", "-o", "/dev/null", "-D", "-", "http://edition.cnn.com/politics"));
        await mesh.AccessLogLineAsync(Sidecar, "default", "\"GET /politics HTTP/1.1\" 301", sidecarAfter);
        Assert.Equal(gatewayAfter, (await mesh.AccessLogAsync(Gateway, "istio-system")).Count);
    }

    [Fact]
    public async Task HttpsSection_TlsPassthroughThroughTheEgressGateway_AsTheSeedShows()
    {
        try
        {
            Assert.Equal("serviceentry.networking.istio.io/cnn created\n", await mesh.ApplySeedAsync("https-serviceentry.yaml"));
            var (code, headers) = await mesh.CurlAsync("-sSL", "-o", "/dev/null", "-D", "-", "https://edition.cnn.com/politics");
            Assert.True(code == 0, headers);
            Assert.StartsWith("HTTP/2 200", headers);

            var gatewayBefore = (await mesh.AccessLogAsync(Gateway, "istio-system")).Count;
            Assert.Equal(
                "gateway.networking.istio.io/istio-egressgateway created\ndestinationrule.networking.istio.io/egressgateway-for-cnn created\nvirtualservice.networking.istio.io/direct-cnn-through-egress-gateway created\n",
                await mesh.ApplySeedAsync("https-istio-gateway-destinationrule-virtualservice.yaml"));
            (code, headers) = await mesh.CurlAsync("-sSL", "-o", "/dev/null", "-D", "-", "https://edition.cnn.com/politics");
            Assert.True(code == 0, headers);
            Assert.StartsWith("HTTP/2 200", headers);

            // The seed: [2024-01-11T21:09:42.835Z] "- - -" 0 - - - "-" 839 2504306 231 - "-" "-" "-" "-" "151.101.195.5:443"
            // outbound|443||edition.cnn.com 172.30.239.8:34470 172.30.239.8:443 172.30.239.15:43956 edition.cnn.com -
            var line = await mesh.AccessLogLineAsync(Gateway, "istio-system", "outbound|443||edition.cnn.com", gatewayBefore);
            AssertLine(
                StartTime + """
                    "- - -" 0 - - - "-" [1-9]\d* [1-9]\d* \d+ - "-" "-" "-" "-" "127\.0\.0\.81:443" outbound\|443\|\|edition\.cnn\.com 127\.0\.0\.\d+:\d+ 127\.0\.0\.72:8443 127\.0\.0\.72:\d+ edition\.cnn\.com -$
                    """,
                line);
        }
        finally
        {
            await CleanupAsync();
        }
    }

    [Fact]
    public async Task OutboundTrafficPolicy_RegistryOnlyBlocksUnknownHosts_AllowAnyPassesThem()
    {
        const string Url = $"http://{SeedMesh.OtherHost}/";
        try
        {
            await SetOutboundPolicyAsync("REGISTRY_ONLY");
            var before = (await mesh.AccessLogAsync(Sidecar, "default")).Count;
            var (_, status) = await mesh.CurlAsync("-s", "-o", "/dev/null", "-w", "%{http_code}", Url);
            Assert.Equal("502", status);
            var blocked = await mesh.AccessLogLineAsync(Sidecar, "default", $"\"{SeedMesh.OtherHost}\"", before);
            Assert.Contains(" 502 ", blocked, StringComparison.Ordinal);
            Assert.Contains(" BlackHoleCluster ", blocked, StringComparison.Ordinal);
        }
        finally
        {
            await SetOutboundPolicyAsync("ALLOW_ANY");
        }

        var count = (await mesh.AccessLogAsync(Sidecar, "default")).Count;
        var (code, body) = await mesh.CurlAsync("-sS", Url);
        Assert.True(code == 0, body);
        Assert.Equal("other\n", body);
        var passed = await mesh.AccessLogLineAsync(Sidecar, "default", $"\"{SeedMesh.OtherHost}\"", count);
        Assert.Contains(" PassthroughCluster ", passed, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ResolutionNoneThroughTheGateway_TheSeedsWarning_FailsFastAndAnalyzeSaysWhy()
    {
        try
        {
            // The seed's warning: with resolution NONE the gateway has no address to go to. Istio today builds an
            // endpoint-less cluster for it on gateways (503 UH); Meshgate does the same, and analyze names the cause.
            var serviceEntry = (await File.ReadAllTextAsync(Path.Combine(TestPaths.TestData, "Seed", "http-serviceentry.yaml")))
                .Replace("resolution: DNS", "resolution: NONE", StringComparison.Ordinal);
            await mesh.CliWithStdinAsync(serviceEntry, "apply", "-f", "-");
            await mesh.ApplySeedAsync("http-istio-gateway-destinationrule.yaml");
            await mesh.ApplySeedAsync("http-istio-virtualservice.yaml");
            var before = (await mesh.AccessLogAsync(Gateway, "istio-system")).Count;

            var (_, status) = await mesh.CurlAsync("-s", "-o", "/dev/null", "-w", "%{http_code}", "http://edition.cnn.com/politics");

            Assert.Equal("503", status);
            var line = await mesh.AccessLogLineAsync(Gateway, "istio-system", "\"GET /politics HTTP/2\" 503", before);
            Assert.Contains(" UH no_healthy_upstream ", line, StringComparison.Ordinal);
            var (code, analysis) = await MeshgateProcess.RunAsync("", "analyze", "-A", "--kubeconfig", mesh.Kubeconfig);
            Assert.Equal(79, code);
            Assert.Contains("MG0001", analysis, StringComparison.Ordinal);
        }
        finally
        {
            await CleanupAsync();
        }
    }

    [Fact]
    public async Task GatewayAskedToForwardToItself_AnswersLoopDetectedInsteadOfLooping()
    {
        try
        {
            // The loop itself: the external host's only endpoint is the gateway's own listener.
            await mesh.CliWithStdinAsync($$$"""
                apiVersion: networking.istio.io/v1
                kind: ServiceEntry
                metadata:
                  name: cnn
                spec:
                  hosts: [edition.cnn.com]
                  ports: [{number: 80, name: http-port, protocol: HTTP}]
                  resolution: STATIC
                  endpoints: [{address: {{{SeedMesh.ProxyAddress}}}, ports: {http-port: 8080}}]
                """, "apply", "-f", "-");
            await mesh.ApplySeedAsync("http-istio-gateway-destinationrule.yaml");
            await mesh.ApplySeedAsync("http-istio-virtualservice.yaml");
            var before = (await mesh.AccessLogAsync(Gateway, "istio-system")).Count;

            var (_, status) = await mesh.CurlAsync("-s", "-o", "/dev/null", "-w", "%{http_code}", "http://edition.cnn.com/politics");

            Assert.Equal("508", status);
            var line = await mesh.AccessLogLineAsync(Gateway, "istio-system", "\"GET /politics HTTP/2\" 508", before);
            Assert.Contains(" UH upstream_loop_detected ", line, StringComparison.Ordinal);
            Assert.Contains($"\"{SeedMesh.ProxyAddress}:8080\" outbound|80||edition.cnn.com ", line, StringComparison.Ordinal);

            // One request in, one line out: nothing went round.
            Assert.Single((await mesh.AccessLogAsync(Gateway, "istio-system")).Skip(before), l => l.Contains("/politics", StringComparison.Ordinal));
        }
        finally
        {
            await CleanupAsync();
        }
    }

    /// <summary>The mesh config lives where Istio keeps it: ConfigMap istio in istio-system, key mesh.</summary>
    private async Task SetOutboundPolicyAsync(string mode)
    {
        await mesh.CliWithStdinAsync($"""
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: istio
              namespace: istio-system
            data:
              mesh: |-
                accessLogFile: "/dev/stdout"
                outboundTrafficPolicy:
                  mode: {mode}
                meshgate:
                  egress:
                    allowedCidrs: "{mesh.AllowedCidrs}"
            """, "apply", "-f", "-");
        await mesh.WaitSyncedAsync();
    }

    /// <summary>The seed's cleanup commands (those that find nothing are fine).</summary>
    private async Task CleanupAsync()
    {
        foreach (var (kind, name) in new[] { ("gateway", "istio-egressgateway"), ("serviceentry", "cnn"), ("virtualservice", "direct-cnn-through-egress-gateway"), ("destinationrule", "egressgateway-for-cnn") })
        {
            await MeshgateProcess.RunAsync("", "delete", kind, name, "--kubeconfig", mesh.Kubeconfig);
        }

        await mesh.WaitSyncedAsync();
    }

    private static void AssertLine(string pattern, string line) => Assert.True(Regex.IsMatch(line, pattern), $"{line}\ndoes not match\n{pattern}");

    /// <summary>The seed's output: <c>HTTP/1.1 301 Moved Permanently</c> … <c>location: https://edition.cnn.com/politics</c> … <c>HTTP/2 200</c>.</summary>
    private static void AssertRedirectThenOk((int Code, string Output) curl)
    {
        Assert.True(curl.Code == 0, curl.Output);
        var statuses = Regex.Matches(curl.Output, "(?m)^HTTP/\\S+ \\d+.*$").Select(m => m.Value.TrimEnd()).ToList();
        Assert.Equal(["HTTP/1.1 301 Moved Permanently", "HTTP/2 200"], statuses);
        Assert.Contains("\nlocation: https://edition.cnn.com/politics\n", curl.Output, StringComparison.OrdinalIgnoreCase);
    }
}

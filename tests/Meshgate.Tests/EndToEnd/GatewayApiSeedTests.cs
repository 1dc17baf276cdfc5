using System.Text.RegularExpressions;
using Xunit;

namespace Meshgate.Tests.EndToEnd;

/// <summary>
/// The seed's Gateway API tab with <c>meshgate up</c>, from the seed's YAML as written: the Gateway of class istio gets
/// its workload deployed (ServiceAccount, Service, a supervised proxy as Pod <c>cnn-egress-gateway-istio-…</c>) and
/// programmed, curl through the sidecar reaches the stand-in site through it, its log shows the seed's line with the
/// route named <c>default.forward-cnn-from-egress-gateway.0</c>, its certificate carries its SPIFFE identity, and the
/// seed's cleanup removes the workload again.
/// </summary>
[Collection(SeedMeshCollection.Name)]
public sealed class GatewayApiSeedTests(SeedMesh mesh)
{
    private const string Selector = "gateway.networking.k8s.io/gateway-name=cnn-egress-gateway";
    private const string StartTime = """^\[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\] """;

    [Fact]
    public async Task HttpTab_GatewayDeployedAndProgrammed_TrafficThroughIt_CleanupRemovesIt()
    {
        int removedBefore;
        try
        {
            Assert.Equal("serviceentry.networking.istio.io/cnn created\n", await mesh.ApplySeedAsync("http-serviceentry.yaml"));
            Assert.Equal("gateway.gateway.networking.k8s.io/cnn-egress-gateway created\n", await mesh.CliAsync("apply", "-f", Seed("http-gatewayapi-gateway.yaml")));
            await WaitProgrammedAsync();
            Assert.Equal(
                "httproute.gateway.networking.k8s.io/direct-cnn-to-egress-gateway created\nhttproute.gateway.networking.k8s.io/forward-cnn-from-egress-gateway created\n",
                await mesh.ApplySeedAsync("http-gatewayapi-httproutes.yaml"));

            var before = (await mesh.AccessLogAsync(Selector, "default")).Count; // the pod's log outlives a Gateway of the same name
            var (code, output) = await mesh.CurlAsync("-sSL", "-o", "/dev/null", "-D", "-", "http://edition.cnn.com/politics");
            Assert.True(code == 0, output);
            Assert.Equal(["HTTP/1.1 301 Moved Permanently", "HTTP/2 200"], Regex.Matches(output, "(?m)^HTTP/\\S+ \\d+.*$").Select(m => m.Value.TrimEnd()));

            // kubectl logs -l gateway.networking.k8s.io/gateway-name=cnn-egress-gateway -c istio-proxy | tail
            var line = await mesh.AccessLogLineAsync(Selector, "default", "outbound|80||edition.cnn.com", before);
            Assert.Matches(
                StartTime + $$"""
                    "GET /politics HTTP/1\.1" 301 - via_upstream - "-" 0 \d+ \d+ \d+ "[0-9.]+" "curl/[^"]+" "[0-9a-f-]{36}" "edition\.cnn\.com" "{{Regex.Escape(mesh.OriginAddress)}}:80" outbound\|80\|\|edition\.cnn\.com [0-9.]+:\d+ {{Regex.Escape(mesh.ProxyIp)}}:\d+ [0-9.]+:\d+ - default\.forward-cnn-from-egress-gateway\.0$
                    """,
                line);

            // The seed's certificate check, for this gateway's identity.
            var meshgate = $"{MeshgateProcess.Executable} --kubeconfig {mesh.Kubeconfig}";
            var (checkCode, check) = await Bash.RunAsync($$"""
                set -o pipefail
                {{meshgate}} pc secret "$({{meshgate}} get pod -l {{Selector}} -o jsonpath='{.items[0].metadata.name}')" -ojson | jq '[.dynamicActiveSecrets[] | select(.name == "default")][0].secret.tlsCertificate.certificateChain.inlineBytes' -r | base64 -d | openssl x509 -text -noout | grep 'Subject Alternative Name' -A 1
                """);
            Assert.True(checkCode == 0, check);
            Assert.Contains("X509v3 Subject Alternative Name: critical", check);
            Assert.Contains("URI:spiffe://cluster.local/ns/default/sa/cnn-egress-gateway-istio", check);
        }
        finally
        {
            removedBefore = Removed();
            await CleanupAsync("httproute");
        }

        await AssertRemovedAsync(removedBefore);
    }

    [Fact]
    public async Task HttpsTab_TlsPassthroughListenerAndTwoTlsRoutes_TrafficThroughIt()
    {
        int removedBefore;
        try
        {
            await mesh.ApplySeedAsync("https-serviceentry.yaml");
            await mesh.CliAsync("apply", "-f", Seed("https-gatewayapi-gateway-tlsroutes.yaml"));
            await WaitProgrammedAsync();
            await mesh.WaitSyncedAsync();

            var before = (await mesh.AccessLogAsync(Selector, "default")).Count;
            var (code, output) = await mesh.CurlAsync("-sSL", "-o", "/dev/null", "-D", "-", "https://edition.cnn.com/politics");
            Assert.True(code == 0, output);
            Assert.StartsWith("HTTP/2 200", output);
            var line = await mesh.AccessLogLineAsync(Selector, "default", "outbound|443||edition.cnn.com", before);
            Assert.Matches(
                StartTime + $$"""
                    "- - -" 0 - - - "-" \d+ \d+ \d+ - "-" "-" "-" "-" "{{Regex.Escape(mesh.OriginAddress)}}:443" outbound\|443\|\|edition\.cnn\.com [0-9.]+:\d+ {{Regex.Escape(mesh.ProxyIp)}}:\d+ [0-9.]+:\d+ edition\.cnn\.com -$
                    """,
                line);
        }
        finally
        {
            removedBefore = Removed();
            await CleanupAsync("tlsroute");
        }

        await AssertRemovedAsync(removedBefore);
    }

    /// <summary>
    /// A Gateway in another namespace with another name works the same way: routes in default attach to it (its
    /// listener admits All namespaces), the mesh route's backend in its namespace needs a ReferenceGrant (RefNotPermitted
    /// until there is one), then traffic goes through it; deleting the namespace removes its gateway.
    /// </summary>
    [Fact]
    public async Task GatewayInAnotherNamespace_NeedsAGrantForTheBackend_ThenCarriesTheTraffic()
    {
        const string Other = "gateway.networking.k8s.io/gateway-name=other-egress";
        var routes = """
            apiVersion: gateway.networking.k8s.io/v1
            kind: HTTPRoute
            metadata:
              name: direct-cnn-to-other-egress
            spec:
              parentRefs:
              - {kind: ServiceEntry, group: networking.istio.io, name: cnn}
              rules:
              - backendRefs:
                - {name: other-egress-istio, namespace: egress-ns, port: 80}
            ---
            apiVersion: gateway.networking.k8s.io/v1
            kind: HTTPRoute
            metadata:
              name: forward-cnn-from-other-egress
            spec:
              parentRefs:
              - {name: other-egress, namespace: egress-ns}
              hostnames: [edition.cnn.com]
              rules:
              - backendRefs:
                - {kind: Hostname, group: networking.istio.io, name: edition.cnn.com, port: 80}
            """;
        var gateway = """
            apiVersion: gateway.networking.k8s.io/v1
            kind: Gateway
            metadata:
              name: other-egress
              namespace: egress-ns
              annotations: {networking.istio.io/service-type: ClusterIP}
            spec:
              gatewayClassName: istio
              listeners:
              - name: http
                hostname: edition.cnn.com
                port: 80
                protocol: HTTP
                allowedRoutes: {namespaces: {from: All}}
            """;
        const string Grant = """
            apiVersion: gateway.networking.k8s.io/v1beta1
            kind: ReferenceGrant
            metadata:
              name: default-routes-to-other-egress
              namespace: egress-ns
            spec:
              from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: default}]
              to: [{group: "", kind: Service}]
            """;
        try
        {
            await mesh.ApplySeedAsync("http-serviceentry.yaml");
            await mesh.CliAsync("create", "namespace", "egress-ns");
            await mesh.CliWithStdinAsync(gateway, "apply", "-f", "-");
            await mesh.CliWithStdinAsync(routes, "apply", "-f", "-");

            // Without the grant the mesh route's backend is refused, and says so.
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            while (!(await mesh.CliAsync("get", "httproute", "direct-cnn-to-other-egress", "-o", "yaml")).Contains("RefNotPermitted", StringComparison.Ordinal))
            {
                Assert.True(DateTime.UtcNow < deadline, await mesh.CliAsync("get", "httproute", "direct-cnn-to-other-egress", "-o", "yaml"));
                await Task.Delay(200);
            }

            await mesh.CliWithStdinAsync(Grant, "apply", "-f", "-");
            var table = "";
            deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
            while (!Regex.IsMatch(table = await mesh.CliAsync("get", "gtw", "other-egress", "-n", "egress-ns"), @"(?m)^other-egress\s+istio\s+\S+\s+True\s"))
            {
                Assert.True(DateTime.UtcNow < deadline, table);
                await Task.Delay(200);
            }

            await mesh.WaitSyncedAsync();
            var before = (await mesh.AccessLogAsync(Other, "egress-ns")).Count;
            var (code, output) = await mesh.CurlAsync("-sSL", "-o", "/dev/null", "-D", "-", "http://edition.cnn.com/politics");
            Assert.True(code == 0, output);
            Assert.Equal(["HTTP/1.1 301 Moved Permanently", "HTTP/2 200"], Regex.Matches(output, "(?m)^HTTP/\\S+ \\d+.*$").Select(m => m.Value.TrimEnd()));
            var line = await mesh.AccessLogLineAsync(Other, "egress-ns", "outbound|80||edition.cnn.com", before);
            Assert.EndsWith(" - default.forward-cnn-from-other-egress.0", line);
        }
        finally
        {
            await mesh.CliWithStdinAsync(routes, "delete", "-f", "-");
            await MeshgateProcess.RunAsync("", "delete", "serviceentry", "cnn", "--kubeconfig", mesh.Kubeconfig);
            await MeshgateProcess.RunAsync("", "delete", "namespace", "egress-ns", "--kubeconfig", mesh.Kubeconfig);
        }

        var gone = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while ((await MeshgateProcess.RunAsync("", "get", "pod", "-l", Other, "-A", "-o", "name", "--kubeconfig", mesh.Kubeconfig)).Output.Contains("other-egress-istio", StringComparison.Ordinal))
        {
            Assert.True(DateTime.UtcNow < gone, "the other namespace's gateway pod is still there");
            await Task.Delay(200);
        }
    }

    private static string Seed(string file) => Path.Combine(TestPaths.TestData, "Seed", file);

    /// <summary>Polls <c>get gtw</c> until PROGRAMMED is True (the gateway's proxy runs its configuration).</summary>
    private async Task WaitProgrammedAsync()
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            var table = await mesh.CliAsync("get", "gtw", "cnn-egress-gateway");
            if (Regex.IsMatch(table, @"(?m)^cnn-egress-gateway\s+istio\s+\S+\s+True\s"))
            {
                return;
            }

            Assert.True(DateTime.UtcNow < deadline, $"the Gateway is not programmed:\n{table}\n{await mesh.CliAsync("get", "gtw", "cnn-egress-gateway", "-o", "yaml")}\n{mesh.Up.Output}");
            await Task.Delay(200);
        }
    }

    /// <summary>The seed's cleanup commands for the Gateway API tab.</summary>
    private async Task CleanupAsync(string routeKind)
    {
        foreach (var (kind, name) in new[] { ("serviceentry", "cnn"), ("gtw", "cnn-egress-gateway"), (routeKind, "direct-cnn-to-egress-gateway"), (routeKind, "forward-cnn-from-egress-gateway") })
        {
            await MeshgateProcess.RunAsync("", "delete", kind, name, "--kubeconfig", mesh.Kubeconfig);
        }
    }

    /// <summary>How many times <c>up</c> has stopped a Gateway API gateway's proxy so far.</summary>
    private int Removed() => Regex.Matches(mesh.Up.Output, "Gateway API gateway default/cnn-egress-gateway-istio-\\S+ removed: stopping it").Count;

    /// <summary>The deleted Gateway's pod, Service and ServiceAccount go, and <c>up</c> stops its proxy.</summary>
    private async Task AssertRemovedAsync(int removedBefore)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var (_, left) = await MeshgateProcess.RunAsync("", "get", "pod,svc,sa", "-l", Selector, "-o", "name", "--kubeconfig", mesh.Kubeconfig);
            if (!left.Contains("cnn-egress-gateway-istio", StringComparison.Ordinal) && Removed() > removedBefore)
            {
                return;
            }

            Assert.True(DateTime.UtcNow < deadline, $"the gateway's workload is still there:\n{left}\n{mesh.Up.Output}");
            await Task.Delay(200);
        }
    }
}

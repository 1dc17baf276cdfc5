using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Xunit;

namespace Meshgate.Tests.EndToEnd;

/// <summary>
/// The identity issue's acceptance with <c>meshgate up</c>: the seed's certificate check on the egress gateway, and
/// Istio's "Egress Gateways with TLS Origination" page applied as written (sidecar → gateway ISTIO_MUTUAL, the gateway
/// originating TLS to the external host), with real curl, openssl, nginx and dnsmasq. The gateway refuses clients
/// without a mesh certificate (none, another CA's, an expired one) and logs each refusal.
/// </summary>
[Collection(SeedMeshCollection.Name)]
public sealed class MutualTlsSeedTests(SeedMesh mesh)
{
    private const string Gateway = "istio=egressgateway";
    private const string Sidecar = "app=sleep";

    [Fact]
    public async Task SeedCertificateCheck_EgressGateway_PrintsItsSpiffeIdentity()
    {
        ExternalTools.Require("jq");
        // The seed's pipeline, with meshgate in place of kubectl and istioctl, unchanged otherwise.
        var meshgate = $"{MeshgateProcess.Executable} --kubeconfig {mesh.Kubeconfig}";
        var script = $$"""
            set -o pipefail
            {{meshgate}} pc secret -n istio-system "$({{meshgate}} get pod -l istio=egressgateway -n istio-system -o jsonpath='{.items[0].metadata.name}')" -ojson | jq '[.dynamicActiveSecrets[] | select(.name == "default")][0].secret.tlsCertificate.certificateChain.inlineBytes' -r | base64 -d | openssl x509 -text -noout | grep 'Subject Alternative Name' -A 1
            """;
        var (code, output) = await Bash.RunAsync(script);
        Assert.True(code == 0, output);
        Assert.Contains("URI:spiffe://cluster.local/ns/istio-system/sa/istio-egressgateway-service-account", output);
    }

    [Fact]
    public async Task SidecarCertificate_IsSleepsIdentity_AndTheKeyIsNeverShown()
    {
        var pod = (await mesh.CliAsync("get", "pod", "-l", Sidecar, "-o", "jsonpath={.items[0].metadata.name}")).Trim();
        var table = await mesh.CliAsync("pc", "secret", pod);
        Assert.Matches(@"(?m)^default\s+Cert Chain\s+ACTIVE\s+true\s+[0-9a-f]+\s", table);
        Assert.Matches(@"(?m)^ROOTCA\s+CA\s+ACTIVE\s+true\s+[0-9a-f]+\s", table);

        var json = await mesh.CliAsync("pc", "secret", pod, "-o", "json");
        Assert.DoesNotContain("PRIVATE KEY", json);
        var root = File.ReadAllText(Path.Combine(mesh.DataDirectory, "ca", "root-cert.pem"));
        using var rootCertificate = X509Certificate2.CreateFromPem(root);
        var admin = await AdminPortAsync(pod, "default");
        using var http = new HttpClient();
        var dump = await http.GetStringAsync($"http://127.0.0.1:{admin}/config_dump");
        Assert.DoesNotContain("PRIVATE KEY", dump);
        Assert.Contains("spiffe", ExtractSans(dump));
    }

    [Fact]
    public async Task TlsOriginationPage_AppliedAsWritten_CurlGets200ThroughTheGatewayWhichOriginatesTls()
    {
        var gatewayBefore = (await mesh.AccessLogAsync(Gateway, "istio-system")).Count;
        try
        {
            foreach (var file in SeedMesh.TlsOriginationPage)
            {
                await mesh.CliAsync("apply", "-f", Path.Combine(TestPaths.TestData, "IstioDocs", file));
            }

            await mesh.WaitSyncedAsync();
            var analysis = await mesh.CliAsync("analyze");
            Assert.DoesNotContain("MG0015", analysis);

            // The page: "curl -sSL -o /dev/null -D - http://edition.cnn.com/politics" → 200 OK, not the 301.
            var (code, output) = await mesh.CurlAsync("-sSL", "-o", "/dev/null", "-D", "-", "http://edition.cnn.com/politics");
            Assert.True(code == 0, output);
            Assert.True(output.StartsWith("HTTP/1.1 200", StringComparison.Ordinal), $"{output}\nsidecar:\n{string.Join('\n', await mesh.AccessLogAsync(Sidecar, "default"))}\ngateway:\n{string.Join('\n', await mesh.AccessLogAsync(Gateway, "istio-system"))}");
            Assert.DoesNotContain(" 301 ", output);

            // The gateway's log: the request arrived over mutual TLS and left for edition.cnn.com:443.
            var line = await mesh.AccessLogLineAsync(Gateway, "istio-system", "outbound|443||edition.cnn.com", gatewayBefore);
            // The page: the sidecar → gateway hop is ISTIO_MUTUAL, and the gateway logs "GET /politics HTTP/2".
            Assert.Contains("\"GET /politics HTTP/2\" 200", line);
            Assert.Contains($"\"{mesh.OriginAddress}:443\"", line);

            // The gateway knows who sent it: its metrics carry the sidecar's identity.
            var gatewayPod = (await mesh.CliAsync("get", "pod", "-l", Gateway, "-n", "istio-system", "-o", "jsonpath={.items[0].metadata.name}")).Trim();
            var admin = await AdminPortAsync(gatewayPod, "istio-system");
            using var http = new HttpClient();
            var metrics = await http.GetStringAsync($"http://127.0.0.1:{admin}/stats/prometheus");
            Assert.Contains("source_principal=\"spiffe://cluster.local/ns/default/sa/sleep\"", metrics);

            // The hop from the sidecar to the gateway is TLS with the mesh certificate: a client without one is refused.
            await AssertRefusedAsync(gatewayBefore);
        }
        finally
        {
            foreach (var file in SeedMesh.TlsOriginationPage.Reverse())
            {
                await mesh.CliAsync("delete", "-f", Path.Combine(TestPaths.TestData, "IstioDocs", file));
            }

            await mesh.WaitSyncedAsync();
        }
    }

    /// <summary>
    /// The same page's Gateway API tab: Gateway <c>cnn-egress-gateway</c> (HTTPS listener terminating ISTIO_MUTUAL, as the
    /// option <c>gateway.istio.io/tls-terminate-mode</c> says) deployed by the control plane, the DestinationRule on its
    /// Service, two HTTPRoutes, and TLS origination to 443: curl gets 200, the deployed gateway logs the request with
    /// the sidecar's identity in its metrics.
    /// </summary>
    [Fact]
    public async Task TlsOriginationPage_GatewayApiTab_CurlGets200ThroughTheDeployedGateway()
    {
        string[] page =
        [
            "egress-gateway-tls-origination--perform_tls_origination_with_an_egress_gateway_1.yaml",
            "egress-gateway-tls-origination--perform_tls_origination_with_an_egress_gateway_4.yaml",
            "egress-gateway-tls-origination--perform_tls_origination_with_an_egress_gateway_6.yaml",
            "egress-gateway-tls-origination--perform_tls_origination_with_an_egress_gateway_7.yaml",
        ];
        const string Selector = "gateway.networking.k8s.io/gateway-name=cnn-egress-gateway";
        try
        {
            foreach (var file in page)
            {
                await mesh.CliAsync("apply", "-f", Path.Combine(TestPaths.TestData, "IstioDocs", file));
            }

            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
            while (!System.Text.RegularExpressions.Regex.IsMatch(await mesh.CliAsync("get", "gtw", "cnn-egress-gateway"), @"\sTrue\s"))
            {
                Assert.True(DateTime.UtcNow < deadline, await mesh.CliAsync("get", "gtw", "cnn-egress-gateway", "-o", "yaml"));
                await Task.Delay(200);
            }

            await mesh.WaitSyncedAsync();
            var before = (await mesh.AccessLogAsync(Selector, "default")).Count; // the pod's log outlives a Gateway of the same name
            var (code, output) = await mesh.CurlAsync("-sSL", "-o", "/dev/null", "-D", "-", "http://edition.cnn.com/politics");
            Assert.True(code == 0, output);
            Assert.True(output.StartsWith("HTTP/1.1 200", StringComparison.Ordinal), $"{output}\n{await mesh.CliAsync("logs", "-l", Selector, "--tail", "50")}");
            var line = await mesh.AccessLogLineAsync(Selector, "default", "outbound|443||edition.cnn.com", before);
            Assert.Contains("\"GET /politics HTTP/", line);
            Assert.Contains($"\"{mesh.OriginAddress}:443\"", line);

            var pod = (await mesh.CliAsync("get", "pod", "-l", Selector, "-o", "jsonpath={.items[0].metadata.name}")).Trim();
            var admin = await AdminPortAsync(pod, "default");
            using var http = new HttpClient();
            Assert.Contains("source_principal=\"spiffe://cluster.local/ns/default/sa/sleep\"", await http.GetStringAsync($"http://127.0.0.1:{admin}/stats/prometheus"));
        }
        finally
        {
            foreach (var file in page.Reverse())
            {
                await mesh.CliAsync("delete", "-f", Path.Combine(TestPaths.TestData, "IstioDocs", file));
            }

            await mesh.WaitSyncedAsync();
        }
    }

    /// <summary>
    /// The page's second half, "Configure mutual TLS origination for egress traffic": the client credential made with
    /// <c>meshgate create secret</c> in istio-system, the Gateway, DestinationRules and VirtualService as written, and a
    /// real nginx that requires a client certificate (<c>ssl_verify_client on</c>). The page runs that nginx as a
    /// Deployment behind Service my-nginx in mesh-external; pods are the local-cluster issue's, so a ServiceEntry for
    /// the same host (resolved by the test's dnsmasq) stands in for the Service and its endpoints.
    /// </summary>
    [Fact]
    public async Task MutualTlsOriginationPage_ClientCredentialFromASecret_NginxRequiringClientCertificatesAnswers()
    {
        const string Host = "my-nginx.mesh-external.svc.cluster.local";
        const string Address = "127.0.0.83";
        string[] page =
        [
            "egress-gateway-tls-origination--configure_mutual_tls_origination_for_egress_traffic_3.yaml",
            "egress-gateway-tls-origination--configure_mutual_tls_origination_for_egress_traffic_5.yaml",
        ];
        var dir = Directory.CreateTempSubdirectory("meshgate-mtls-origin-").FullName;
        var serviceEntry = Path.Combine(dir, "my-nginx-serviceentry.yaml");
        await File.WriteAllTextAsync(serviceEntry, $"""
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata:
              name: my-nginx
            spec:
              hosts:
              - {Host}
              ports:
              - number: 80
                name: http
                protocol: HTTP
              - number: 443
                name: https
                protocol: HTTPS
              resolution: DNS
            """);
        using var ca = new ThrowawayCa(dir);
        var (serverCert, serverKey) = ca.IssueServer(Host, dir);
        var (clientCert, clientKey) = ca.IssueClient("client.example.com", dir);
        await using var nginx = await NginxServer.StartAsync(dir, $$"""
                server {
                    listen {{Address}}:443 ssl;
                    server_name {{Host}};
                    ssl_certificate {{serverCert}};
                    ssl_certificate_key {{serverKey}};
                    ssl_client_certificate {{ca.CertificatePath}};
                    ssl_verify_client on;
                    location / { default_type text/html; return 200 '<title>Welcome to nginx!</title>'; }
                }
            """, new System.Net.IPEndPoint(System.Net.IPAddress.Parse(Address), 443));
        await mesh.Dns.SetAsync(Host, Address);
        var gatewayBefore = (await mesh.AccessLogAsync(Gateway, "istio-system")).Count;
        try
        {
            // kubectl create secret -n istio-system generic client-credential --from-file=tls.key=... --from-file=tls.crt=... --from-file=ca.crt=...
            await mesh.CliAsync("create", "secret", "-n", "istio-system", "generic", "client-credential",
                $"--from-file=tls.key={clientKey}", $"--from-file=tls.crt={clientCert}", $"--from-file=ca.crt={ca.CertificatePath}");
            await mesh.CliAsync("apply", "-f", serviceEntry);
            foreach (var file in page)
            {
                await mesh.CliAsync("apply", "-f", Path.Combine(TestPaths.TestData, "IstioDocs", file));
            }

            await mesh.CliAsync("apply", "-n", "istio-system", "-f",
                Path.Combine(TestPaths.TestData, "IstioDocs", "egress-gateway-tls-origination--configure_mutual_tls_origination_for_egress_traffic_7.yaml"));
            await mesh.WaitSyncedAsync();

            // istioctl -n istio-system proxy-config secret deploy/istio-egressgateway | grep client-credential
            var gatewayPod = (await mesh.CliAsync("get", "pod", "-l", Gateway, "-n", "istio-system", "-o", "jsonpath={.items[0].metadata.name}")).Trim();
            Assert.Matches(@"(?m)^kubernetes://client-credential\s+Cert Chain\s+ACTIVE\s+true\s", await mesh.CliAsync("pc", "secret", "-n", "istio-system", gatewayPod));

            // kubectl exec "$SOURCE_POD" -c sleep -- curl -sS http://my-nginx.mesh-external.svc.cluster.local
            var (code, output) = await mesh.CurlAsync("-sS", $"http://{Host}");
            Assert.True(code == 0 && output.Contains("Welcome to nginx!", StringComparison.Ordinal),
                $"{output}\ngateway:\n{string.Join('\n', await mesh.AccessLogAsync(Gateway, "istio-system"))}");
            var line = await mesh.AccessLogLineAsync(Gateway, "istio-system", $"outbound|443||{Host}", gatewayBefore);
            Assert.Contains("\"GET / HTTP/", line);
            Assert.Contains($"\"{Address}:443\"", line);
        }
        finally
        {
            await mesh.CliAsync("delete", "-n", "istio-system", "-f",
                Path.Combine(TestPaths.TestData, "IstioDocs", "egress-gateway-tls-origination--configure_mutual_tls_origination_for_egress_traffic_7.yaml"));
            foreach (var file in page.Reverse())
            {
                await mesh.CliAsync("delete", "-f", Path.Combine(TestPaths.TestData, "IstioDocs", file));
            }

            await mesh.CliAsync("delete", "-f", serviceEntry);
            await mesh.CliAsync("delete", "secret", "client-credential", "-n", "istio-system");
            await mesh.WaitSyncedAsync();
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>No certificate, another CA's, and an expired one from the mesh CA: each handshake refused and logged DPE.</summary>
    private async Task AssertRefusedAsync(int gatewayBefore)
    {
        var dir = Directory.CreateTempSubdirectory("meshgate-refused-").FullName;
        try
        {
            var root = Path.Combine(mesh.DataDirectory, "ca", "root-cert.pem");
            var url = $"https://edition.cnn.com:8080/politics";
            var resolve = $"edition.cnn.com:8080:{mesh.ProxyIp}";

            var (none, noneOutput) = await Curl.RunAsync("-sS", "-o", "/dev/null", "--resolve", resolve, "--cacert", root, "-k", url);
            Assert.True(none != 0, noneOutput);

            using var otherCa = new ThrowawayCa(dir);
            var (otherCert, otherKey) = otherCa.IssueClient("sleep", dir);
            var (other, otherOutput) = await Curl.RunAsync("-sS", "-o", "/dev/null", "--resolve", resolve, "-k", "--cert", otherCert, "--key", otherKey, url);
            Assert.True(other != 0, otherOutput);

            var (expiredCert, expiredKey) = IssueExpired(dir);
            var (expired, expiredOutput) = await Curl.RunAsync("-sS", "-o", "/dev/null", "--resolve", resolve, "-k", "--cert", expiredCert, "--key", expiredKey, url);
            Assert.True(expired != 0, expiredOutput);

            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
            while (true)
            {
                var refused = (await mesh.AccessLogAsync(Gateway, "istio-system")).Skip(gatewayBefore).Count(l => l.Contains("\"- - -\" 0 DPE", StringComparison.Ordinal));
                if (refused >= 3)
                {
                    break;
                }

                Assert.True(DateTime.UtcNow < deadline, $"expected 3 refused handshakes in the gateway's log, saw {refused}");
                await Task.Delay(100);
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>A client certificate for sleep's identity signed by the mesh's own CA key, but expired an hour ago.</summary>
    private (string Certificate, string Key) IssueExpired(string dir)
    {
        var caDirectory = Path.Combine(mesh.DataDirectory, "ca");
        using var ca = X509Certificate2.CreateFromPem(File.ReadAllText(Path.Combine(caDirectory, "root-cert.pem")));
        using var caKey = ECDsa.Create();
        caKey.ImportFromPem(File.ReadAllText(Path.Combine(caDirectory, "ca-key.pem")));
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddUri(new Uri("spiffe://cluster.local/ns/default/sa/sleep"));
        request.CertificateExtensions.Add(names.Build(critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.2")], false));
        // Signed with the generator, not the issuer certificate: .NET refuses validity outside a young issuer's own.
        using var certificate = request.Create(ca.SubjectName, X509SignatureGenerator.CreateForECDsa(caKey), DateTimeOffset.UtcNow.AddHours(-3), DateTimeOffset.UtcNow.AddHours(-1), [1, 2, 3, 4]);
        var certificatePath = Path.Combine(dir, "expired.crt");
        var keyPath = Path.Combine(dir, "expired.key");
        File.WriteAllText(certificatePath, certificate.ExportCertificatePem());
        File.WriteAllText(keyPath, key.ExportPkcs8PrivateKeyPem());
        return (certificatePath, keyPath);
    }

    private async Task<int> AdminPortAsync(string pod, string ns)
    {
        var port = await mesh.CliAsync("get", "pod", pod, "-n", ns, "-o", "jsonpath={.metadata.annotations.meshgate\\.io/admin-port}");
        return int.Parse(port.Trim(), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>The URI SANs of the <c>default</c> certificate in a config dump.</summary>
    private static string ExtractSans(string dump)
    {
        using var json = System.Text.Json.JsonDocument.Parse(dump);
        foreach (var secret in json.RootElement.GetProperty("secrets").EnumerateArray())
        {
            if (secret.GetProperty("name").GetString() == "default")
            {
                Assert.Equal("[redacted]", secret.GetProperty("privateKey").GetString());
                using var certificate = X509Certificate2.CreateFromPem(secret.GetProperty("certificateChain").GetString()!);
                return certificate.GetNameInfo(X509NameType.UrlName, forIssuer: false);
            }
        }

        return "";
    }
}

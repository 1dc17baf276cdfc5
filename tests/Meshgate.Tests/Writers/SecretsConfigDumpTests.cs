using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using Meshgate.Core.ProxyConfiguration;
using Meshgate.Tests.Commands;
using Meshgate.Writers;
using Xunit;

namespace Meshgate.Tests.Writers;

/// <summary>
/// <c>meshgate pc secret</c>: Envoy's SecretsConfigDump JSON and istioctl's table, from real certificates made here.
/// </summary>
public sealed class SecretsConfigDumpTests : IDisposable
{
    private const string Spiffe = "spiffe://cluster.local/ns/istio-system/sa/istio-egressgateway-service-account";

    private static readonly DateTimeOffset Now = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    // A serial whose first byte has the high bit set: DER prefixes 00, istioctl (Go's big.Int) shows no leading zero.
    private static readonly byte[] WorkloadSerial = [0x00, 0x9a, 0x3f, 0x01, 0x7c];

    private readonly ECDsa _rootKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly ECDsa _workloadKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly ECDsa _credentialKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly X509Certificate2 _root;
    private readonly X509Certificate2 _workload;
    private readonly X509Certificate2 _credential;

    public SecretsConfigDumpTests()
    {
        var root = new CertificateRequest("O=cluster.local", _rootKey, HashAlgorithmName.SHA256);
        root.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        _root = root.CreateSelfSigned(Now.AddDays(-10), Now.AddYears(10));

        var workload = new CertificateRequest("", _workloadKey, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddUri(new Uri(Spiffe));
        workload.CertificateExtensions.Add(san.Build(critical: true));
        _workload = workload.Create(_root.SubjectName, X509SignatureGenerator.CreateForECDsa(_rootKey), Now.AddHours(-1), Now.AddHours(23), WorkloadSerial);

        var credential = new CertificateRequest("CN=client.example.com", _credentialKey, HashAlgorithmName.SHA256);
        _credential = credential.CreateSelfSigned(Now.AddDays(-400), Now.AddDays(-35)); // expired: VALID CERT false
    }

    public void Dispose()
    {
        _root.Dispose();
        _workload.Dispose();
        _credential.Dispose();
        _rootKey.Dispose();
        _workloadKey.Dispose();
        _credentialKey.Dispose();
    }

    private string WorkloadChain => _workload.ExportCertificatePem() + "\n" + _root.ExportCertificatePem() + "\n";

    private string RootPem => _root.ExportCertificatePem() + "\n";

    /// <summary>The proxy's /config_dump secrets as the contract gives them, out of order, one with a real key.</summary>
    private Secret[] Secrets =>
    [
        new() { Name = "client-credential-cacert", TrustedCa = RootPem },
        new() { Name = "client-credential", CertificateChain = _credential.ExportCertificatePem(), PrivateKey = _credentialKey.ExportPkcs8PrivateKeyPem() },
        new() { Name = Secret.RootCa, TrustedCa = RootPem },
        new() { Name = Secret.Default, CertificateChain = WorkloadChain, PrivateKey = _workloadKey.ExportPkcs8PrivateKeyPem() },
    ];

    [Fact]
    public void Build_WorkloadAndCredentialSecrets_EnvoyShapeInIstioOrder()
    {
        var dump = SecretsConfigDump.Build(Secrets, "2026-03-01T11:59:00Z/7", Now);

        Assert.Equal("type.googleapis.com/envoy.admin.v3.SecretsConfigDump", dump["@type"]!.GetValue<string>());
        var active = dump["dynamicActiveSecrets"]!.AsArray();
        Assert.Equal(["default", "ROOTCA", "kubernetes://client-credential", "kubernetes://client-credential-cacert"],
            active.Select(a => a!["name"]!.GetValue<string>()));
        foreach (var entry in active)
        {
            Assert.Equal("2026-03-01T11:59:00Z/7", entry!["versionInfo"]!.GetValue<string>());
            Assert.Equal("2026-03-01T12:00:00.000Z", entry["lastUpdated"]!.GetValue<string>());
            Assert.Equal("type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret", entry["secret"]!["@type"]!.GetValue<string>());
            Assert.Equal(entry["name"]!.GetValue<string>(), entry["secret"]!["name"]!.GetValue<string>());
        }

        var certificate = active[0]!["secret"]!["tlsCertificate"]!;
        Assert.Equal(WorkloadChain, Decode(certificate["certificateChain"]!["inlineBytes"]!));
        Assert.Equal("W3JlZGFjdGVkXQ==", certificate["privateKey"]!["inlineBytes"]!.GetValue<string>());
        Assert.Equal("[redacted]", Decode(certificate["privateKey"]!["inlineBytes"]!));
        Assert.Null(active[0]!["secret"]!["validationContext"]);

        Assert.Equal(RootPem, Decode(active[1]!["secret"]!["validationContext"]!["trustedCa"]!["inlineBytes"]!));
        Assert.Null(active[1]!["secret"]!["tlsCertificate"]);
        Assert.Equal("W3JlZGFjdGVkXQ==", active[2]!["secret"]!["tlsCertificate"]!["privateKey"]!["inlineBytes"]!.GetValue<string>());
    }

    [Fact]
    public void Build_DefaultChain_DecodesToTheLeafWithItsSpiffeSan()
    {
        // What Istio's docs pipe through jq, base64 -d and openssl x509: the first certificate of default's chain.
        var dump = JsonNode.Parse(SecretsConfigDump.ToJson(Secrets, "7", Now))!;
        var inline = dump["dynamicActiveSecrets"]!.AsArray().First(a => a!["name"]!.GetValue<string>() == "default")!
            ["secret"]!["tlsCertificate"]!["certificateChain"]!["inlineBytes"]!;

        using var leaf = X509Certificate2.CreateFromPem(Decode(inline));
        Assert.Equal(_workload.Thumbprint, leaf.Thumbprint);
        var san = leaf.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single();
        Assert.Contains(Spiffe, san.Format(false), StringComparison.Ordinal);
    }

    [Fact]
    public void Build_RealPrivateKeys_NeverInTheOutput()
    {
        var secrets = Secrets;
        var json = SecretsConfigDump.ToJson(secrets, "7", Now);
        var table = ProxyConfigTables.Secrets(secrets, Now);

        foreach (var key in secrets.Select(s => s.PrivateKey).OfType<string>())
        {
            var body = key.Split('\n')[1]; // a line of the key's base64
            Assert.DoesNotContain(body, json, StringComparison.Ordinal);
            Assert.DoesNotContain(Convert.ToBase64String(Encoding.UTF8.GetBytes(key)), json, StringComparison.Ordinal);
            Assert.DoesNotContain(body, table, StringComparison.Ordinal);
        }

        Assert.DoesNotContain("PRIVATE KEY", json, StringComparison.Ordinal);
        Assert.All(InlineBytes(JsonNode.Parse(json)!), decoded => Assert.DoesNotContain("PRIVATE KEY", decoded, StringComparison.Ordinal));
    }

    [Fact]
    public void Resources_SecretWithChainAndCa_TwoResourcesTheCaAsIstioNamesIt()
    {
        var both = new Secret { Name = "gw-credential", CertificateChain = RootPem, PrivateKey = "-----BEGIN PRIVATE KEY-----\n", TrustedCa = RootPem };

        var resources = SecretsConfigDump.Resources([both]);

        Assert.Equal(["kubernetes://gw-credential", "kubernetes://gw-credential-cacert"], resources.Select(r => r.Name));
        Assert.Equal(["Cert Chain", "CA"], resources.Select(r => r.Type));
        Assert.True(resources[0].HasPrivateKey);
    }

    [Fact]
    public void Secrets_Table_IstioctlColumnsOrderPrefixAndSerial()
    {
        var table = ProxyConfigTables.Secrets(Secrets, Now);

        var lines = table.TrimEnd('\n').Split('\n');
        Assert.Equal(["RESOURCE NAME", "TYPE", "STATUS", "VALID CERT", "SERIAL NUMBER", "NOT AFTER", "NOT BEFORE"], Cells(lines[0]));
        Assert.Equal(["default", "Cert Chain", "ACTIVE", "true", "9a3f017c", "2026-03-02T11:00:00Z", "2026-03-01T11:00:00Z"], Cells(lines[1]));
        Assert.Equal(["ROOTCA", "CA", "ACTIVE", "true", _root.SerialNumber.TrimStart('0').ToLowerInvariant(),
            Rfc3339(_root.NotAfter), Rfc3339(_root.NotBefore)], Cells(lines[2]));
        Assert.Equal(["kubernetes://client-credential", "Cert Chain", "ACTIVE", "false", _credential.SerialNumber.TrimStart('0').ToLowerInvariant(),
            Rfc3339(_credential.NotAfter), Rfc3339(_credential.NotBefore)], Cells(lines[3]));
        Assert.Equal(["kubernetes://client-credential-cacert", "CA", "ACTIVE", "true"], Cells(lines[4])[..4]);
        Assert.Equal(5, lines.Length);
    }

    [Fact]
    public void Secrets_UnparsableCertificate_RowSaysNotValid()
    {
        var table = ProxyConfigTables.Secrets([new Secret { Name = "broken", TrustedCa = "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n" }], Now);

        Assert.Equal(["kubernetes://broken", "CA", "ACTIVE", "false", "-", "-", "-"], Cells(table.Split('\n')[1]));
    }

    [Fact]
    public async Task ProxyConfigSecret_AdminPageHoldsARealKey_CliPrintsEnvoysDumpWithoutIt()
    {
        // The proxy's /config_dump as the contract gives it: default redacted, a credential's key in full.
        var secrets = Secrets.Select(s => s.Name == Secret.Default ? s with { PrivateKey = "[redacted]" } : s).ToArray();
        var dump = ProxyConfigLoader.ToJson(new ProxyConfig { Version = "v7", Secrets = [.. secrets] }, indented: true);
        using var admin = new FakeAdmin(dump);
        var cli = new CliHarness();
        await cli.InitializeAsync();
        try
        {
            await cli.OkStdinAsync($$"""
                apiVersion: v1
                kind: Namespace
                metadata: {name: istio-system}
                ---
                apiVersion: v1
                kind: Pod
                metadata:
                  name: istio-egressgateway-abc12
                  namespace: istio-system
                  annotations: {meshgate.io/admin-port: "{{admin.Port}}"}
                spec:
                  containers:
                  - name: istio-proxy
                    image: meshgate
                """, "apply", "-f", "-");

            // Istio's docs: istioctl pc secret -n istio-system POD -ojson | jq '[.dynamicActiveSecrets[] | select(.name == "default")][0]...'
            var json = await cli.OkAsync("pc", "secret", "-n", "istio-system", "istio-egressgateway-abc12", "-ojson");
            var parsed = JsonNode.Parse(json)!;
            Assert.Equal(SecretsConfigDump.TypeUrl, parsed["@type"]!.GetValue<string>());
            var entries = parsed["dynamicActiveSecrets"]!.AsArray();
            Assert.Equal(["default", "ROOTCA", "kubernetes://client-credential", "kubernetes://client-credential-cacert"], entries.Select(e => e!["name"]!.GetValue<string>()));
            Assert.All(entries, e => Assert.Equal("v7", e!["versionInfo"]!.GetValue<string>()));
            using var leaf = X509Certificate2.CreateFromPem(Decode(entries[0]!["secret"]!["tlsCertificate"]!["certificateChain"]!["inlineBytes"]!));
            Assert.Contains(Spiffe, leaf.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single().Format(false), StringComparison.Ordinal);
            Assert.All(InlineBytes(parsed), decoded => Assert.DoesNotContain("PRIVATE KEY", decoded, StringComparison.Ordinal));

            var table = await cli.OkAsync("proxy-config", "secret", "istio-egressgateway-abc12.istio-system");
            Assert.StartsWith("RESOURCE NAME", table, StringComparison.Ordinal);
            Assert.Contains("kubernetes://client-credential ", table, StringComparison.Ordinal);
            Assert.Contains("9a3f017c", table, StringComparison.Ordinal);

            var all = await cli.OkAsync("pc", "all", "istio-egressgateway-abc12", "-n", "istio-system", "-o", "json");
            Assert.All(JsonNode.Parse(all)!["secrets"]!.AsArray().Where(s => s!["privateKey"] is not null),
                s => Assert.Equal("[redacted]", s!["privateKey"]!.GetValue<string>()));

            var key = _credentialKey.ExportPkcs8PrivateKeyPem().Split('\n')[1];
            Assert.Contains(key, dump, StringComparison.Ordinal); // the admin page did hold it
            foreach (var output in new[] { json, table, all })
            {
                Assert.DoesNotContain(key, output, StringComparison.Ordinal);
                Assert.DoesNotContain("PRIVATE KEY", output, StringComparison.Ordinal);
            }
        }
        finally
        {
            await cli.DisposeAsync();
        }
    }

    private static string Decode(JsonNode inlineBytes) => Encoding.UTF8.GetString(Convert.FromBase64String(inlineBytes.GetValue<string>()));

    private static string[] Cells(string line) => line.Split("   ", StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static string Rfc3339(DateTime time) => time.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);

    private static IEnumerable<string> InlineBytes(JsonNode dump) =>
        dump["dynamicActiveSecrets"]!.AsArray()
            .Select(entry => entry!["secret"]!)
            .SelectMany(secret => new[] { secret["tlsCertificate"]?["certificateChain"], secret["tlsCertificate"]?["privateKey"], secret["validationContext"]?["trustedCa"] })
            .Select(node => node?["inlineBytes"])
            .OfType<JsonNode>()
            .Select(Decode);

    /// <summary>A proxy's admin port that answers <c>/config_dump</c> with a fixed body.</summary>
    private sealed class FakeAdmin : IDisposable
    {
        private readonly HttpListener _listener = new();
        private readonly string _dump;

        public FakeAdmin(string dump)
        {
            _dump = dump;
            using (var probe = new TcpListener(IPAddress.Loopback, 0))
            {
                probe.Start();
                Port = ((IPEndPoint)probe.LocalEndpoint).Port;
            }

            _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
            _listener.Start();
            _ = ServeAsync();
        }

        public int Port { get; }

        public void Dispose() => _listener.Close();

        private async Task ServeAsync()
        {
            while (_listener.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = await _listener.GetContextAsync();
                }
                catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
                {
                    return;
                }

                var page = context.Request.Url?.AbsolutePath switch
                {
                    "/config_dump" => _dump,
                    "/clusters" => """{"configVersion":"v7","clusters":[]}""",
                    _ => null,
                };
                var body = Encoding.UTF8.GetBytes(page ?? "no such page\n");
                context.Response.StatusCode = page is null ? 404 : 200;
                context.Response.ContentType = page is null ? "text/plain" : "application/json";
                await context.Response.OutputStream.WriteAsync(body);
                context.Response.Close();
            }
        }
    }
}

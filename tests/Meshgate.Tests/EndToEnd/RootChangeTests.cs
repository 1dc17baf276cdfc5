using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using Xunit;

namespace Meshgate.Tests.EndToEnd;

/// <summary>A mesh of its own for changing the root: its own stand-in and proxy addresses.</summary>
public sealed class RootChangeSeedMesh() : SeedMesh("127.0.0.105", "127.0.0.106", []);

/// <summary>
/// Changing the mesh root under load (docs/identity.md "Changing the root"): the seed's TLS passthrough flow runs
/// through the sidecar → egress gateway hop, which is the mesh's mutual TLS, while Secret <c>cacerts</c> is created (a
/// root and an intermediate made here), changed to another root, and deleted (back to the self-signed root). Not one
/// request fails, a connection opened before the first change carries requests to the end, the proxies' new
/// certificates chain to each new root (read from <c>pc secret</c>), and no proxy loses its discovery stream.
/// </summary>
public sealed class RootChangeTests(RootChangeSeedMesh mesh) : IClassFixture<RootChangeSeedMesh>
{
    private const string Url = "https://edition.cnn.com/politics";

    [Fact]
    public async Task PlugInCaCreatedChangedDeleted_UnderLoad_NoRequestFailsAndCertificatesFollowTheRoot()
    {
        await mesh.ApplySeedAsync("https-serviceentry.yaml");
        await mesh.ApplySeedAsync("https-istio-gateway-destinationrule-virtualservice.yaml");
        var selfSigned = File.ReadAllText(Path.Combine(mesh.DataDirectory, "ca", "root-cert.pem"));

        using var stop = new CancellationTokenSource(TimeSpan.FromMinutes(4)); // bounds the load whatever happens
        var connections = 0;
        using var handler = new SocketsHttpHandler
        {
            Proxy = new WebProxy($"http://{mesh.ProxyIp}:15001"),
            UseProxy = true,
            MaxConnectionsPerServer = 1,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(10),
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            ConnectCallback = async (context, cancellationToken) =>
            {
                Interlocked.Increment(ref connections);
                var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
                await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                return new System.Net.Sockets.NetworkStream(socket, ownsSocket: true);
            },
        };
        using var originCa = X509CertificateLoader.LoadCertificateFromFile(mesh.CaPath);
        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, _) =>
        {
            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            chain.ChainPolicy.CustomTrustStore.Add(originCa);
            return certificate is X509Certificate2 presented && chain.Build(presented);
        };
        using var longLived = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(20), DefaultRequestVersion = HttpVersion.Version11 };
        Assert.Equal(HttpStatusCode.OK, (await longLived.GetAsync(Url, stop.Token)).StatusCode);

        // Two loads until the last change is complete: one request every 200 ms on the connection opened above, and
        // batches of 10 curl requests on a new connection each (new handshakes on the hop through every step).
        var kept = new List<string>();
        var fresh = new List<string>();
        using var loadDone = CancellationTokenSource.CreateLinkedTokenSource(stop.Token);
        var keptLoad = Task.Run(async () =>
        {
            while (!loadDone.IsCancellationRequested)
            {
                try
                {
                    using var response = await longLived.GetAsync(Url, stop.Token);
                    kept.Add(((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture));
                }
                catch (HttpRequestException e)
                {
                    kept.Add(e.Message);
                }

                await Task.Delay(200, CancellationToken.None);
            }
        });
        var urls = Enumerable.Range(0, 10).SelectMany(_ => new[] { "-o", "/dev/null", Url }).ToArray();
        var freshLoad = Task.Run(async () =>
        {
            while (!loadDone.IsCancellationRequested && fresh.Count < 20000)
            {
                var (code, output) = await mesh.CurlAsync(["-s", "-w", "%{http_code}\\n", .. urls]);
                fresh.AddRange(output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
                if (code != 0)
                {
                    fresh.Add($"curl exit {code}");
                }
            }
        });

        try
        {
            // 1. A plug-in CA with an intermediate, as Istio's "Plug in CA certificates" makes it.
            var first = new PlugInCa("Root A");
            await ApplyCaCertsAsync(first);
            await WaitCompletedAsync(1);
            await AssertCertificatesChainToAsync(first.RootPem, first.RootPem);

            // 2. Another root.
            var second = new PlugInCa("Root B");
            await ApplyCaCertsAsync(second);
            await WaitCompletedAsync(2);
            await AssertCertificatesChainToAsync(second.RootPem, second.RootPem);

            // 3. No plug-in CA: back to the self-signed root in DATA/ca.
            await mesh.CliAsync("delete", "secret", "cacerts", "-n", "istio-system");
            await WaitCompletedAsync(3);
            await AssertCertificatesChainToAsync(selfSigned, selfSigned);
            await Task.Delay(TimeSpan.FromSeconds(1)); // a little load after the last step, not a readiness wait
        }
        finally
        {
            await loadDone.CancelAsync();
            await Task.WhenAll(keptLoad, freshLoad);
        }

        var failedKept = kept.Where(c => c != "200").ToList();
        var failedFresh = fresh.Where(c => c != "200").ToList();
        var diagnostics = failedKept.Count + failedFresh.Count > 0 ? await DiagnosticsAsync() : "";
        Assert.True(failedKept.Count == 0, $"{failedKept.Count} of {kept.Count} requests on the long-lived connection failed: {string.Join(" | ", failedKept.Distinct())}\n{diagnostics}");
        Assert.True(failedFresh.Count == 0, $"{failedFresh.Count} of {fresh.Count} requests on new connections failed: {string.Join(" | ", failedFresh.Distinct())}\n{diagnostics}");
        Assert.True(kept.Count > 10 && fresh.Count > 10, $"too little load: {kept.Count} and {fresh.Count} requests");
        Assert.Equal(1, connections); // the connection opened before the first change was never dropped

        // Discovery stayed connected through the three changes: no proxy logged losing its stream.
        foreach (var (selector, ns) in new[] { ("istio=egressgateway", "istio-system"), ("app=sleep", "default") })
        {
            var log = await mesh.CliAsync("logs", "-l", selector, "-n", ns, "--tail", "100000");
            Assert.DoesNotContain("discovery: disconnected", log);
            Assert.Contains("identity: trust bundle", log);
        }

        // An invalid cacerts (a key that is not the certificate's) is refused and changes nothing.
        var broken = new PlugInCa("Root C");
        await ApplyCaCertsAsync(broken, keyFrom: new PlugInCa("Root D"));
        await mesh.Up.WaitForOutputAsync("ca: refused the new CA: Secret cacerts: ca-cert.pem and ca-key.pem do not make a signing key pair", TimeSpan.FromSeconds(30));
        await AssertCertificatesChainToAsync(selfSigned, selfSigned);
        Assert.Equal(3, Count(mesh.Up.Output, "ca: root change 3/3: complete"));
    }

    /// <summary>What the control plane and the proxies logged about identity and failed connections, for a failure's message.</summary>
    private async Task<string> DiagnosticsAsync()
    {
        var lines = new List<string>();
        lines.AddRange(mesh.Up.Output.Split('\n').Where(l => l.Contains("ca: ", StringComparison.Ordinal)));
        foreach (var (selector, ns) in new[] { ("istio=egressgateway", "istio-system"), ("app=sleep", "default") })
        {
            var log = await mesh.CliAsync("logs", "-l", selector, "-n", ns, "--tail", "100000");
            var interesting = log.Split('\n').Where(l => l.Contains("identity:", StringComparison.Ordinal) || l.Contains("DPE", StringComparison.Ordinal)
                || l.Contains(" UF", StringComparison.Ordinal) || l.Contains("warn", StringComparison.OrdinalIgnoreCase) || l.Contains("fail", StringComparison.OrdinalIgnoreCase)).ToList();
            lines.Add($"--- {selector} ({interesting.Count} lines)");
            lines.AddRange(interesting.Take(40));
            lines.AddRange(interesting.Skip(Math.Max(40, interesting.Count - 40)));
        }

        return string.Join('\n', lines);
    }

    /// <summary>Waits until the control plane has logged <paramref name="count"/> completed root changes.</summary>
    private async Task WaitCompletedAsync(int count)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (Count(mesh.Up.Output, "ca: root change 3/3: complete") < count)
        {
            Assert.True(DateTime.UtcNow < deadline, $"root change {count} did not complete within 60 s:\n{mesh.Up.Output}");
            await Task.Delay(100);
        }

        var output = mesh.Up.Output;
        Assert.Equal(count, Count(output, "ca: root change 1/3"));
        Assert.Equal(count, Count(output, "ca: root change 2/3: every proxy trusts the new root"));
        Assert.Contains("every proxy holds a certificate from the new CA", output[output.LastIndexOf("ca: root change 3/3", StringComparison.Ordinal)..]);

        // The old root stayed for handshakes begun with an old certificate before it was dropped (TrustRollout.HandshakeDrain).
        Assert.Equal(count, Count(output, "ca: root change 3/3: every proxy reports a certificate from the new CA; the old root stays in the bundle until"));
        Assert.True(
            output.LastIndexOf("the old root stays in the bundle until", StringComparison.Ordinal) < output.LastIndexOf("ca: root change 3/3: complete", StringComparison.Ordinal),
            "the old root was dropped before the handshake drain was logged");
    }

    private static int Count(string text, string part)
    {
        var count = 0;
        for (var at = text.IndexOf(part, StringComparison.Ordinal); at >= 0; at = text.IndexOf(part, at + part.Length, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }

    private async Task ApplyCaCertsAsync(PlugInCa ca, PlugInCa? keyFrom = null)
    {
        static string B64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));
        var secret = new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Secret",
            ["metadata"] = new JsonObject { ["name"] = "cacerts", ["namespace"] = "istio-system" },
            ["type"] = "Opaque",
            ["data"] = new JsonObject
            {
                ["ca-cert.pem"] = B64(ca.IntermediatePem),
                ["ca-key.pem"] = B64((keyFrom ?? ca).IntermediateKeyPem),
                ["root-cert.pem"] = B64(ca.RootPem),
                ["cert-chain.pem"] = B64(ca.IntermediatePem + ca.RootPem),
            },
        };
        await mesh.CliWithStdinAsync(secret.ToJsonString(), "apply", "-f", "-");
    }

    /// <summary>
    /// Both proxies' <c>default</c> certificates (from <c>pc secret -o json</c>) chain to <paramref name="root"/>, and
    /// their <c>ROOTCA</c> is <paramref name="bundle"/> exactly: the old root has left it.
    /// </summary>
    private async Task AssertCertificatesChainToAsync(string root, string bundle)
    {
        foreach (var (selector, ns) in new[] { ("istio=egressgateway", "istio-system"), ("app=sleep", "default") })
        {
            var pod = (await mesh.CliAsync("get", "pod", "-l", selector, "-n", ns, "-o", "jsonpath={.items[0].metadata.name}")).Trim();
            var dump = JsonNode.Parse(await mesh.CliAsync("pc", "secret", pod, "-n", ns, "-o", "json"))!;
            string? chainPem = null, trusted = null;
            foreach (var active in dump["dynamicActiveSecrets"]!.AsArray())
            {
                var secret = active!["secret"]!;
                if (active["name"]!.GetValue<string>() == "default")
                {
                    chainPem = Encoding.UTF8.GetString(Convert.FromBase64String(secret["tlsCertificate"]!["certificateChain"]!["inlineBytes"]!.GetValue<string>()));
                }
                else if (active["name"]!.GetValue<string>() == "ROOTCA")
                {
                    trusted = Encoding.UTF8.GetString(Convert.FromBase64String(secret["validationContext"]!["trustedCa"]!["inlineBytes"]!.GetValue<string>()));
                }
            }

            Assert.NotNull(chainPem);
            var presented = new X509Certificate2Collection();
            presented.ImportFromPem(chainPem);
            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            chain.ChainPolicy.CustomTrustStore.Add(X509Certificate2.CreateFromPem(root));
            chain.ChainPolicy.ExtraStore.AddRange(presented);
            Assert.True(chain.Build(presented[0]), $"{pod}'s certificate does not chain to the expected root: {string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation))}");
            Assert.Equal(Normalize(bundle), Normalize(trusted ?? ""));
        }
    }

    private static string Normalize(string pem)
    {
        var certificates = new X509Certificate2Collection();
        certificates.ImportFromPem(pem);
        return string.Join(",", certificates.Select(c => c.Thumbprint).Order(StringComparer.Ordinal));
    }

    /// <summary>A root and an intermediate CA signed by it, made for the test (ECDSA P-256).</summary>
    private sealed class PlugInCa
    {
        public PlugInCa(string name)
        {
            using var rootKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var rootRequest = new CertificateRequest($"O=Meshgate test, CN={name}", rootKey, HashAlgorithmName.SHA256);
            rootRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
            rootRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
            rootRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(rootRequest.PublicKey, false));
            using var root = rootRequest.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));

            using var intermediateKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var request = new CertificateRequest($"O=Meshgate test, CN={name} intermediate", intermediateKey, HashAlgorithmName.SHA256);
            request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
            request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign | X509KeyUsageFlags.DigitalSignature, true));
            request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
            request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(root, true, false));
            var serial = RandomNumberGenerator.GetBytes(16);
            serial[0] &= 0x7f; // a positive INTEGER (RFC 5280 4.1.2.2)
            using var intermediate = request.Create(root, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddMonths(6), serial);
            RootPem = root.ExportCertificatePem() + "\n";
            IntermediatePem = intermediate.ExportCertificatePem() + "\n";
            IntermediateKeyPem = intermediateKey.ExportPkcs8PrivateKeyPem() + "\n";
        }

        public string RootPem { get; }

        public string IntermediatePem { get; }

        public string IntermediateKeyPem { get; }
    }
}

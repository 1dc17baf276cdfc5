using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using Grpc.Core;
using Meshgate.ControlPlane;
using Meshgate.ControlPlane.Identity;
using Meshgate.Core.Resources;
using Meshgate.Proxy.Identity;
using Meshgate.Proxy.Sync;
using Microsoft.Extensions.Logging;
using Xunit;

namespace Meshgate.Tests.Identity;

/// <summary>
/// The mesh CA over real gRPC and TLS: an in-process control plane on a free secure port, and the proxy's own
/// certificate client asking it. Issuance only for the identity a pod's token entitles it to; every refusal logged.
/// </summary>
public sealed class WorkloadCertificateTests : IAsyncLifetime
{
    private const string Sleep = "spiffe://cluster.local/ns/default/sa/sleep";

    private readonly string _data = Directory.CreateTempSubdirectory("meshgate-ca-").FullName;
    private readonly RecordingLoggerProvider _logs = new();
    private ILoggerFactory _loggerFactory = null!;
    private ControlPlaneServer _server = null!;

    public async Task InitializeAsync()
    {
        _loggerFactory = LoggerFactory.Create(b => b.AddProvider(_logs));
        _server = await StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _loggerFactory.Dispose();
        Directory.Delete(_data, recursive: true);
    }

    private async Task<ControlPlaneServer> StartAsync()
    {
        var server = ControlPlaneServer.Create(
            new ControlPlaneOptions
            {
                DataDirectory = _data,
                ApiEndpoint = new IPEndPoint(IPAddress.Loopback, 0),
                SecureDiscoveryEndpoint = new IPEndPoint(IPAddress.Loopback, 0),
                DiscoveryEndpoint = new IPEndPoint(IPAddress.Loopback, 0),
            },
            _loggerFactory);
        await server.StartAsync();
        return server;
    }


    private Uri Secure => new($"https://127.0.0.1:{_server.SecureDiscoveryEndPoint!.Port}");

    /// <summary>A Pod as kubelet would have it, and a token bound to it written to a file; returns the file.</summary>
    private string PodWithToken(string name, string serviceAccount, TimeSpan? lifetime = null)
    {
        var pod = new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Pod",
            ["metadata"] = new JsonObject { ["name"] = name, ["namespace"] = "default" },
            ["spec"] = new JsonObject { ["serviceAccountName"] = serviceAccount, ["containers"] = new JsonArray(new JsonObject { ["name"] = "app", ["image"] = "x" }) },
        };
        _server.Store.Apply([new Resource(ResourceTypes.Pod, pod)]);
        var uid = _server.Store.Current.Get(new ObjectKey(ResourceTypes.Pod, "default", name))!.Metadata["uid"]!.GetValue<string>();
        var token = _server.Identity.Tokens.Issue(new BoundPod("default", serviceAccount, name, uid), lifetime ?? TimeSpan.FromHours(1), [ServiceAccountTokens.CaAudience]);
        var path = Path.Combine(_data, name + ".token");
        File.WriteAllText(path, token.Token);
        return path;
    }

    private WorkloadCertificateClient Client(string tokenFile, string identity = Sleep, Uri? address = null, TimeSpan lifetime = default) =>
        new(ControlPlaneChannel.Create(address ?? Secure, _server.RootBundle), identity, tokenFile, _server.RootBundle, lifetime);

    [Fact]
    public async Task CreateCertificate_TokenOfAPod_IssuesItsSpiffeIdentityChainedToTheRoot()
    {
        var secrets = await Client(PodWithToken("sleep-1", "sleep")).RequestAsync(CancellationToken.None);

        Assert.Equal(Sleep, secrets.Identity);
        using var leaf = X509Certificate2.CreateFromPem(secrets.Certificate.CertificateChain!);
        Assert.Equal(Sleep, leaf.GetNameInfo(X509NameType.UrlName, forIssuer: false));
        using (var key = leaf.GetECDsaPublicKey())
        {
            Assert.NotNull(key);
            Assert.Equal(256, key.KeySize);
        }

        // 24 h by default (plus the minute of backdating).
        var lifetime = leaf.NotAfter.ToUniversalTime() - leaf.NotBefore.ToUniversalTime();
        Assert.InRange(lifetime, TimeSpan.FromHours(24), TimeSpan.FromHours(24) + TimeSpan.FromMinutes(2));

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        var roots = new X509Certificate2Collection();
        roots.ImportFromPem(secrets.RootCa.TrustedCa!);
        chain.ChainPolicy.CustomTrustStore.AddRange(roots);
        Assert.True(chain.Build(leaf), string.Join(", ", chain.ChainStatus.Select(s => s.StatusInformation)));
        Assert.Contains(_logs.Lines, l => l.Contains($"ca: issued {Sleep} to pod default/sleep-1", StringComparison.Ordinal));
        Assert.DoesNotContain(_logs.Lines, l => l.Contains("PRIVATE KEY", StringComparison.Ordinal) || l.Contains(File.ReadAllText(Path.Combine(_data, "sleep-1.token")), StringComparison.Ordinal));
    }

    [Fact]
    public async Task CreateCertificate_AnotherIdentityThanTheTokens_RefusedAndLogged()
    {
        var tokenFile = PodWithToken("sleep-2", "sleep");
        var refused = await Assert.ThrowsAsync<RpcException>(() => Client(tokenFile, "spiffe://cluster.local/ns/istio-system/sa/istio-egressgateway-service-account").RequestAsync(CancellationToken.None));
        Assert.Equal(StatusCode.PermissionDenied, refused.StatusCode);
        Assert.Contains("entitled to spiffe://cluster.local/ns/default/sa/sleep only", refused.Status.Detail);
        Assert.Contains(_logs.Lines, l => l.Contains("ca: refused", StringComparison.Ordinal) && l.Contains("entitled", StringComparison.Ordinal));
    }

    [Fact]
    public async Task CreateCertificate_TokenOfADeletedPod_Refused()
    {
        var tokenFile = PodWithToken("sleep-3", "sleep");
        _server.Store.Delete([new ObjectKey(ResourceTypes.Pod, "default", "sleep-3")]);
        var refused = await Assert.ThrowsAsync<RpcException>(() => Client(tokenFile).RequestAsync(CancellationToken.None));
        Assert.Equal(StatusCode.PermissionDenied, refused.StatusCode);
        Assert.Contains("no longer exists", refused.Status.Detail);

        // The same name again is another pod (a new uid): the old token is a replay.
        var oldToken = Path.Combine(_data, "old.token");
        File.Copy(tokenFile, oldToken);
        _ = PodWithToken("sleep-3", "sleep");
        var replayed = await Assert.ThrowsAsync<RpcException>(() => Client(oldToken).RequestAsync(CancellationToken.None));
        Assert.Contains("recreated", replayed.Status.Detail);
    }

    [Fact]
    public async Task CreateCertificate_ForgedExpiredOrMissingToken_Unauthenticated()
    {
        var real = PodWithToken("sleep-4", "sleep");
        var uid = _server.Store.Current.Get(new ObjectKey(ResourceTypes.Pod, "default", "sleep-4"))!.Metadata["uid"]!.GetValue<string>();

        // Signed with another key: right claims, wrong signer.
        var elsewhere = Directory.CreateTempSubdirectory("meshgate-forger-").FullName;
        try
        {
            using var forger = ServiceAccountTokens.Load(elsewhere, TimeProvider.System);
            var forged = Path.Combine(_data, "forged.token");
            File.WriteAllText(forged, forger.Issue(new BoundPod("default", "sleep", "sleep-4", uid), TimeSpan.FromHours(1), [ServiceAccountTokens.CaAudience]).Token);
            var refused = await Assert.ThrowsAsync<RpcException>(() => Client(forged).RequestAsync(CancellationToken.None));
            Assert.Equal(StatusCode.Unauthenticated, refused.StatusCode);
            Assert.Contains("signature", refused.Status.Detail);
        }
        finally
        {
            Directory.Delete(elsewhere, recursive: true);
        }

        var expired = Path.Combine(_data, "expired.token");
        File.WriteAllText(expired, _server.Identity.Tokens.Issue(new BoundPod("default", "sleep", "sleep-4", uid), TimeSpan.FromMinutes(-5), [ServiceAccountTokens.CaAudience]).Token);
        var late = await Assert.ThrowsAsync<RpcException>(() => Client(expired).RequestAsync(CancellationToken.None));
        Assert.Contains("expired", late.Status.Detail);

        var garbage = Path.Combine(_data, "garbage.token");
        File.WriteAllText(garbage, "not-a-token");
        var bad = await Assert.ThrowsAsync<RpcException>(() => Client(garbage).RequestAsync(CancellationToken.None));
        Assert.Equal(StatusCode.Unauthenticated, bad.StatusCode);

        // The real token still works: nothing above broke the CA.
        Assert.Equal(Sleep, (await Client(real).RequestAsync(CancellationToken.None)).Identity);
        Assert.True(_logs.Lines.Count(l => l.Contains("ca: refused", StringComparison.Ordinal)) >= 3);
    }

    [Fact]
    public async Task CreateCertificate_OverPlaintext_Refused()
    {
        var tokenFile = PodWithToken("sleep-5", "sleep");
        var plaintext = new Uri($"http://127.0.0.1:{_server.DiscoveryEndPoint.Port}");
        var client = new WorkloadCertificateClient(ControlPlaneChannel.Create(plaintext, (string?)null), Sleep, tokenFile, (string?)null, TimeSpan.Zero);
        var refused = await Assert.ThrowsAsync<RpcException>(() => client.RequestAsync(CancellationToken.None));
        Assert.Equal(StatusCode.PermissionDenied, refused.StatusCode);
        Assert.Contains("over TLS only", refused.Status.Detail);
    }

    [Fact]
    public async Task Discovery_AChannelTrustingAnotherRoot_CannotConnect()
    {
        using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var otherRoot = new CertificateRequest("CN=other", other, HashAlgorithmName.SHA256).CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        var client = new WorkloadCertificateClient(ControlPlaneChannel.Create(Secure, otherRoot.ExportCertificatePem()), Sleep, PodWithToken("sleep-6", "sleep"), (string?)null, TimeSpan.Zero);
        // The handshake fails on the proxy's side: the control plane's certificate does not chain to what it trusts.
        var refused = await Assert.ThrowsAsync<RpcException>(() => client.RequestAsync(CancellationToken.None));
        Assert.NotEqual(StatusCode.OK, refused.StatusCode);
        Assert.Contains("SSL", refused.Status.DebugException?.ToString() ?? refused.Status.Detail, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(_logs.Lines, l => l.Contains("ca: issued", StringComparison.Ordinal));
    }

    [Fact]
    public async Task RequestedLifetime_Honoured()
    {
        var secrets = await Client(PodWithToken("sleep-7", "sleep"), lifetime: TimeSpan.FromMinutes(10)).RequestAsync(CancellationToken.None);
        Assert.InRange(secrets.NotAfter - DateTimeOffset.UtcNow, TimeSpan.FromMinutes(9), TimeSpan.FromMinutes(10));
    }

    [Fact]
    public async Task Restart_KeepsTheRoot_AndKeyFilesAre0600()
    {
        var root = _server.RootBundle;
        var issued = await Client(PodWithToken("sleep-8", "sleep")).RequestAsync(CancellationToken.None);
        await _server.DisposeAsync();
        _server = await StartAsync();

        Assert.Equal(root, _server.RootBundle);
        foreach (var file in new[] { CertificateAuthority.KeyFile, ServiceAccountTokens.KeyFile })
        {
            var mode = OperatingSystem.IsWindows() ? default : File.GetUnixFileMode(Path.Combine(_data, "ca", file));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, mode);
        }

        // A certificate issued before the restart still verifies against the root after it, and the old token still works.
        using var leaf = X509Certificate2.CreateFromPem(issued.Certificate.CertificateChain!);
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.CustomTrustStore.Add(X509Certificate2.CreateFromPem(_server.RootBundle));
        Assert.True(chain.Build(leaf));
        Assert.Equal(Sleep, (await Client(Path.Combine(_data, "sleep-8.token")).RequestAsync(CancellationToken.None)).Identity);
    }

    [Fact]
    public async Task PlugInCa_FromSecretCacerts_SignsWithTheIntermediate()
    {
        // An operator's root and an intermediate for the mesh, as Istio's "Plug in CA certificates" makes them.
        using var rootKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var rootRequest = new CertificateRequest("CN=Operator Root", rootKey, HashAlgorithmName.SHA256);
        rootRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        rootRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        using var operatorRoot = rootRequest.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(2));
        using var intermediateKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var intermediateRequest = new CertificateRequest("CN=Mesh Intermediate", intermediateKey, HashAlgorithmName.SHA256);
        intermediateRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        intermediateRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        using var intermediate = intermediateRequest.Create(operatorRoot, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1), [7, 7, 7]);

        static string B64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));
        var cacerts = new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Secret",
            ["metadata"] = new JsonObject { ["name"] = "cacerts", ["namespace"] = "istio-system" },
            ["data"] = new JsonObject
            {
                ["ca-cert.pem"] = B64(intermediate.ExportCertificatePem()),
                ["ca-key.pem"] = B64(intermediateKey.ExportPkcs8PrivateKeyPem()),
                ["root-cert.pem"] = B64(operatorRoot.ExportCertificatePem()),
                ["cert-chain.pem"] = B64(intermediate.ExportCertificatePem() + "\n" + operatorRoot.ExportCertificatePem()),
            },
        };
        _server.Store.Apply([new Resource(ResourceTypes.Secret, cacerts)]);
        await _server.DisposeAsync();
        _server = await StartAsync(); // istiod reads cacerts when it starts

        Assert.Contains("plug-in CA from Secret cacerts", _server.Identity.Authority.Source);
        var secrets = await Client(PodWithToken("sleep-9", "sleep")).RequestAsync(CancellationToken.None);
        var presented = new X509Certificate2Collection();
        presented.ImportFromPem(secrets.Certificate.CertificateChain!);
        Assert.Equal(2, presented.Count); // the workload's certificate, then the intermediate
        Assert.Equal(intermediate.Thumbprint, presented[1].Thumbprint);
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.CustomTrustStore.Add(operatorRoot);
        chain.ChainPolicy.ExtraStore.Add(presented[1]);
        Assert.True(chain.Build(presented[0]), string.Join(", ", chain.ChainStatus.Select(s => s.StatusInformation)));
        Assert.Contains("Operator Root", secrets.RootCa.TrustedCa is { } pem ? X509Certificate2.CreateFromPem(pem).Subject : "");
    }

    [Fact]
    public async Task PlugInCa_MissingKey_FailsToStartNamingTheKey()
    {
        var cacerts = new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Secret",
            ["metadata"] = new JsonObject { ["name"] = "cacerts", ["namespace"] = "istio-system" },
            ["stringData"] = new JsonObject { ["ca-cert.pem"] = "x", ["root-cert.pem"] = "y" },
        };
        _server.Store.Apply([new Resource(ResourceTypes.Secret, cacerts)]);
        await _server.DisposeAsync();
        var error = await Assert.ThrowsAsync<InvalidDataException>(() => StartAsync());
        Assert.Contains("key ca-key.pem is missing", error.Message);

        // Leave a startable control plane for DisposeAsync.
        var store = Meshgate.ControlPlane.Store.ResourceStore.Open(_data);
        store.Delete([new ObjectKey(ResourceTypes.Secret, "istio-system", "cacerts")]);
        store.Dispose();
        _server = await StartAsync();
    }

    [Fact]
    public async Task PlugInCa_CreatedWhileRunning_SwitchesWithoutRestart_InvalidIsRefused_DeletedGoesBack()
    {
        var selfSigned = _server.RootBundle;
        var selfSource = _server.Identity.Authority.Source;

        // A cacerts with a key that is not its certificate's: refused, logged, nothing changes.
        var (root, intermediate, key) = OperatorCa("Running Root");
        var (_, _, otherKey) = OperatorCa("Other Root");
        _server.Store.Apply([new Resource(ResourceTypes.Secret, CaCerts(root, intermediate, otherKey))]);
        await WaitForLogAsync("ca: refused the new CA: Secret cacerts: ca-cert.pem and ca-key.pem do not make a signing key pair");
        Assert.Equal(selfSource, _server.Identity.Authority.Source);
        Assert.Equal(selfSigned, _server.RootBundle);

        // A valid one: with no proxy on the trust stream the three steps follow at once; no restart.
        _server.Store.Apply([new Resource(ResourceTypes.Secret, CaCerts(root, intermediate, key))]);
        await WaitForLogAsync("ca: root change 3/3: complete");
        Assert.Contains("plug-in CA from Secret cacerts", _server.Identity.Authority.Source);
        Assert.Equal(root.Thumbprint, X509Certificate2.CreateFromPem(_server.RootBundle).Thumbprint);
        Assert.Equal(_server.RootBundle, File.ReadAllText(Path.Combine(_data, "ca", TrustRollout.BundleFile)));

        // The discovery port now presents a certificate from the new CA: a client trusting only the new root gets one.
        var secrets = await Client(PodWithToken("sleep-10", "sleep")).RequestAsync(CancellationToken.None);
        var presented = new X509Certificate2Collection();
        presented.ImportFromPem(secrets.Certificate.CertificateChain!);
        Assert.Equal(intermediate.Thumbprint, presented[1].Thumbprint);

        // Deleted: back to the self-signed root in DATA/ca, the same way.
        _server.Store.Delete([new ObjectKey(ResourceTypes.Secret, "istio-system", "cacerts")]);
        await WaitForLogAsync("ca: root change 3/3: complete", occurrences: 2);
        Assert.Equal(selfSource, _server.Identity.Authority.Source);
        Assert.Equal(selfSigned, _server.RootBundle);
        Assert.Contains(_logs.Lines, l => l.Contains("ca: root change 1/3", StringComparison.Ordinal));
        Assert.Contains(_logs.Lines, l => l.Contains("ca: root change 2/3", StringComparison.Ordinal));
    }

    private async Task WaitForLogAsync(string text, int occurrences = 1)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (_logs.Lines.Count(l => l.Contains(text, StringComparison.Ordinal)) < occurrences)
        {
            Assert.True(DateTime.UtcNow < deadline, $"no log line with {text} within 20 s:\n{string.Join('\n', _logs.Lines)}");
            await Task.Delay(50);
        }
    }

    /// <summary>An operator's root and an intermediate CA for the mesh signed by it, with the intermediate's key.</summary>
    private static (X509Certificate2 Root, X509Certificate2 Intermediate, ECDsa Key) OperatorCa(string name)
    {
        using var rootKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var rootRequest = new CertificateRequest($"CN={name}", rootKey, HashAlgorithmName.SHA256);
        rootRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        rootRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        var root = rootRequest.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(2));
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name} intermediate", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        var intermediate = request.Create(root, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1), RandomNumberGenerator.GetBytes(8));
        return (root, intermediate, key);
    }

    private static JsonObject CaCerts(X509Certificate2 root, X509Certificate2 intermediate, ECDsa key)
    {
        static string B64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));
        return new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Secret",
            ["metadata"] = new JsonObject { ["name"] = "cacerts", ["namespace"] = "istio-system" },
            ["data"] = new JsonObject
            {
                ["ca-cert.pem"] = B64(intermediate.ExportCertificatePem()),
                ["ca-key.pem"] = B64(key.ExportPkcs8PrivateKeyPem()),
                ["root-cert.pem"] = B64(root.ExportCertificatePem()),
                ["cert-chain.pem"] = B64(intermediate.ExportCertificatePem() + "\n" + root.ExportCertificatePem()),
            },
        };
    }

    /// <summary>Every formatted log line, for asserting what was (and was not) logged.</summary>
    private sealed class RecordingLoggerProvider : ILoggerProvider
    {
        private readonly ConcurrentQueue<string> _lines = new();

        public IReadOnlyCollection<string> Lines => _lines;

        public ILogger CreateLogger(string categoryName) => new Logger(_lines);

        public void Dispose()
        {
        }

        private sealed class Logger(ConcurrentQueue<string> lines) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                lines.Enqueue(formatter(state, exception));
        }
    }
}

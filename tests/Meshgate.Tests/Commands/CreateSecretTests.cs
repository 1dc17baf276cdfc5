using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using Xunit;

namespace Meshgate.Tests.Commands;

/// <summary><c>meshgate create secret generic|tls</c> against a real control plane, as Istio's docs run kubectl's.</summary>
public sealed class CreateSecretTests : IAsyncLifetime
{
    private readonly CliHarness _cli = new();
    private readonly string _files = Directory.CreateTempSubdirectory("meshgate-secret-").FullName;

    public async Task InitializeAsync()
    {
        await _cli.InitializeAsync();
        // Idempotent: the control plane may already hold istio-system.
        await _cli.OkStdinAsync("apiVersion: v1\nkind: Namespace\nmetadata: {name: istio-system}\n", "apply", "-f", "-");
    }

    public async Task DisposeAsync()
    {
        await _cli.DisposeAsync();
        Directory.Delete(_files, recursive: true);
    }

    [Fact]
    public async Task Generic_IstioDocsShape_StoresEachFileUnderItsKey()
    {
        var key = Write("client.example.com.key", Pem("PRIVATE KEY", 1));
        var cert = Write("client.example.com.crt", Pem("CERTIFICATE", 2));
        var ca = Write("example.com.crt", [0x00, 0xff, 0x80, 0x0a, 0x7f]); // bytes, not text: stored as they are

        var output = await _cli.OkAsync("create", "secret", "-n", "istio-system", "generic", "client-credential",
            $"--from-file=tls.key={key}", $"--from-file=tls.crt={cert}", $"--from-file=ca.crt={ca}");

        Assert.Equal("secret/client-credential created\n", output);
        var secret = await GetAsync("client-credential", "istio-system");
        Assert.Equal("Opaque", secret["type"]!.GetValue<string>());
        Assert.Equal(["ca.crt", "tls.crt", "tls.key"], secret["data"]!.AsObject().Select(p => p.Key).Order(StringComparer.Ordinal));
        Assert.Equal(File.ReadAllBytes(key), Data(secret, "tls.key"));
        Assert.Equal(File.ReadAllBytes(cert), Data(secret, "tls.crt"));
        Assert.Equal(File.ReadAllBytes(ca), Data(secret, "ca.crt"));
        Assert.DoesNotContain("PRIVATE KEY", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Generic_OptionsAfterTheName_KeyIsTheBaseNameAndLiteralsAreKept()
    {
        var file = Write("credentials.json", "{\"user\":\"admin\"}"u8.ToArray());

        var output = await _cli.OkAsync("create", "secret", "generic", "app-credential", "-nistio-system",
            $"--from-file={file}", "--from-literal=password=s3=cr3t", "--type", "example.com/basic");

        Assert.Equal("secret/app-credential created\n", output);
        var secret = await GetAsync("app-credential", "istio-system");
        Assert.Equal("example.com/basic", secret["type"]!.GetValue<string>());
        Assert.Equal(File.ReadAllBytes(file), Data(secret, "credentials.json"));
        Assert.Equal("s3=cr3t"u8.ToArray(), Data(secret, "password"));
    }

    [Fact]
    public async Task Generic_SecretExists_AlreadyExistsAndUnchanged()
    {
        var first = Write("first.txt", "first"u8.ToArray());
        var second = Write("second.txt", "second"u8.ToArray());
        await _cli.OkAsync("create", "secret", "generic", "taken", "--from-file=value=" + first);

        var again = await _cli.RunAsync("create", "secret", "generic", "taken", "--from-file=value=" + second);

        Assert.Equal(1, again.ExitCode);
        Assert.Equal("Error from server (AlreadyExists): secrets \"taken\" already exists\n", again.Error);
        Assert.Equal("", again.Out);
        Assert.Equal("first"u8.ToArray(), Data(await GetAsync("taken", "default"), "value"));
    }

    [Fact]
    public async Task Generic_MissingFile_ErrorNamesTheFlagAndPathAndStoresNothing()
    {
        var present = Write("present.key", Pem("PRIVATE KEY", 3));
        var missing = Path.Combine(_files, "nope.crt");

        var result = await _cli.RunAsync("create", "secret", "-n", "istio-system", "generic", "half",
            $"--from-file=tls.key={present}", $"--from-file=tls.crt={missing}");

        Assert.Equal(1, result.ExitCode);
        Assert.Equal($"error: --from-file=tls.crt={missing}: error reading {missing}: no such file or directory\n", result.Error);
        Assert.DoesNotContain("PRIVATE KEY", result.ToString(), StringComparison.Ordinal);
        var get = await _cli.RunAsync("get", "secret", "half", "-n", "istio-system");
        Assert.Contains("(NotFound)", get.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("bad#key=PATH", "\"bad#key\" is not valid key name for a Secret a valid config key must consist of alphanumeric characters")]
    [InlineData("=PATH", "key name for file path PATH missing")]
    [InlineData("tls.crt=", "file path for key name tls.crt missing")]
    [InlineData("a=b=PATH", "key names or file paths cannot contain '='")]
    public async Task Generic_BadFileSource_ErrorNamesTheFlag(string source, string message)
    {
        var file = Write("value.pem", Pem("PRIVATE KEY", 4));
        var flag = "--from-file=" + source.Replace("PATH", file, StringComparison.Ordinal);

        var result = await _cli.RunAsync("create", "secret", "generic", "bad", flag);

        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith($"error: {flag}: ", result.Error, StringComparison.Ordinal);
        Assert.Contains(message.Replace("PATH", file, StringComparison.Ordinal), result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("PRIVATE KEY", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Generic_DuplicateKeyOrBadLiteral_RefusedWithoutPrintingValues()
    {
        var a = Write("a.txt", "a"u8.ToArray());
        var b = Write("b.txt", "b"u8.ToArray());

        var duplicate = await _cli.RunAsync("create", "secret", "generic", "dup", $"--from-file=same={a}", $"--from-file=same={b}");
        Assert.Equal(1, duplicate.ExitCode);
        Assert.Equal($"error: --from-file=same={b}: cannot add key same, another key by that name already exists; give this one another name with --from-file=KEY=PATH\n", duplicate.Error);

        var literal = await _cli.RunAsync("create", "secret", "generic", "lit", "--from-literal=ok=1", "--from-literal=hunter2");
        Assert.Equal(1, literal.ExitCode);
        Assert.Equal("error: --from-literal (number 2): invalid literal source, expected key=value: it has no '='\n", literal.Error);
        Assert.DoesNotContain("hunter2", literal.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Tls_MatchingPair_StoredAsKubernetesTls()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var (cert, keyFile) = WritePair("gw", key, key);

        var output = await _cli.OkAsync("create", "secret", "tls", "gw-credential", "-n", "istio-system", $"--cert={cert}", $"--key={keyFile}");

        Assert.Equal("secret/gw-credential created\n", output);
        var secret = await GetAsync("gw-credential", "istio-system");
        Assert.Equal("kubernetes.io/tls", secret["type"]!.GetValue<string>());
        Assert.Equal(File.ReadAllBytes(cert), Data(secret, "tls.crt"));
        Assert.Equal(File.ReadAllBytes(keyFile), Data(secret, "tls.key"));
    }

    [Fact]
    public async Task Tls_KeyOfAnotherCertificate_RefusedNamingBothFiles()
    {
        using var certificateKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var otherKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var (cert, keyFile) = WritePair("mismatch", certificateKey, otherKey);

        var result = await _cli.RunAsync("create", "secret", "tls", "mismatch", "--cert", cert, "--key", keyFile);

        Assert.Equal(1, result.ExitCode);
        Assert.Equal($"error: --key={keyFile} does not match --cert={cert}: tls: private key does not match public key\n", result.Error);
        Assert.DoesNotContain("PRIVATE KEY", result.ToString(), StringComparison.Ordinal);
        Assert.Contains("(NotFound)", (await _cli.RunAsync("get", "secret", "mismatch")).Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Tls_MissingOrWrongFiles_ErrorsNameTheFlag()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var (cert, keyFile) = WritePair("files", key, key);
        var missing = Path.Combine(_files, "missing.key");

        var noKey = await _cli.RunAsync("create", "secret", "tls", "files", $"--cert={cert}");
        Assert.Equal("error: key and cert must be specified: meshgate create secret tls NAME --cert=PATH --key=PATH\n", noKey.Error);

        var absent = await _cli.RunAsync("create", "secret", "tls", "files", $"--cert={cert}", $"--key={missing}");
        Assert.Equal($"error: --key={missing}: error reading {missing}: no such file or directory\n", absent.Error);

        var swapped = await _cli.RunAsync("create", "secret", "tls", "files", $"--cert={keyFile}", $"--key={cert}");
        Assert.Equal(1, swapped.ExitCode);
        Assert.StartsWith($"error: --cert={keyFile}: no certificate found", swapped.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("PRIVATE KEY", swapped.Error, StringComparison.Ordinal);
    }

    private string Write(string name, byte[] bytes)
    {
        var path = Path.Combine(_files, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private (string Cert, string Key) WritePair(string name, ECDsa certificateKey, ECDsa fileKey)
    {
        var request = new CertificateRequest($"CN={name}.example.com", certificateKey, HashAlgorithmName.SHA256);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        return (Write(name + ".crt", System.Text.Encoding.ASCII.GetBytes(certificate.ExportCertificatePem() + "\n")),
            Write(name + ".key", System.Text.Encoding.ASCII.GetBytes(fileKey.ExportPkcs8PrivateKeyPem() + "\n")));
    }

    // PEM-looking text, distinct per seed: what matters here is that the bytes come back the same.
    private static byte[] Pem(string label, int seed) =>
        System.Text.Encoding.ASCII.GetBytes($"-----BEGIN {label}-----\n{Convert.ToBase64String(RandomNumberGenerator.GetBytes(48 + seed))}\n-----END {label}-----\n");

    private async Task<JsonNode> GetAsync(string name, string ns) =>
        JsonNode.Parse(await _cli.OkAsync("get", "secret", name, "-n", ns, "-o", "json"))!;

    private static byte[] Data(JsonNode secret, string key) => Convert.FromBase64String(secret["data"]![key]!.GetValue<string>());
}

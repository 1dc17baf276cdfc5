using System.Text;
using Xunit;

namespace Meshgate.Tests.EndToEnd;

/// <summary>
/// The real <c>meshgate controlplane</c> and the real CLI: the admin token is created once (0600) and kept across
/// restarts, never appears in the output, the logs or any other file; the CLI finds the kubeconfig through
/// <c>$KUBECONFIG</c> as kubectl does and says in one line why it cannot use one (none, refused, not trusted).
/// </summary>
public sealed class ApiCredentialTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("meshgate-credential-").FullName;
    private readonly int _port = MeshgateProcess.FreePort();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Data => Path.Combine(_dir, "data");

    private string Kubeconfig => Path.Combine(Data, "kubeconfig");

    private string TokenFile => Path.Combine(Data, "admin-token");

    private MeshgateProcess Start() =>
        MeshgateProcess.Start("controlplane", "--data", Data, "--listen", $"127.0.0.1:{_port}", "--discovery-port", "0");

    /// <summary>The real CLI with only <c>$KUBECONFIG</c> (no flag) telling it where the API is.</summary>
    private static Task<(int ExitCode, string Output)> CliAsync(string kubeconfigVariable, params string[] args) =>
        MeshgateProcess.RunAsync(new Dictionary<string, string> { ["KUBECONFIG"] = kubeconfigVariable, ["MESHGATE_SERVER"] = "" }, TimeSpan.FromSeconds(60), "", args);

    /// <summary>A copy of the kubeconfig with one line changed.</summary>
    private string Variant(string name, Func<string, string> change)
    {
        var text = File.ReadAllText(Kubeconfig);
        var changed = change(text);
        Assert.NotEqual(text, changed);
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, changed);
        return path;
    }

    [Fact]
    public async Task HandEditedToken_WithACharacterATokenCannotCarry_RefusedNamingTheTokenFile()
    {
        Directory.CreateDirectory(Data);
        await File.WriteAllTextAsync(TokenFile, "abc def\n");

        var (code, output) = await MeshgateProcess.RunAsync("", "controlplane", "--data", Data, "--listen", $"127.0.0.1:{_port}", "--discovery-port", "0");

        Assert.Equal(1, code);
        Assert.Contains($"error: the API's admin token: {TokenFile} holds a character a bearer token cannot carry; delete the file to make a new token", output);
        Assert.DoesNotContain("mesh CA", output);
    }

    [Fact]
    public async Task TheTokenStaysSecret_AndTheCliFindsTheKubeconfigThroughKUBECONFIG()
    {
        string token;
        string output;
        var up = Start();
        await using (up)
        {
            await up.WaitForOutputAsync("control plane ready", TimeSpan.FromSeconds(60));
            Assert.Contains($"resource API on https://127.0.0.1:{_port}/ (export KUBECONFIG={Kubeconfig})", up.Output, StringComparison.Ordinal);
            token = (await File.ReadAllTextAsync(TokenFile)).Trim();
            Assert.True(token.Length >= 40, token.Length.ToString(System.Globalization.CultureInfo.InvariantCulture));
            const UnixFileMode ownerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            Assert.Equal(ownerOnly, OperatingSystem.IsWindows() ? ownerOnly : File.GetUnixFileMode(TokenFile));
            Assert.Equal(ownerOnly, OperatingSystem.IsWindows() ? ownerOnly : File.GetUnixFileMode(Kubeconfig));

            // $KUBECONFIG alone: the server, the root to trust and the token all come from it; a list takes the first file that exists.
            var created = await CliAsync(Kubeconfig, "create", "namespace", "test-egress");
            Assert.True(created.ExitCode == 0, created.Output);
            var listed = await CliAsync($"{Path.Combine(_dir, "absent")}:{Kubeconfig}", "get", "ns");
            Assert.True(listed.ExitCode == 0, listed.Output);
            Assert.Contains("test-egress", listed.Output, StringComparison.Ordinal);

            // The flags alone, without a kubeconfig.
            var root = Path.Combine(_dir, "root.pem");
            await File.WriteAllTextAsync(root, await File.ReadAllTextAsync(Path.Combine(Data, "ca", "root-cert.pem")));
            var flags = await CliAsync(Path.Combine(_dir, "absent"), "get", "ns", "--server", $"https://127.0.0.1:{_port}", "--token", token, "--certificate-authority", root);
            Assert.True(flags.ExitCode == 0, flags.Output);
            Assert.Contains("test-egress", flags.Output, StringComparison.Ordinal);

            // Each failure is one line that says what to do.
            var absent = Path.Combine(_dir, "absent");
            Assert.Equal(
                (1, $"error: no kubeconfig found (--kubeconfig, KUBECONFIG={absent}, or .meshgate/kubeconfig, which 'meshgate up' writes); start the control plane with './meshgate up', or point KUBECONFIG at the kubeconfig it wrote (DATA/kubeconfig)\n"),
                await CliAsync(absent, "get", "ns"));

            var wrong = Variant("wrong-token.kubeconfig", t => t.Replace("token: " + token, "token: " + new string(token.Reverse().ToArray()), StringComparison.Ordinal));
            var refused = await CliAsync(wrong, "get", "ns");
            Assert.Equal(1, refused.ExitCode);
            Assert.StartsWith("error: the credential in KUBECONFIG was refused: Unauthorized", refused.Output, StringComparison.Ordinal);
            Assert.Single(refused.Output.TrimEnd('\n').Split('\n'));
            Assert.DoesNotContain(token, refused.Output, StringComparison.Ordinal);

            var noUser = Variant("no-user.kubeconfig", t => t[..t.IndexOf("users:", StringComparison.Ordinal)] + "users:\n- name: meshgate-admin\n  user: {}\n");
            var anonymous = await CliAsync(noUser, "apply", "-f", Path.Combine(TestPaths.TestData, "Seed", "http-serviceentry.yaml"));
            Assert.Equal(1, anonymous.ExitCode);
            Assert.StartsWith("error: the credential in KUBECONFIG was refused: Unauthorized", anonymous.Output, StringComparison.Ordinal);

            var flagRefused = await CliAsync(Kubeconfig, "get", "ns", "--token", "not-the-token");
            Assert.Equal(1, flagRefused.ExitCode);
            Assert.StartsWith("error: the credential in KUBECONFIG was refused: Unauthorized", flagRefused.Output, StringComparison.Ordinal);

            using (var other = new ThrowawayCa(_dir))
            {
                var otherRoot = Convert.ToBase64String(Encoding.ASCII.GetBytes(await File.ReadAllTextAsync(other.CertificatePath)));
                var untrusting = Variant("other-ca.kubeconfig", t => System.Text.RegularExpressions.Regex.Replace(t, "certificate-authority-data: \\S+", "certificate-authority-data: " + otherRoot));
                var untrusted = await CliAsync(untrusting, "get", "ns");
                Assert.Equal(1, untrusted.ExitCode);
                Assert.StartsWith($"error: the control plane at https://127.0.0.1:{_port}/ presented a certificate not trusted by the certificate authority of KUBECONFIG ({untrusting})", untrusted.Output, StringComparison.Ordinal);
                Assert.Single(untrusted.Output.TrimEnd('\n').Split('\n'));
            }

            // Nothing the refused requests tried was stored.
            Assert.DoesNotContain("cnn", (await CliAsync(Kubeconfig, "get", "se", "-A")).Output, StringComparison.Ordinal);
            await up.TerminateAsync(TimeSpan.FromSeconds(30));
            output = up.Output;
        }

        Assert.DoesNotContain(token, output, StringComparison.Ordinal);
        foreach (var file in Directory.EnumerateFiles(Data, "*", SearchOption.AllDirectories))
        {
            if (file != TokenFile && file != Kubeconfig)
            {
                Assert.False((await File.ReadAllBytesAsync(file)).AsSpan().IndexOf(Encoding.ASCII.GetBytes(token)) >= 0, $"{file} holds the admin token");
            }
        }

        // A restart keeps the token: the kubeconfig written before (and copied elsewhere) still works.
        var copy = Path.Combine(_dir, "kept.kubeconfig");
        File.Copy(Kubeconfig, copy);
        var again = Start();
        await using (again)
        {
            await again.WaitForOutputAsync("control plane ready", TimeSpan.FromSeconds(60));
            Assert.Equal(token, (await File.ReadAllTextAsync(TokenFile)).Trim());
            var kept = await CliAsync(copy, "get", "ns");
            Assert.True(kept.ExitCode == 0, kept.Output);
            Assert.Contains("test-egress", kept.Output, StringComparison.Ordinal);
            await again.TerminateAsync(TimeSpan.FromSeconds(30));
            Assert.DoesNotContain(token, again.Output, StringComparison.Ordinal);
        }
    }
}

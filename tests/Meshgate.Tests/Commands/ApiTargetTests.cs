using System.Text;
using Meshgate.Commands;
using Meshgate.Tests.EndToEnd;
using Xunit;

namespace Meshgate.Tests.Commands;

/// <summary>
/// How the CLI finds the resource API, as kubectl does: <c>--server</c>/<c>--token</c>/<c>--certificate-authority</c>,
/// else <c>--kubeconfig</c>, else <c>$KUBECONFIG</c> (the first file of the list that exists), else
/// <c>.meshgate/kubeconfig</c>; and the one-line errors when it cannot.
/// </summary>
public sealed class ApiTargetTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("meshgate-target-").FullName;
    private readonly ThrowawayCa _ca;

    public ApiTargetTests()
    {
        _ca = new ThrowawayCa(_dir);
    }

    public void Dispose()
    {
        _ca.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private string Write(string name, string text)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    private string Kubeconfig(string name, string server, string? token, bool authority = true) => Write(name, $"""
        apiVersion: v1
        kind: Config
        clusters:
        - name: other
          cluster:
            server: https://10.0.0.1:6443
        - name: meshgate
          cluster:
            server: {server}
        {(authority ? "    certificate-authority-data: " + Convert.ToBase64String(Encoding.ASCII.GetBytes(File.ReadAllText(_ca.CertificatePath))) : "")}
        contexts:
        - name: meshgate
          context:
            cluster: meshgate
            user: admin
        current-context: meshgate
        users:
        - name: admin
          user: {(token is null ? "{}" : "{token: " + token + "}")}

        """);

    private static string Error(Action action) => Assert.Throws<CliException>(action).Message;

    [Fact]
    public void TheKubeconfig_GivesTheCurrentContextsServerTokenAndAuthority()
    {
        var path = Kubeconfig("a", "https://127.0.0.1:15014", "secret-a");

        var target = ApiTarget.Resolve(null, null, null, null, path);

        Assert.Equal(new Uri("https://127.0.0.1:15014"), target.Server);
        Assert.Equal("secret-a", target.Token);
        Assert.Equal("CN=Meshgate test CA", Assert.Single(target.Authority!).Subject);
        Assert.Equal($"KUBECONFIG ({path})", target.Source);
    }

    [Fact]
    public void KUBECONFIG_IsAList_TheFirstFileThatExistsIsUsed()
    {
        var second = Kubeconfig("b", "https://127.0.0.1:2", "secret-b");
        Kubeconfig("c", "https://127.0.0.1:3", "secret-c");

        var target = ApiTarget.Resolve(null, null, null, null, $"{Path.Combine(_dir, "absent")}:{second}:{Path.Combine(_dir, "c")}");

        Assert.Equal(("https://127.0.0.1:2/", "secret-b"), (target.Server.ToString(), target.Token));
    }

    [Fact]
    public void FlagsWinOverTheKubeconfig_AndKubeconfigOverKUBECONFIG()
    {
        var variable = Kubeconfig("variable", "https://127.0.0.1:2", "from-variable");
        var option = Kubeconfig("option", "https://127.0.0.1:3", "from-option");

        Assert.Equal("from-option", ApiTarget.Resolve(null, null, null, option, variable).Token);
        var flags = ApiTarget.Resolve("127.0.0.1:4", "from-flag", _ca.CertificatePath, option, variable);
        Assert.Equal((new Uri("https://127.0.0.1:4"), "from-flag", "--token"), (flags.Server, flags.Token, flags.Source));
        Assert.NotNull(flags.Authority);
    }

    [Fact]
    public void AUserWithoutToken_SendsNone()
    {
        Assert.Null(ApiTarget.Resolve(null, null, null, null, Kubeconfig("anonymous", "https://127.0.0.1:5", token: null)).Token);
    }

    [Fact]
    public void NoKubeconfig_SaysWhereItLooked()
    {
        var absent = Path.Combine(_dir, "absent");

        Assert.Equal(
            $"error: no kubeconfig found (--kubeconfig, KUBECONFIG={absent}, or .meshgate/kubeconfig, which 'meshgate up' writes); start the control plane with './meshgate up', or point KUBECONFIG at the kubeconfig it wrote (DATA/kubeconfig)",
            Error(() => ApiTarget.Resolve(null, null, null, null, absent)));
        Assert.Equal($"error: --kubeconfig {absent}: no such file", Error(() => ApiTarget.Resolve(null, null, null, absent, null)));
    }

    [Fact]
    public void ABrokenKubeconfig_NamesTheField()
    {
        var noContext = Write("no-context", "apiVersion: v1\nkind: Config\nclusters: []\n");
        Assert.Equal($"error: the kubeconfig {noContext} has no current-context", Error(() => ApiTarget.Resolve(null, null, null, noContext, null)));

        var badAuthority = Write("bad-authority", File.ReadAllText(Kubeconfig("x", "https://127.0.0.1:6", "t"))
            .Replace("certificate-authority-data: ", "certificate-authority-data: x*", StringComparison.Ordinal));
        Assert.StartsWith($"error: the kubeconfig {badAuthority}: clusters[meshgate].cluster.certificate-authority-data", Error(() => ApiTarget.Resolve(null, null, null, badAuthority, null)), StringComparison.Ordinal);

        var badServer = Kubeconfig("bad-server", "ftp://127.0.0.1:7", "t");
        Assert.Equal($"error: the kubeconfig {badServer}: server \"ftp://127.0.0.1:7\" is not an https:// (or http://) address", Error(() => ApiTarget.Resolve(null, null, null, badServer, null)));
    }
}

using Meshgate.Commands;
using Meshgate.Supervision;

using Xunit;

namespace Meshgate.Tests.Supervision;

/// <summary>Which program runs the proxies Meshgate starts: the variable, then meshgate-proxy beside meshgate, then meshgate itself.</summary>
public sealed class ProxyExecutableTests : IDisposable
{
    private static readonly (string, IReadOnlyList<string>) Self = ("/opt/meshgate/meshgate", []);

    private readonly string _dir = Directory.CreateTempSubdirectory("meshgate-proxy-exe-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Resolve_NothingBeside_RunsSelf()
    {
        Assert.Equal(Self, ProxyExecutable.Resolve(null, _dir, () => Self));
    }

    [Fact]
    public void Resolve_MeshgateProxyBeside_RunsIt()
    {
        var beside = Path.Combine(_dir, ProxyExecutable.FileName);
        File.WriteAllText(beside, "");

        var (executable, prefix) = ProxyExecutable.Resolve("", _dir, () => Self);

        Assert.Equal(beside, executable);
        Assert.Empty(prefix);
    }

    [Fact]
    public void Resolve_VariableSet_WinsOverTheOneBeside()
    {
        File.WriteAllText(Path.Combine(_dir, ProxyExecutable.FileName), "");
        var configured = Path.Combine(_dir, "elsewhere-proxy");
        File.WriteAllText(configured, "");

        Assert.Equal(configured, ProxyExecutable.Resolve(configured, _dir, () => Self).Executable);
    }

    [Fact]
    public void Resolve_VariableNamesNoFile_FailsNamingTheVariable()
    {
        var missing = Path.Combine(_dir, "missing");

        var error = Assert.Throws<CliException>(() => ProxyExecutable.Resolve(missing, _dir, () => Self));

        Assert.Contains($"MESHGATE_PROXY_BINARY={missing}: no such file", error.Message, StringComparison.Ordinal);
    }
}

namespace Meshgate.Supervision;

/// <summary>
/// The program every proxy Meshgate starts is run with (<c>meshgate up</c>'s proxies, the local cluster's sidecars
/// and gateway pods): in order, <c>$MESHGATE_PROXY_BINARY</c>; the Native AOT <c>meshgate-proxy</c> beside this
/// program (what <c>./meshgate</c> publishes next to it: a third of the memory of a proxy run by <c>meshgate</c>
/// itself); else this program. Each takes the same arguments after its prefix: <c>proxy ...</c>.
/// </summary>
internal static class ProxyExecutable
{
    public const string EnvironmentVariable = "MESHGATE_PROXY_BINARY";

    public const string FileName = "meshgate-proxy";

    public static (string Executable, IReadOnlyList<string> Prefix) Resolve() =>
        Resolve(Environment.GetEnvironmentVariable(EnvironmentVariable), AppContext.BaseDirectory, SelfCommand.Resolve);

    internal static (string Executable, IReadOnlyList<string> Prefix) Resolve(
        string? configured, string programDirectory, Func<(string Executable, IReadOnlyList<string> Prefix)> self)
    {
        if (!string.IsNullOrEmpty(configured))
        {
            var path = Path.GetFullPath(configured);
            return File.Exists(path)
                ? (path, [])
                : throw new Commands.CliException($"error: {EnvironmentVariable}={configured}: no such file; set it to a meshgate-proxy executable, or unset it");
        }

        var beside = Path.Combine(programDirectory, FileName);
        return File.Exists(beside) ? (beside, []) : self();
    }
}

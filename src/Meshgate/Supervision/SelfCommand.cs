using System.Reflection;

namespace Meshgate.Supervision;

/// <summary>This program, to start its own children with (proxies, the commands of a document): the apphost, or <c>dotnet meshgate.dll</c>.</summary>
internal static class SelfCommand
{
    public static (string Executable, IReadOnlyList<string> Prefix) Resolve()
    {
        var process = Environment.ProcessPath ?? throw new InvalidOperationException("cannot tell which program is running");
        return Path.GetFileNameWithoutExtension(process) == "dotnet"
            ? (process, [Assembly.GetEntryAssembly()!.Location])
            : (process, []);
    }
}

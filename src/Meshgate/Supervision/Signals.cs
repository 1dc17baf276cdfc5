using System.Runtime.InteropServices;

namespace Meshgate.Supervision;

/// <summary>The two POSIX calls supervision needs that .NET does not expose: sending SIGTERM, and asking for one's parent.</summary>
internal static partial class Signals
{
    private const int SigTerm = 15;

    /// <summary>Asks a process to stop cleanly, as <c>kill PID</c> does; false when it is already gone.</summary>
    public static bool Terminate(int pid) => OperatingSystem.IsWindows() ? false : Kill(pid, SigTerm) == 0;

    public static int ParentProcessId() => OperatingSystem.IsWindows() ? 0 : GetParentProcessId();

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    [LibraryImport("libc", EntryPoint = "getppid")]
    private static partial int GetParentProcessId();
}

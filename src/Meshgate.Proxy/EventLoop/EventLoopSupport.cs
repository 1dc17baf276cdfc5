using System.Runtime.InteropServices;

namespace Meshgate.Proxy.EventLoop;

/// <summary>Whether the proxy drives its plain-HTTP sockets with its own <see cref="EpollLoop"/>.</summary>
public static class EventLoopSupport
{
    /// <summary><c>0</c> or <c>false</c> keeps the runtime's sockets (Kestrel's socket transport, <see cref="System.Net.Sockets.Socket"/> upstream).</summary>
    public const string EnvironmentVariable = "MESHGATE_EVENT_LOOP";

    /// <summary>Linux on x86-64: where <c>struct epoll_event</c> has the layout <see cref="Libc.EpollEvent"/> declares.</summary>
    public static bool Supported => OperatingSystem.IsLinux() && RuntimeInformation.ProcessArchitecture == Architecture.X64;

    /// <summary>On where supported, unless <see cref="EnvironmentVariable"/> turns it off.</summary>
    public static bool EnabledByEnvironment() =>
        Supported && Environment.GetEnvironmentVariable(EnvironmentVariable) is not ("0" or "false" or "False" or "FALSE");
}

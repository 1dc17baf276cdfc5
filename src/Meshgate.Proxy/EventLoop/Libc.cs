using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Meshgate.Proxy.EventLoop;

/// <summary>
/// The Linux calls the event loop makes itself. Hand-written because nothing in .NET or a package exposes what it
/// needs: edge-triggered epoll with the caller deciding when to read. .NET's <see cref="Socket"/> always tries a read
/// before it waits (one failed <c>recvfrom</c> per request and direction at keep-alive), and its engine cannot be told
/// otherwise (bench/RESULTS.md, "where the HTTP gap is").
/// </summary>
internal static unsafe partial class Libc
{
    public const int Eintr = 4;
    public const int Eagain = 11;
    public const int Einprogress = 115;

    public const int EpollCloexec = 0x80000;
    public const int EpollCtlAdd = 1;
    public const int EpollCtlDel = 2;
    public const uint EpollIn = 0x001;
    public const uint EpollOut = 0x004;
    public const uint EpollErr = 0x008;
    public const uint EpollHup = 0x010;
    public const uint EpollRdHup = 0x2000;
    public const uint EpollEdgeTriggered = 0x80000000;

    public const int SockNonblock = 0x800;
    public const int SockCloexec = 0x80000;
    public const int MsgNoSignal = 0x4000;
    public const int ShutWrite = 1;
    public const int ShutBoth = 2;
    public const int SolSocket = 1;
    public const int SoError = 4;
    public const int SoLinger = 13;
    public const int ShutRead = 0;
    public const int IpProtoTcp = 6;
    public const int TcpNoDelay = 1;

    /// <summary>
    /// <c>struct epoll_event</c> as x86-64 lays it out (packed: 12 bytes); other architectures pad it, so the event
    /// loop runs only on x86-64 (<see cref="EventLoopSupport"/>).
    /// </summary>
    [StructLayout(LayoutKind.Sequential, Pack = 4)]
    public struct EpollEvent
    {
        public uint Events;
        public ulong Data;
    }

    /// <summary><c>struct iovec</c>.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct IoVector
    {
        public byte* Base;
        public nuint Length;
    }

    [LibraryImport("libc", EntryPoint = "epoll_create1", SetLastError = true)]
    public static partial int EpollCreate(int flags);

    [LibraryImport("libc", EntryPoint = "epoll_ctl", SetLastError = true)]
    public static partial int EpollControl(int epoll, int operation, int fd, EpollEvent* item);

    [LibraryImport("libc", EntryPoint = "epoll_wait", SetLastError = true)]
    public static partial int EpollWait(int epoll, EpollEvent* events, int maxEvents, int timeout);

    [LibraryImport("libc", EntryPoint = "accept4", SetLastError = true)]
    public static partial int Accept(int fd, byte* address, int* addressLength, int flags);

    [LibraryImport("libc", EntryPoint = "connect", SetLastError = true)]
    public static partial int Connect(int fd, byte* address, int addressLength);

    [LibraryImport("libc", EntryPoint = "recv", SetLastError = true)]
    public static partial nint Receive(int fd, byte* buffer, nint length, int flags);

    [LibraryImport("libc", EntryPoint = "send", SetLastError = true)]
    public static partial nint Send(int fd, byte* buffer, nint length, int flags);

    [LibraryImport("libc", EntryPoint = "writev", SetLastError = true)]
    public static partial nint WriteVector(int fd, IoVector* vectors, int count);

    [LibraryImport("libc", EntryPoint = "shutdown", SetLastError = true)]
    public static partial int Shutdown(int fd, int how);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "getsockopt", SetLastError = true)]
    public static partial int GetSocketOption(int fd, int level, int name, void* value, int* length);

    [LibraryImport("libc", EntryPoint = "setsockopt", SetLastError = true)]
    public static partial int SetSocketOption(int fd, int level, int name, void* value, int length);

    [LibraryImport("libc", EntryPoint = "getsockname", SetLastError = true)]
    public static partial int GetSocketName(int fd, byte* address, int* addressLength);

    /// <summary>The failed call's error as .NET reports socket errors (the names the access log and tests use).</summary>
    public static SocketException SocketError(int errno) => new((int)(errno switch
    {
        104 => System.Net.Sockets.SocketError.ConnectionReset, // ECONNRESET
        32 => System.Net.Sockets.SocketError.ConnectionReset, // EPIPE: the peer reset before our write
        111 => System.Net.Sockets.SocketError.ConnectionRefused, // ECONNREFUSED
        110 => System.Net.Sockets.SocketError.TimedOut, // ETIMEDOUT
        113 => System.Net.Sockets.SocketError.HostUnreachable, // EHOSTUNREACH
        101 => System.Net.Sockets.SocketError.NetworkUnreachable, // ENETUNREACH
        103 => System.Net.Sockets.SocketError.ConnectionAborted, // ECONNABORTED
        9 or 107 => System.Net.Sockets.SocketError.NotConnected, // EBADF, ENOTCONN
        24 or 23 => System.Net.Sockets.SocketError.TooManyOpenSockets, // EMFILE, ENFILE
        _ => System.Net.Sockets.SocketError.SocketError,
    }));
}

using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Meshgate.LocalCluster;

/// <summary>
/// Opens a listening TCP socket inside a named network namespace (<c>/run/netns/NAME</c>) from this process: a thread of
/// its own enters the namespace with <c>setns(2)</c>, creates and binds the socket, and leaves; a socket stays in the
/// namespace it was created in. The local cluster uses it to give istiod's pod its listener while the control plane runs
/// in <c>up</c>'s process. .NET has no API for network namespaces, hence the two libc calls.
/// </summary>
internal static partial class NamespaceSockets
{
    private const int CloneNewNet = 0x40000000;

    public static Socket Listen(string networkNamespace, IPEndPoint endpoint) =>
        InNamespace(networkNamespace, () =>
        {
            var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
                socket.Bind(endpoint);
                socket.Listen(512);
                return socket;
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }, $"cannot listen on {endpoint}");

    /// <summary>
    /// A TCP socket (not yet connected) that belongs to a pod's network namespace: connecting it reaches what listens on
    /// that pod's loopback, such as a proxy's admin port, which the pod network does not expose.
    /// </summary>
    public static Socket Create(string networkNamespace, AddressFamily family) =>
        InNamespace(networkNamespace, () => new Socket(family, SocketType.Stream, ProtocolType.Tcp), "cannot open a socket");

    private static Socket InNamespace(string networkNamespace, Func<Socket> create, string what)
    {
        if (networkNamespace.Length == 0 || networkNamespace.Contains('/', StringComparison.Ordinal) || networkNamespace is "." or "..")
        {
            throw new IOException($"{what}: \"{networkNamespace}\" is not a network namespace name");
        }

        Socket? result = null;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                result = OnThisThread(networkNamespace, create);
            }
            catch (Exception e)
            {
                failure = e;
            }
        })
        {
            IsBackground = true,
            Name = "netns " + networkNamespace,
        };
        thread.Start();
        thread.Join();
        return result ?? throw new IOException($"{what} in network namespace {networkNamespace}: {failure?.Message}", failure);
    }

    private static Socket OnThisThread(string networkNamespace, Func<Socket> create)
    {
        using var home = File.OpenHandle("/proc/thread-self/ns/net");
        using var target = File.OpenHandle("/run/netns/" + networkNamespace);
        Enter(target);
        try
        {
            return create();
        }
        finally
        {
            Enter(home);
        }
    }

    private static void Enter(Microsoft.Win32.SafeHandles.SafeFileHandle ns)
    {
        if (SetNs((int)ns.DangerousGetHandle(), CloneNewNet) != 0)
        {
            throw new IOException($"setns: {Marshal.GetLastPInvokeErrorMessage()}");
        }
    }

    [LibraryImport("libc", EntryPoint = "setns", SetLastError = true)]
    private static partial int SetNs(int fd, int nsType);
}

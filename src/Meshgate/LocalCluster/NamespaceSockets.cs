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

    public static Socket Listen(string networkNamespace, IPEndPoint endpoint)
    {
        Socket? result = null;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                result = ListenOnThisThread(networkNamespace, endpoint);
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
        return result ?? throw new IOException($"cannot listen on {endpoint} in network namespace {networkNamespace}: {failure?.Message}", failure);
    }

    private static Socket ListenOnThisThread(string networkNamespace, IPEndPoint endpoint)
    {
        using var home = File.OpenHandle("/proc/thread-self/ns/net");
        using var target = File.OpenHandle("/run/netns/" + networkNamespace);
        Enter(target);
        try
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

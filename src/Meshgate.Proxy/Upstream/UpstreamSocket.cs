using System.Net;
using System.Net.Sockets;

namespace Meshgate.Proxy.Upstream;

/// <summary>
/// Creates the proxy's upstream sockets. With transparent capture they carry <see cref="Mark"/> (<c>SO_MARK</c>), which
/// the capture rules skip, so the proxy's own connections are never redirected back to it (Istio matches its uid 1337
/// instead; a mark also works when the proxy runs as the same user as the application). Process-wide: one proxy per
/// process sets it once, before it starts.
/// </summary>
public static class UpstreamSocket
{
    private const int SolSocket = 1;
    private const int SoMark = 36;

    private static int s_mark;

    /// <summary>The socket mark set on every upstream socket; 0 (the default) sets none.</summary>
    public static int Mark
    {
        get => Volatile.Read(ref s_mark);
        set => Volatile.Write(ref s_mark, value);
    }

    private static IPAddress? s_source;

    /// <summary>
    /// The workload's own address (<c>--ip</c>), which upstream connections leave from, as a pod's connections leave
    /// from its IP: the next hop sees (and logs) the workload, not 127.0.0.1. Used only where the route allows it: a
    /// loopback source only towards loopback destinations. Null (the default) lets the kernel choose.
    /// </summary>
    public static IPAddress? SourceAddress
    {
        get => Volatile.Read(ref s_source);
        set => Volatile.Write(ref s_source, value);
    }

    /// <summary>A socket for connecting to <paramref name="destination"/>: marked, and bound to <see cref="SourceAddress"/> where it applies.</summary>
    public static Socket CreateFor(IPEndPoint destination)
    {
        var socket = Create(destination.AddressFamily);
        if (SourceAddress is { } source
            && source.AddressFamily == destination.AddressFamily
            && IPAddress.IsLoopback(source) == IPAddress.IsLoopback(destination.Address))
        {
            try
            {
                socket.Bind(new IPEndPoint(source, 0));
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }

        return socket;
    }

    public static Socket Create(AddressFamily family)
    {
        var socket = new Socket(family, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        var mark = Mark;
        if (mark != 0)
        {
            try
            {
                socket.SetRawSocketOption(SolSocket, SoMark, BitConverter.GetBytes(mark));
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }

        return socket;
    }
}

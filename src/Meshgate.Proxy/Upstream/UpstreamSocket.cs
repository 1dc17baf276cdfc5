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

    /// <summary>For <see cref="SocketsHttpHandler.ConnectCallback"/>: the endpoints proxies dial are IP addresses.</summary>
    public static async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var target = context.DnsEndPoint;
        var socket = IPAddress.TryParse(target.Host, out var ip) ? Create(ip.AddressFamily) : Create(AddressFamily.InterNetworkV6);
        try
        {
            if (ip is null)
            {
                socket.DualMode = true;
                await socket.ConnectAsync(target, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await socket.ConnectAsync(new IPEndPoint(ip, target.Port), cancellationToken).ConfigureAwait(false);
            }

            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}

using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Meshgate.Proxy.Capture;

/// <summary>
/// The destination a connection had before netfilter redirected it (<c>REDIRECT</c> to the capture port): Linux's
/// <c>getsockopt(SOL_IP, SO_ORIGINAL_DST)</c>, or <c>(SOL_IPV6, IP6T_SO_ORIGINAL_DST)</c>, both option 80, as Envoy's
/// original_dst listener filter reads it.
/// </summary>
internal static class SocketOriginalDestination
{
    private const int SolIp = 0;
    private const int SolIpv6 = 41;
    private const int SoOriginalDst = 80;

    /// <summary>False when the connection was not redirected (or not on Linux): nothing to restore.</summary>
    public static bool TryGet(Socket socket, out IPEndPoint destination)
    {
        destination = null!;
        if (!OperatingSystem.IsLinux())
        {
            return false;
        }

        Span<byte> buffer = stackalloc byte[28];
        var ipv6 = socket.AddressFamily == AddressFamily.InterNetworkV6
            && socket.RemoteEndPoint is IPEndPoint { Address.IsIPv4MappedToIPv6: false };
        int length;
        try
        {
            length = socket.GetRawSocketOption(ipv6 ? SolIpv6 : SolIp, SoOriginalDst, buffer);
        }
        catch (SocketException)
        {
            return false;
        }

        // struct sockaddr_in / sockaddr_in6: family (host order), port (network order), then the address.
        var family = BitConverter.ToUInt16(buffer[..2]);
        var port = BinaryPrimitives.ReadUInt16BigEndian(buffer[2..4]);
        if (family == 2 && length >= 8)
        {
            destination = new IPEndPoint(new IPAddress(buffer[4..8]), port);
            return true;
        }

        if (family == 10 && length >= 24)
        {
            destination = new IPEndPoint(new IPAddress(buffer[8..24]), port);
            return true;
        }

        return false;
    }
}

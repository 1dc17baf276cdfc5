using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Meshgate.Tests.EndToEnd;

/// <summary>
/// What actually crossed a hop between two local processes, as bytes: every frame the kernel hands an AF_PACKET socket
/// (the interface tcpdump reads, without libpcap's memory-mapped ring, which this kind of machine does not deliver
/// to), kept when it is IPv4 TCP to or from one address and port. Needs root (CAP_NET_RAW), as tcpdump does.
/// </summary>
internal sealed class PacketCapture : IAsyncDisposable
{
    private const short EthernetAll = 0x0003; // ETH_P_ALL
    private readonly Socket _socket;
    private readonly IPAddress _address;
    private readonly int _port;
    private readonly List<byte[]> _frames = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    private PacketCapture(Socket socket, IPAddress address, int port)
    {
        _socket = socket;
        _address = address;
        _port = port;
        _loop = Task.Run(ReceiveAsync);
    }

    public static PacketCapture Start(string address, int port)
    {
        Socket socket;
        try
        {
            socket = new Socket(AddressFamily.Packet, SocketType.Raw, (ProtocolType)IPAddress.HostToNetworkOrder(EthernetAll));
        }
        catch (SocketException e)
        {
            throw new InvalidOperationException($"cannot open a packet socket ({e.SocketErrorCode}): run the tests as root, as ./test.sh in CI does", e);
        }

        return new PacketCapture(socket, IPAddress.Parse(address), port);
    }

    private async Task ReceiveAsync()
    {
        var buffer = new byte[65536];
        while (!_stop.IsCancellationRequested)
        {
            int received;
            try
            {
                received = await _socket.ReceiveAsync(buffer, SocketFlags.None, _stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            lock (_frames)
            {
                _frames.Add(buffer.AsSpan(0, received).ToArray());
            }
        }
    }

    /// <summary>Stops capturing; each TCP segment's payload in order, to the port and from it (a loopback frame the kernel shows twice counted once).</summary>
    public async Task<(IReadOnlyList<byte[]> ToPort, IReadOnlyList<byte[]> FromPort)> StopAsync()
    {
        await Task.Delay(200); // the last segments of the exchange
        await _stop.CancelAsync();
        _socket.Dispose();
        await _loop;
        var to = new List<byte[]>();
        var from = new List<byte[]>();
        byte[]? previous = null;
        lock (_frames)
        {
            foreach (var frame in _frames)
            {
                if (previous is not null && frame.AsSpan().SequenceEqual(previous))
                {
                    continue; // loopback: the same frame seen going out and coming in
                }

                previous = frame;
                Segment(frame, to, from);
            }
        }

        return (to, from);
    }

    private void Segment(byte[] frame, List<byte[]> to, List<byte[]> from)
    {
        if (frame.Length < 14 + 20 || BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(12)) != 0x0800)
        {
            return;
        }

        var ip = frame.AsSpan(14);
        var headerLength = (ip[0] & 0x0f) * 4;
        var total = Math.Min(BinaryPrimitives.ReadUInt16BigEndian(ip[2..]), ip.Length);
        if (ip[9] != 6 || total < headerLength + 20)
        {
            return;
        }

        var source = new IPAddress(ip.Slice(12, 4));
        var destination = new IPAddress(ip.Slice(16, 4));
        var tcp = ip[headerLength..total];
        var sourcePort = BinaryPrimitives.ReadUInt16BigEndian(tcp);
        var destinationPort = BinaryPrimitives.ReadUInt16BigEndian(tcp[2..]);
        var payload = tcp[((tcp[12] >> 4) * 4)..];
        if (payload.IsEmpty)
        {
            return;
        }

        if (destination.Equals(_address) && destinationPort == _port)
        {
            to.Add(payload.ToArray());
        }
        else if (source.Equals(_address) && sourcePort == _port)
        {
            from.Add(payload.ToArray());
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _socket.Dispose();
        await _loop;
        _stop.Dispose();
    }
}

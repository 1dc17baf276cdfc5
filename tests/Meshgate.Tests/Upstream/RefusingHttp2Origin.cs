using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Meshgate.Tests.Upstream;

/// <summary>
/// A minimal HTTP/2 server with prior knowledge (RFC 9113), written frame by frame because no server library refuses
/// streams on demand: it resets the first <c>refuse</c> streams it is sent with RST_STREAM REFUSED_STREAM and answers
/// every later one with <c>:status 200</c> and no body. Enough for a client that sends header-only requests.
/// </summary>
internal sealed class RefusingHttp2Origin : IAsyncDisposable
{
    private const byte Data = 0x0, Headers = 0x1, RstStream = 0x3, Settings = 0x4, GoAway = 0x7;
    private const byte Ack = 0x1, EndStream = 0x1, EndHeaders = 0x4;

    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly int _refuse;
    private readonly Task _accepting;
    private int _streams;

    public RefusingHttp2Origin(int refuse)
    {
        _refuse = refuse;
        _listener.Start();
        _accepting = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>Streams (requests) received, refused ones included.</summary>
    public int Streams => Volatile.Read(ref _streams);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        var connections = new List<Task>();
        try
        {
            while (true)
            {
                var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                connections.Add(ServeAsync(client));
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }

        await Task.WhenAll(connections).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    private async Task ServeAsync(TcpClient client)
    {
        using var _ = client;
        var stream = client.GetStream();
        try
        {
            var preface = new byte[24];
            await stream.ReadExactlyAsync(preface, _stop.Token);
            await WriteFrameAsync(stream, Settings, 0, 0, []);
            var header = new byte[9];
            while (true)
            {
                await stream.ReadExactlyAsync(header, _stop.Token);
                var length = (header[0] << 16) | (header[1] << 8) | header[2];
                var (type, flags) = (header[3], header[4]);
                var id = BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(5)) & int.MaxValue;
                var payload = new byte[length];
                await stream.ReadExactlyAsync(payload, _stop.Token);
                switch (type)
                {
                    case Settings when (flags & Ack) == 0:
                        await WriteFrameAsync(stream, Settings, Ack, 0, []);
                        break;
                    case Headers when Interlocked.Increment(ref _streams) <= _refuse:
                        var code = new byte[4];
                        BinaryPrimitives.WriteInt32BigEndian(code, 0x7); // REFUSED_STREAM
                        await WriteFrameAsync(stream, RstStream, 0, id, code);
                        break;
                    case Headers:
                        await WriteFrameAsync(stream, Headers, EndHeaders | EndStream, id, [0x88]); // HPACK static index 8: ":status 200"
                        break;
                    case GoAway:
                        return;
                    case Data:
                        break;
                }
            }
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException or EndOfStreamException)
        {
            // the client went away, or the test is over
        }
    }

    private static async Task WriteFrameAsync(NetworkStream stream, byte type, byte flags, int id, byte[] payload)
    {
        var frame = new byte[9 + payload.Length];
        frame[0] = (byte)(payload.Length >> 16);
        frame[1] = (byte)(payload.Length >> 8);
        frame[2] = (byte)payload.Length;
        frame[3] = type;
        frame[4] = flags;
        BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(5), id);
        payload.CopyTo(frame, 9);
        await stream.WriteAsync(frame);
    }
}

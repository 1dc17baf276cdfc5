using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Meshgate.Proxy.EventLoop;
using Xunit;

namespace Meshgate.Tests.EventLoop;

/// <summary>
/// The proxy's event loop against real loopback sockets: what it reads and writes arrives whole and in order, the peer's
/// end is found even when it came with the last bytes, a full send buffer is waited out, an abort wakes a pending read,
/// and the Kestrel transport built on it accepts, serves and unbinds.
/// </summary>
public sealed class EpollSocketTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task LastBytesAndTheEndArriveTogether_TheBytesThenTheEnd()
    {
        var (socket, peer) = await ConnectAsync();
        using var _ = socket;
        using (peer)
        {
            peer.Send("last bytes"u8);
            peer.Shutdown(SocketShutdown.Send);
        }

        // Wait until epoll has reported it all, so the end's event is spent before the first read (nginx's pending_eof).
        var until = DateTime.UtcNow + Deadline;
        while (!socket.ReadReady && DateTime.UtcNow < until)
        {
            await Task.Delay(5);
        }

        var buffer = new byte[1024];
        var received = new StringBuilder();
        int read;
        while ((read = await socket.ReceiveAsync(buffer).AsTask().WaitAsync(Deadline)) > 0)
        {
            received.Append(Encoding.ASCII.GetString(buffer, 0, read));
        }

        Assert.Equal("last bytes", received.ToString());
    }

    [Fact]
    public async Task FourMebibytesEachWay_PeerReadsSlowly_EveryByteInOrder()
    {
        var (socket, peer) = await ConnectAsync();
        using var _ = socket;
        using var __ = peer;
        var outgoing = RandomNumberGenerator.GetBytes(4 << 20);
        var incoming = RandomNumberGenerator.GetBytes(4 << 20);

        // Our send outruns the peer's reads, so the kernel's buffer fills and the socket waits for epoll to say it drained.
        var sending = socket.SendAsync(outgoing).AsTask();
        var peerReceived = new MemoryStream();
        var chunk = new byte[7000];
        while (peerReceived.Length < outgoing.Length)
        {
            var n = await peer.ReceiveAsync(chunk.AsMemory()).AsTask().WaitAsync(Deadline);
            Assert.True(n > 0, "the event loop's socket closed early");
            peerReceived.Write(chunk, 0, n);
            await Task.Yield();
        }

        await sending.WaitAsync(Deadline);
        Assert.Equal(SHA256.HashData(outgoing), SHA256.HashData(peerReceived.ToArray()));

        var peerSending = peer.SendAsync(incoming.AsMemory()).AsTask();
        var received = new MemoryStream();
        var buffer = new byte[16 * 1024];
        while (received.Length < incoming.Length)
        {
            var n = await socket.ReceiveAsync(buffer).AsTask().WaitAsync(Deadline);
            Assert.True(n > 0, "the peer's bytes ended early");
            received.Write(buffer, 0, n);
        }

        await peerSending.WaitAsync(Deadline);
        Assert.Equal(SHA256.HashData(incoming), SHA256.HashData(received.ToArray()));
    }

    [Fact]
    public async Task ManySegments_GatheredIntoWritev_ArriveAsOneStreamInOrder()
    {
        var (socket, peer) = await ConnectAsync();
        using var _ = socket;
        using var __ = peer;

        // 40 segments (over the 16 one writev takes), some empty.
        var segments = Enumerable.Range(0, 40).Select(i => i % 7 == 3 ? [] : Encoding.ASCII.GetBytes($"<{i}>")).ToArray();
        await socket.SendAsync(Sequence(segments)).AsTask().WaitAsync(Deadline);
        socket.ShutdownSend();

        var expected = string.Concat(segments.Select(s => Encoding.ASCII.GetString(s)));
        var received = new StringBuilder();
        var buffer = new byte[256];
        int n;
        while ((n = await peer.ReceiveAsync(buffer.AsMemory()).AsTask().WaitAsync(Deadline)) > 0)
        {
            received.Append(Encoding.ASCII.GetString(buffer, 0, n));
        }

        Assert.Equal(expected, received.ToString());
    }

    [Fact]
    public async Task Abort_WakesAPendingReceive_WithTheEnd()
    {
        var (socket, peer) = await ConnectAsync();
        using var _ = socket;
        using var __ = peer;

        var pending = socket.ReceiveAsync(new byte[64]).AsTask();
        Assert.False(pending.IsCompleted); // nothing was sent: it waits for epoll
        await Task.Run(socket.Abort);

        Assert.Equal(0, await pending.WaitAsync(Deadline));
    }

    [Fact]
    public async Task NothingListening_ConnectFailsWithConnectionRefused()
    {
        var port = Meshgate.Tests.EndToEnd.MeshgateProcess.FreePort();
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);

        var error = await Assert.ThrowsAsync<SocketException>(async () =>
            await EpollSocket.ConnectAsync(EpollLoop.Shared, client, new IPEndPoint(IPAddress.Loopback, port), CancellationToken.None));
        Assert.Equal(SocketError.ConnectionRefused, error.SocketErrorCode);
    }

    [Fact]
    public async Task Transport_AcceptsServesAndUnbinds_WildcardListenerReportsTheRealLocalAddress()
    {
        var factory = new EpollTransportFactory(EpollLoop.Shared);
        var listener = await factory.BindAsync(new IPEndPoint(IPAddress.Any, 0));
        var port = ((IPEndPoint)listener.EndPoint).Port;
        Assert.NotEqual(0, port);

        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(IPAddress.Loopback, port);
        await client.SendAsync("ping"u8.ToArray());
        var connection = await listener.AcceptAsync().AsTask().WaitAsync(Deadline);
        Assert.NotNull(connection);
        Assert.Equal(new IPEndPoint(IPAddress.Loopback, port), connection.LocalEndPoint);
        Assert.Equal(client.LocalEndPoint, connection.RemoteEndPoint);

        var input = connection.Transport.Input;
        var text = "";
        while (text.Length < 4)
        {
            var result = await input.ReadAsync().AsTask().WaitAsync(Deadline);
            text = Encoding.ASCII.GetString(result.Buffer);
            input.AdvanceTo(result.Buffer.Start, result.Buffer.End);
        }

        Assert.Equal("ping", text);
        await connection.Transport.Output.WriteAsync("pong"u8.ToArray());
        var reply = new byte[4];
        var got = 0;
        while (got < 4)
        {
            got += await client.ReceiveAsync(reply.AsMemory(got)).AsTask().WaitAsync(Deadline);
        }

        Assert.Equal("pong", Encoding.ASCII.GetString(reply));

        // The client leaves: the transport's input ends and ConnectionClosed fires.
        client.Shutdown(SocketShutdown.Both);
        ReadResult last;
        do
        {
            last = await input.ReadAsync().AsTask().WaitAsync(Deadline);
            input.AdvanceTo(last.Buffer.End);
        }
        while (!last.IsCompleted);

        await WaitForAsync(() => connection.ConnectionClosed.IsCancellationRequested);
        await connection.DisposeAsync();

        var accepting = listener.AcceptAsync().AsTask();
        await listener.UnbindAsync();
        Assert.Null(await accepting.WaitAsync(Deadline));
        await listener.DisposeAsync();
    }

    [Fact]
    public async Task Transport_AbortWhileTheClientReadsNothing_TheClientSeesAResetAndTheConnectionEnds()
    {
        var factory = new EpollTransportFactory(EpollLoop.Shared);
        var listener = await factory.BindAsync(new IPEndPoint(IPAddress.Loopback, 0));
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 4096 };
        await client.ConnectAsync((IPEndPoint)listener.EndPoint);
        var connection = await listener.AcceptAsync().AsTask().WaitAsync(Deadline);
        Assert.NotNull(connection);

        // More than the kernel's buffers and the output pipe hold: the send loop ends up waiting for room.
        var writing = connection.Transport.Output.WriteAsync(new byte[16 << 20]).AsTask();
        await WaitForAsync(() => !writing.IsCompleted);
        connection.Abort(new Microsoft.AspNetCore.Connections.ConnectionAbortedException("test"));
        await connection.DisposeAsync().AsTask().WaitAsync(Deadline);

        var buffer = new byte[64 * 1024];
        var reset = false;
        var until = DateTime.UtcNow + Deadline;
        while (DateTime.UtcNow < until)
        {
            try
            {
                if (await client.ReceiveAsync(buffer.AsMemory()).AsTask().WaitAsync(Deadline) == 0)
                {
                    break;
                }
            }
            catch (SocketException e)
            {
                reset = e.SocketErrorCode == SocketError.ConnectionReset;
                break;
            }
        }

        Assert.True(reset, "the client should see the aborted connection reset, not ended");
        await listener.DisposeAsync();
    }

    private static async Task<(EpollSocket Socket, Socket Peer)> ConnectAsync()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        var socket = await EpollSocket.ConnectAsync(EpollLoop.Shared, client, (IPEndPoint)listener.LocalEndpoint, CancellationToken.None);
        var peer = await listener.AcceptSocketAsync().WaitAsync(Deadline);
        return (socket, peer);
    }

    private static ReadOnlySequence<byte> Sequence(byte[][] segments)
    {
        Segment? first = null;
        Segment? last = null;
        foreach (var bytes in segments)
        {
            var next = new Segment(bytes, last is null ? 0 : last.RunningIndex + last.Memory.Length);
            if (last is null)
            {
                first = next;
            }
            else
            {
                last.Append(next);
            }

            last = next;
        }

        return new ReadOnlySequence<byte>(first!, 0, last!, last!.Memory.Length);
    }

    private static async Task WaitForAsync(Func<bool> condition)
    {
        var until = DateTime.UtcNow + Deadline;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < until, "the condition did not hold before the deadline");
            await Task.Delay(5);
        }
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(byte[] bytes, long runningIndex)
        {
            Memory = bytes;
            RunningIndex = runningIndex;
        }

        public void Append(Segment next) => Next = next;
    }
}

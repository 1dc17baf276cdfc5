using System.Buffers;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using Meshgate.Proxy.EventLoop;

namespace Meshgate.Proxy.Upstream;

/// <summary>
/// One HTTP/1.1 connection to an upstream endpoint, plaintext or with TLS the cluster originates (the mesh tunnel included), owned by its <see cref="Http1ConnectionPool"/>: the socket
/// and the two buffers every request on it reuses (the request head is written into one, the response read into the
/// other), so a kept-alive request allocates nothing for I/O.
/// </summary>
/// <remarks>
/// Driven by the proxy's event loop (<see cref="EpollSocket"/>, plaintext only), an idle connection needs no read
/// posted: epoll reports the upstream's close or stray bytes as readiness, which <see cref="IdleReadPending"/> checks,
/// and the response is read once epoll says it arrived.
/// Otherwise (the runtime's sockets) an idle connection in the pool has a read already posted (<see cref="PostIdleRead"/>), as SocketsHttpHandler does:
/// an upstream that closes the idle connection completes that read with 0, so the pool never hands out a dead
/// connection; and the next request's response lands in that same read, so idling costs no extra system call.
/// </remarks>
internal sealed class Http1UpstreamConnection : IDisposable
{
    private const int ReceiveBufferSize = 16 * 1024;
    private const int InitialSendBufferSize = 4 * 1024;

    private readonly Socket _socket;
    private readonly SslStream? _tls;
    private readonly EpollSocket? _driven;
    private byte[] _receive = ArrayPool<byte>.Shared.Rent(ReceiveBufferSize);
    private byte[] _send = ArrayPool<byte>.Shared.Rent(InitialSendBufferSize);
    private ValueTask<int> _idleRead;
    private bool _idleReadPosted;
    private int _disposed;

    /// <param name="tls">The TLS session over <paramref name="socket"/> when the cluster originates TLS.</param>
    /// <param name="peerUriSan">The upstream certificate's URI SANs (%UPSTREAM_PEER_URI_SAN%), with TLS.</param>
    /// <param name="driven"><paramref name="socket"/> registered with the event loop, which then does all its I/O.</param>
    public Http1UpstreamConnection(Socket socket, SslStream? tls = null, string? peerUriSan = null, EpollSocket? driven = null)
    {
        _socket = socket;
        _tls = tls;
        _driven = driven;
        PeerUriSan = peerUriSan;
        // A socket the event loop connected is unknown to Socket, which would report no local address.
        LocalEndPoint = driven is not null ? driven.LocalEndPoint(socket.AddressFamily) : socket.LocalEndPoint as IPEndPoint;
        Touch();
    }

    /// <summary>The upstream certificate's URI SANs when TLS was originated; null over plaintext.</summary>
    public string? PeerUriSan { get; }

    /// <summary>The connection's local address (%UPSTREAM_LOCAL_ADDRESS%).</summary>
    public IPEndPoint? LocalEndPoint { get; }

    /// <summary>True once the connection carried a request: a failure before any response byte may be a stale reuse.</summary>
    public bool Reused { get; set; }

    /// <summary>When the connection last read, wrote or went idle (<see cref="Environment.TickCount64"/>).</summary>
    public long LastActivity { get; private set; }

    /// <summary>True while a request uses the connection (not idle in the pool).</summary>
    public bool Busy { get; set; }

    public bool Disposed => Volatile.Read(ref _disposed) != 0;

    /// <summary>True when the pool's sweep aborted the connection for <see cref="Http1ConnectionPool.ActivityTimeout"/>.</summary>
    public bool TimedOut { get; private set; }

    /// <summary>The strings of the last response's headers, reused while the upstream repeats them.</summary>
    public ResponseHeaderStrings HeaderStrings { get; } = new();

    /// <summary>The received bytes not consumed yet: <c>Received[Start..End]</c>.</summary>
    public byte[] Received => _receive;

    public int Start { get; set; }

    public int End { get; set; }

    /// <summary>The send buffer, at least <paramref name="size"/> bytes (grown, never shrunk, while the connection lives).</summary>
    public byte[] SendBuffer(int size)
    {
        if (_send.Length < size)
        {
            var larger = ArrayPool<byte>.Shared.Rent(size);
            ArrayPool<byte>.Shared.Return(_send);
            _send = larger;
        }

        return _send;
    }

    public void Touch() => LastActivity = Environment.TickCount64;

    /// <summary>Sends <paramref name="length"/> bytes of the send buffer.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask SendAsync(int length)
    {
        if (_driven is not null)
        {
            await _driven.SendAsync(_send.AsMemory(0, length)).ConfigureAwait(false);
            Touch();
            return;
        }

        var sent = 0;
        while (sent < length)
        {
            if (_tls is not null)
            {
                await _tls.WriteAsync(_send.AsMemory(0, length)).ConfigureAwait(false);
                break;
            }

            sent += await _socket.SendAsync(_send.AsMemory(sent, length - sent), SocketFlags.None).ConfigureAwait(false);
        }

        Touch();
    }

    /// <summary>
    /// Reads more into the receive buffer after <see cref="End"/> (moving the unconsumed bytes to the front, or growing
    /// the buffer up to <paramref name="limit"/>, when it is full); returns the bytes read, 0 at the upstream's end.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<int> ReceiveAsync(int limit)
    {
        int read;
        if (_idleReadPosted)
        {
            // The idle read was posted at offset 0 with nothing unconsumed: its bytes are the response's first.
            _idleReadPosted = false;
            read = await _idleRead.ConfigureAwait(false);
            _idleRead = default;
            Start = 0;
            End = read;
            Touch();
            return read;
        }

        MakeRoom(limit);
        read = await Read(_receive.AsMemory(End)).ConfigureAwait(false);
        if (read == 0 && _driven is not null && Disposed)
        {
            // Abort shut the socket down, which reads as an end: it is a failure (a body framed by the close would
            // otherwise look complete), as the runtime's disposed socket reports it.
            throw new ObjectDisposedException(nameof(Http1UpstreamConnection), "the upstream connection was aborted");
        }

        End += read;
        Touch();
        return read;
    }

    private ValueTask<int> Read(Memory<byte> buffer) =>
        _driven is not null ? _driven.ReceiveAsync(buffer)
        : _tls is null ? _socket.ReceiveAsync(buffer, SocketFlags.None)
        : _tls.ReadAsync(buffer);

    /// <summary>True when the receive buffer can take no more bytes (a head longer than the limit).</summary>
    public bool Full(int limit) => Start == 0 && End == _receive.Length && _receive.Length >= limit;

    private void MakeRoom(int limit)
    {
        if (End < _receive.Length)
        {
            return;
        }

        if (Start > 0)
        {
            Buffer.BlockCopy(_receive, Start, _receive, 0, End - Start);
            End -= Start;
            Start = 0;
            return;
        }

        var larger = ArrayPool<byte>.Shared.Rent(Math.Min(_receive.Length * 2, Math.Max(limit, _receive.Length)));
        Buffer.BlockCopy(_receive, 0, larger, 0, End);
        ArrayPool<byte>.Shared.Return(_receive);
        _receive = larger;
    }

    /// <summary>
    /// Posts the idle read (see the remarks) before the connection goes back to the pool. False when the connection
    /// cannot be kept: the upstream closed it, sent bytes nobody asked for, or it failed.
    /// </summary>
    public bool PostIdleRead()
    {
        Start = 0;
        End = 0;
        if (_driven is not null)
        {
            return IdleReadPending;
        }

        try
        {
            _idleRead = Read(_receive.AsMemory());
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or IOException)
        {
            return false;
        }

        _idleReadPosted = true;
        return !_idleRead.IsCompleted;
    }

    /// <summary>False when the idle read completed while pooled (the upstream closed the connection or misbehaved).</summary>
    public bool IdleReadPending => _driven is not null ? NothingArrived(_driven) : _idleReadPosted && !_idleRead.IsCompleted;

    /// <summary>
    /// True when an idle event-loop connection has nothing to read: epoll reported nothing since its last read ran dry,
    /// or what it reported was already read (a read now finds nothing). The end or stray bytes make it false.
    /// </summary>
    private bool NothingArrived(EpollSocket driven)
    {
        try
        {
            return !driven.ReadReady || driven.Receive(_receive) < 0;
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            return false;
        }
    }

    /// <summary>Closes the connection; any read or write in flight fails. Safe to call more than once, from any thread.</summary>
    public void Abort()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            if (_driven is not null)
            {
                _driven.Abort(); // a read or write in flight finds the end; the descriptor is closed in Dispose
                return;
            }

            _socket.Dispose(); // any TLS read or write in flight fails with it; the session is let go in Dispose
        }
    }

    /// <summary>Aborts a busy connection that neither read nor wrote for the activity timeout.</summary>
    public void AbortForInactivity()
    {
        TimedOut = true;
        Abort();
    }

    /// <summary>Closes the connection and gives its buffers back; only by the connection's current owner.</summary>
    public void Dispose()
    {
        Abort();
        _driven?.Dispose();
        _tls?.Dispose();
        if (_idleReadPosted && !_idleRead.IsCompleted)
        {
            // The read fails now that the socket is closed; its buffer is returned only once it has.
            _idleReadPosted = false;
            return;
        }

        _idleReadPosted = false;
        var receive = Interlocked.Exchange(ref _receive, []);
        var send = Interlocked.Exchange(ref _send, []);
        if (receive.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(receive);
        }

        if (send.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(send);
        }
    }
}

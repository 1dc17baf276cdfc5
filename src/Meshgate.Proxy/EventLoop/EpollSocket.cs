using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading.Tasks.Sources;

namespace Meshgate.Proxy.EventLoop;

/// <summary>
/// A non-blocking TCP socket driven by an <see cref="EpollLoop"/> with nginx's discipline: it reads only when epoll
/// said there is something to read and not again after a short read, so a read never fails for want of data; it
/// writes until the kernel takes less than offered, then waits for epoll to say it can write again.
/// </summary>
/// <remarks>
/// <para>Readiness is a count per direction: the loop increments it on every event for that direction, and the socket
/// remembers the count it last saw run dry (a short read, <c>EAGAIN</c>). "Ready" means the count moved since. A wait
/// registers itself and re-checks the count, and the loop swaps the registration out after incrementing, so an event
/// that lands between a short read and the wait is never lost, whichever thread reads.</para>
/// <para>One reader and one writer at a time (a connection's receive and send loops, or a request that owns an upstream
/// connection); <see cref="Abort"/> may come from any thread and <see cref="Dispose"/> only from the owner once
/// nothing reads or writes.</para>
/// </remarks>
internal sealed class EpollSocket : IDisposable
{
    private readonly EpollLoop _loop;
    private readonly SafeHandle _handle;
    private readonly IDisposable _owner;
    private readonly int _fd;
    private readonly GCHandle _self;
    private readonly int _epoll;
    private readonly Readiness _read = new();
    private readonly Readiness _write = new();
    private int _disposed;
    private volatile bool _reset;

    /// <param name="handle">The socket, already non-blocking.</param>
    /// <param name="owner">What closes it: the <see cref="Socket"/> it came from, or <paramref name="handle"/> itself.</param>
    /// <param name="readable">False when epoll is to say first (an accepted socket; a connect in progress).</param>
    /// <param name="writable">False for a connect in progress: its first writable event says it finished.</param>
    /// <param name="spread">Watched by the next loop in turn (an accepted connection), not the calling thread's.</param>
    public EpollSocket(EpollLoop loop, SafeHandle handle, IDisposable owner, bool readable, bool writable, bool spread = false)
    {
        _loop = loop;
        _handle = handle;
        _owner = owner;
        _fd = (int)handle.DangerousGetHandle();
        if (!readable)
        {
            _read.RanDry(0);
        }

        if (!writable)
        {
            _write.RanDry(0);
        }

        _self = GCHandle.Alloc(this);
        try
        {
            _epoll = loop.Add(_fd, _self, spread);
        }
        catch
        {
            _self.Free();
            throw;
        }
    }

    /// <summary>The descriptor, for socket options; never closed by anyone but <see cref="Dispose"/>.</summary>
    public int Fd => _fd;

    /// <summary>True when epoll reported data (or the end) since the last read that ran dry.</summary>
    public bool ReadReady => _read.Ready;

    /// <summary>Completes once <see cref="ReadReady"/>: at once when it is.</summary>
    public ValueTask WaitReadableAsync() => _read.WaitAsync();

    /// <summary>
    /// One <c>recv</c> into <paramref name="buffer"/>: the bytes read, 0 at the peer's end (or after <see cref="Abort"/>),
    /// or -1 when there was nothing (the socket then waits for epoll). Throws <see cref="SocketException"/> on a reset.
    /// </summary>
    public unsafe int Receive(Span<byte> buffer)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        while (true)
        {
            var seen = _read.Observe();
            nint read;
            fixed (byte* bytes = buffer)
            {
                read = Libc.Receive(_fd, bytes, buffer.Length, 0);
            }

            if (read > 0)
            {
                if (read < buffer.Length)
                {
                    _read.RanDry(seen); // a short read took everything there was
                }

                return (int)read;
            }

            if (read == 0)
            {
                return 0;
            }

            var errno = Marshal.GetLastPInvokeError();
            if (errno == Libc.Eagain)
            {
                _read.RanDry(seen);
                return -1;
            }

            if (errno != Libc.Eintr)
            {
                throw Libc.SocketError(errno);
            }
        }
    }

    /// <summary>
    /// One <c>accept4</c> on a listening socket: the new connection's descriptor (non-blocking), or minus the error
    /// number; on <c>EAGAIN</c> the socket then waits for epoll.
    /// </summary>
    public unsafe int Accept(byte* address, int* addressLength)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var seen = _read.Observe();
        var fd = Libc.Accept(_fd, address, addressLength, Libc.SockNonblock | Libc.SockCloexec);
        if (fd >= 0)
        {
            return fd;
        }

        var errno = Marshal.GetLastPInvokeError();
        if (errno == Libc.Eagain)
        {
            _read.RanDry(seen);
        }

        return -errno;
    }

    /// <summary>Reads at least one byte into <paramref name="buffer"/>, waiting for epoll when needed; 0 at the end.</summary>
    public ValueTask<int> ReceiveAsync(Memory<byte> buffer)
    {
        if (_read.Ready)
        {
            var read = Receive(buffer.Span);
            if (read >= 0)
            {
                return new ValueTask<int>(read);
            }
        }

        return ReceiveWhenReadyAsync(buffer);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))] // a request waits here once per response: no box allocated each time
    private async ValueTask<int> ReceiveWhenReadyAsync(Memory<byte> buffer)
    {
        while (true)
        {
            await _read.WaitAsync().ConfigureAwait(false);
            var read = Receive(buffer.Span);
            if (read >= 0)
            {
                return read;
            }
        }
    }

    /// <summary>Sends all of <paramref name="data"/>, waiting for epoll whenever the kernel's buffer is full.</summary>
    public ValueTask SendAsync(ReadOnlyMemory<byte> data)
    {
        var sent = TrySend(data.Span);
        return sent == data.Length ? default : SendRestAsync(data[sent..]);
    }

    /// <summary>Sends every segment of <paramref name="data"/> (gathered, up to 16 per system call).</summary>
    public ValueTask SendAsync(ReadOnlySequence<byte> data) =>
        data.IsSingleSegment ? SendAsync(data.First) : SendSegmentsAsync(data);

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask SendRestAsync(ReadOnlyMemory<byte> rest)
    {
        while (!rest.IsEmpty)
        {
            await _write.WaitAsync().ConfigureAwait(false);
            rest = rest[TrySend(rest.Span)..];
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask SendSegmentsAsync(ReadOnlySequence<byte> data)
    {
        while (!data.IsEmpty)
        {
            var sent = TrySendGathered(data);
            data = data.Slice(sent);
            if (!data.IsEmpty)
            {
                await _write.WaitAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>One <c>send</c>: the bytes the kernel took (fewer than offered: the socket then waits for epoll).</summary>
    private unsafe int TrySend(ReadOnlySpan<byte> data)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        ThrowIfReset();
        while (true)
        {
            var seen = _write.Observe();
            nint sent;
            fixed (byte* bytes = data)
            {
                sent = Libc.Send(_fd, bytes, data.Length, Libc.MsgNoSignal);
            }

            if (Sent(sent, data.Length, seen) is var taken and >= 0)
            {
                return (int)taken;
            }
        }
    }

    /// <summary>
    /// A send's result: the bytes the kernel took (fewer than <paramref name="offered"/>, or 0 on <c>EAGAIN</c>: the
    /// socket then waits for epoll), -1 to try again (<c>EINTR</c>); throws on any other error.
    /// </summary>
    private long Sent(nint result, long offered, int seen)
    {
        if (result >= 0)
        {
            if (result < offered)
            {
                _write.RanDry(seen);
            }

            return result;
        }

        var errno = Marshal.GetLastPInvokeError();
        if (errno == Libc.Eagain)
        {
            _write.RanDry(seen);
            return 0;
        }

        return errno == Libc.Eintr ? -1 : throw Libc.SocketError(errno);
    }

    private unsafe long TrySendGathered(ReadOnlySequence<byte> data)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        ThrowIfReset();
        const int MaxVectors = 16;
        var vectors = stackalloc Libc.IoVector[MaxVectors];
        var pins = default(Pins);
        var count = 0;
        long offered = 0;
        try
        {
            foreach (var segment in data)
            {
                if (segment.IsEmpty)
                {
                    continue;
                }

                pins[count] = segment.Pin();
                vectors[count] = new Libc.IoVector { Base = (byte*)pins[count].Pointer, Length = (nuint)segment.Length };
                offered += segment.Length;
                if (++count == MaxVectors)
                {
                    break;
                }
            }

            while (true)
            {
                var seen = _write.Observe();
                if (Sent(Libc.WriteVector(_fd, vectors, count), offered, seen) is var taken and >= 0)
                {
                    return taken;
                }
            }
        }
        finally
        {
            for (var i = 0; i < count; i++)
            {
                pins[i].Dispose();
            }
        }
    }

    /// <summary>
    /// Connects a non-blocking socket that is not registered with any event loop yet, then registers it: the kernel's
    /// answer arrives as its first writable (or error) event. Throws <see cref="SocketException"/> when refused,
    /// <see cref="OperationCanceledException"/> when <paramref name="cancellationToken"/> fires first (the socket is
    /// then closed).
    /// </summary>
    public static async ValueTask<EpollSocket> ConnectAsync(EpollLoop loop, Socket socket, IPEndPoint destination, CancellationToken cancellationToken)
    {
        socket.Blocking = false;
        var errno = StartConnect(socket, destination);
        var inProgress = errno == Libc.Einprogress;
        if (errno != 0 && !inProgress)
        {
            socket.Dispose();
            throw Libc.SocketError(errno);
        }

        var connecting = new EpollSocket(loop, socket.SafeHandle, socket, readable: false, writable: !inProgress);
        try
        {
            if (inProgress)
            {
                using (cancellationToken.UnsafeRegister(static s => ((EpollSocket)s!).Abort(), connecting))
                {
                    await connecting._write.WaitAsync().ConfigureAwait(false);
                }

                cancellationToken.ThrowIfCancellationRequested();
                var error = connecting.PendingError();
                if (error != 0)
                {
                    throw Libc.SocketError(error);
                }
            }

            return connecting;
        }
        catch
        {
            connecting.Dispose();
            throw;
        }
    }

    /// <summary>A non-blocking <c>connect</c>: 0 when connected already, else the error number (EINPROGRESS: under way).</summary>
    private static unsafe int StartConnect(Socket socket, IPEndPoint destination)
    {
        var address = destination.Serialize();
        fixed (byte* bytes = address.Buffer.Span)
        {
            return Libc.Connect((int)socket.SafeHandle.DangerousGetHandle(), bytes, address.Size) == 0 ? 0 : Marshal.GetLastPInvokeError();
        }
    }

    /// <summary>The address the socket is bound to (<c>getsockname</c>).</summary>
    public unsafe IPEndPoint LocalEndPoint(AddressFamily family)
    {
        var address = new SocketAddress(family);
        var length = address.Size;
        fixed (byte* bytes = address.Buffer.Span)
        {
            if (Libc.GetSocketName(_fd, bytes, &length) != 0)
            {
                throw Libc.SocketError(Marshal.GetLastPInvokeError());
            }
        }

        return (IPEndPoint)new IPEndPoint(family == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0).Create(address);
    }

    /// <summary>The socket's pending error (<c>SO_ERROR</c>): 0 once a connect succeeded.</summary>
    private unsafe int PendingError()
    {
        var error = 0;
        var length = sizeof(int);
        return Libc.GetSocketOption(_fd, Libc.SolSocket, Libc.SoError, &error, &length) == 0 ? error : Marshal.GetLastPInvokeError();
    }

    /// <summary>Shuts the socket down both ways, from any thread: whatever waits on it wakes and finds the end.</summary>
    public void Abort() => Shut(Libc.ShutBoth, resetOnClose: false);

    /// <summary>
    /// Resets the connection, from any thread: nothing more is read or sent, and closing it sends RST instead of FIN (a
    /// zero linger), so the peer sees the connection fail rather than end, as an aborted connection of the runtime's
    /// sockets does. Whatever waits on it wakes and finds the end.
    /// </summary>
    public void Reset()
    {
        _reset = true; // a send waiting for room wakes below and fails, rather than go on sending
        Shut(Libc.ShutRead, resetOnClose: true);
    }

    /// <summary><c>shutdown</c> (and a zero linger first), safe against a concurrent <see cref="Dispose"/>; then wakes every wait.</summary>
    private unsafe void Shut(int how, bool resetOnClose)
    {
        var added = false;
        try
        {
            _handle.DangerousAddRef(ref added);
            if (resetOnClose)
            {
                var linger = stackalloc int[2] { 1, 0 }; // struct linger { l_onoff = 1, l_linger = 0 }
                Libc.SetSocketOption(_fd, Libc.SolSocket, Libc.SoLinger, linger, 2 * sizeof(int));
            }

            Libc.Shutdown(_fd, how);
        }
        catch (ObjectDisposedException)
        {
            // Closed already: nothing to shut down.
        }
        finally
        {
            if (added)
            {
                _handle.DangerousRelease();
            }
        }

        Wake();
    }

    private void ThrowIfReset()
    {
        if (_reset)
        {
            throw new SocketException((int)SocketError.ConnectionReset);
        }
    }

    /// <summary>Stops sending (a FIN after what was sent); reads go on.</summary>
    public void ShutdownSend()
    {
        if (Volatile.Read(ref _disposed) == 0)
        {
            Libc.Shutdown(_fd, Libc.ShutWrite);
        }
    }

    /// <summary>
    /// Wakes any wait as an event would; the waiter then finds what the socket says. Reads are marked ended (after a
    /// shutdown a read returns the end, never "nothing yet"); writes are not, so a send that still finds no room waits
    /// again instead of spinning. Off the loops' threads (a timer, Kestrel's heartbeat, a cancellation) the waiter is woken
    /// from the thread pool, so the request it resumes never runs on, and holds up, a shared timer thread.
    /// </summary>
    private void Wake() => EpollLoop.RunHereOrOnPool(static socket => socket.OnReady(WakeEvents), this);

    private const uint WakeEvents = Libc.EpollIn | Libc.EpollOut | Libc.EpollRdHup;

    /// <summary>Called by the loop with the events epoll reported.</summary>
    internal void OnReady(uint events)
    {
        const uint Ended = Libc.EpollHup | Libc.EpollErr;
        if ((events & (Libc.EpollIn | Libc.EpollRdHup | Ended)) != 0)
        {
            _read.Signal(ended: (events & (Libc.EpollRdHup | Ended)) != 0);
        }

        if ((events & (Libc.EpollOut | Ended)) != 0)
        {
            _write.Signal(ended: (events & Ended) != 0);
        }
    }

    /// <summary>Closes the socket; only by its owner, once nothing reads or writes it.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _loop.Remove(_epoll, _fd, _self);
        _owner.Dispose();
    }

    /// <summary>The pinned segments of one gathered send.</summary>
    [System.Runtime.CompilerServices.InlineArray(16)]
    private struct Pins
    {
        private MemoryHandle _first;
    }

    /// <summary>One direction's readiness: see the class remarks.</summary>
    private sealed class Readiness : IValueTaskSource
    {
        private ManualResetValueTaskSourceCore<bool> _core = new() { RunContinuationsAsynchronously = false };
        private int _events;
        private int _dryAt = -1;
        private int _waiting;
        private volatile bool _ended;

        public bool Ready => Volatile.Read(ref _events) != _dryAt;

        /// <summary>The event count before a read or write, to pass to <see cref="RanDry"/> if it comes back short.</summary>
        public int Observe() => Volatile.Read(ref _events);

        /// <summary>
        /// Nothing more to do until an event after <paramref name="seen"/>. Not once the peer's end was reported (nginx's
        /// <c>pending_eof</c>): a read that returned the last bytes leaves the end to the next read, and no event will
        /// come to announce it again.
        /// </summary>
        public void RanDry(int seen)
        {
            if (!_ended)
            {
                _dryAt = seen;
            }
        }

        public ValueTask WaitAsync()
        {
            var dry = _dryAt;
            if (Volatile.Read(ref _events) != dry)
            {
                return default;
            }

            _core.Reset();
            Interlocked.Exchange(ref _waiting, 1);
            if (Volatile.Read(ref _events) != dry && Interlocked.Exchange(ref _waiting, 0) == 1)
            {
                return default; // an event came in between, and no one else took the wait
            }

            return new ValueTask(this, _core.Version);
        }

        public void Signal(bool ended)
        {
            if (ended)
            {
                _ended = true;
            }

            Interlocked.Increment(ref _events);
            if (Interlocked.Exchange(ref _waiting, 0) == 1)
            {
                _core.SetResult(true);
            }
        }

        void IValueTaskSource.GetResult(short token) => _core.GetResult(token);

        ValueTaskSourceStatus IValueTaskSource.GetStatus(short token) => _core.GetStatus(token);

        void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
            _core.OnCompleted(continuation, state, token, flags);
    }
}

using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;

namespace Meshgate.Proxy.EventLoop;

/// <summary>
/// An accepted connection as Kestrel sees one: two pipes over an <see cref="EpollSocket"/>, filled and drained by a
/// receive loop and a send loop, as Kestrel's own socket transport does, but reading only when epoll reported data.
/// Both pipes schedule inline: the request runs on the thread that read it (the event loop's).
/// </summary>
internal sealed class EpollConnection : ConnectionContext,
    IConnectionIdFeature, IConnectionTransportFeature, IConnectionItemsFeature, IConnectionLifetimeFeature, IConnectionEndPointFeature,
    IConnectionSocketFeature
{
    // Kestrel's defaults: MaxRequestBufferSize 1 MiB before the receive loop stops reading, MaxResponseBufferSize 64 KiB
    // before a writing handler waits for the send loop.
    private static readonly PipeOptions s_input = new(pauseWriterThreshold: 1024 * 1024, resumeWriterThreshold: 512 * 1024,
        readerScheduler: PipeScheduler.Inline, writerScheduler: PipeScheduler.Inline, useSynchronizationContext: false, minimumSegmentSize: 4096);

    private static readonly PipeOptions s_output = new(pauseWriterThreshold: 64 * 1024, resumeWriterThreshold: 32 * 1024,
        readerScheduler: PipeScheduler.Inline, writerScheduler: PipeScheduler.Inline, useSynchronizationContext: false, minimumSegmentSize: 4096);

    private static long s_ids;

    private readonly EpollSocket _socket;
    private readonly IDuplexPipe _application;
    private readonly CancellationTokenSource _closed = new();
    private readonly FeatureCollection _features = new();
    private Task _processing = Task.CompletedTask;
    private IDictionary<object, object?>? _items;
    private volatile ConnectionAbortedException? _abortReason;
    private int _closedFired;
    private Socket? _optionsView;

    public EpollConnection(EpollSocket socket, EndPoint local, EndPoint remote)
    {
        _socket = socket;
        LocalEndPoint = local;
        RemoteEndPoint = remote;
        ConnectionId = "E" + Interlocked.Increment(ref s_ids).ToString("X8", System.Globalization.CultureInfo.InvariantCulture);
        var input = new Pipe(s_input);
        var output = new Pipe(s_output);
        Transport = new DuplexPipe(input.Reader, output.Writer);
        _application = new DuplexPipe(output.Reader, input.Writer);
        ConnectionClosed = _closed.Token;
        _features.Set<IConnectionIdFeature>(this);
        _features.Set<IConnectionTransportFeature>(this);
        _features.Set<IConnectionItemsFeature>(this);
        _features.Set<IConnectionLifetimeFeature>(this);
        _features.Set<IConnectionEndPointFeature>(this);
        _features.Set<IConnectionSocketFeature>(this);
    }

    public override string ConnectionId { get; set; }

    public override IFeatureCollection Features => _features;

    public override IDictionary<object, object?> Items
    {
        get => _items ??= new ConnectionItems();
        set => _items = value;
    }

    public override IDuplexPipe Transport { get; set; }

    public override CancellationToken ConnectionClosed { get; set; }

    public override EndPoint? LocalEndPoint { get; set; }

    public override EndPoint? RemoteEndPoint { get; set; }

    /// <summary>
    /// The connection as a <see cref="System.Net.Sockets.Socket"/>, made on first use, for socket options only (the
    /// capture listener's <c>SO_ORIGINAL_DST</c>): it does not own the descriptor, and I/O through it would register the
    /// descriptor with the runtime's own epoll as well.
    /// </summary>
    public Socket Socket => _optionsView ??= new Socket(new SafeSocketHandle(_socket.Fd, ownsHandle: false));

    /// <summary>Starts the receive and send loops.</summary>
    public void Start() => _processing = RunAsync();

    public override void Abort(ConnectionAbortedException abortReason)
    {
        _abortReason ??= abortReason;
        _application.Input.CancelPendingRead(); // the send loop stops, sending nothing more
        _socket.Reset(); // the receive loop finds the end; the close that follows is a reset
    }

    public override async ValueTask DisposeAsync()
    {
        Transport.Input.Complete();
        Transport.Output.Complete();
        await _processing.ConfigureAwait(false);
        // _closed is not disposed: the thread-pool item that cancels it may still be queued (it has no timer to free).
    }

    private async Task RunAsync()
    {
        try
        {
            var receiving = ReceiveAsync();
            var sending = SendAsync();
            await receiving.ConfigureAwait(false);
            await sending.ConfigureAwait(false);
        }
        finally
        {
            _socket.Dispose();
        }
    }

    private async Task ReceiveAsync()
    {
        Exception? error = null;
        var writer = _application.Output;
        try
        {
            while (true)
            {
                if (!_socket.ReadReady)
                {
                    // No buffer is taken while the connection idles (Kestrel's WaitForDataBeforeAllocatingBuffer).
                    await _socket.WaitReadableAsync().ConfigureAwait(false);
                }

                var memory = writer.GetMemory(4096);
                var read = _socket.Receive(memory.Span);
                if (read < 0)
                {
                    continue; // the event was for data already read
                }

                if (read == 0)
                {
                    break; // the client's FIN, or Abort
                }

                writer.Advance(read);
                var flushed = await writer.FlushAsync().ConfigureAwait(false);
                if (flushed.IsCompleted || flushed.IsCanceled)
                {
                    break;
                }
            }
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionReset or SocketError.ConnectionAborted)
        {
            error = new ConnectionResetException(e.Message, e);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            error = new IOException(e.Message, e);
        }
        finally
        {
            writer.Complete(_abortReason ?? error);
            FireConnectionClosed();
        }
    }

    private async Task SendAsync()
    {
        Exception? error = null;
        var reader = _application.Input;
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync().ConfigureAwait(false);
                if (result.IsCanceled)
                {
                    break;
                }

                var buffer = result.Buffer;
                if (!buffer.IsEmpty)
                {
                    await _socket.SendAsync(buffer).ConfigureAwait(false);
                }

                reader.AdvanceTo(buffer.End);
                if (result.IsCompleted)
                {
                    break;
                }
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            error = e;
        }
        finally
        {
            // As Kestrel's transport: once nothing more will be sent the connection is over both ways, which wakes the
            // receive loop; a handler still writing sees the pipe completed. After Abort it is a reset, with no FIN first.
            if (_abortReason is null)
            {
                _socket.Abort();
            }
            reader.Complete(error);
            _application.Output.CancelPendingFlush();
        }
    }

    /// <summary>
    /// Signals <see cref="ConnectionClosed"/>: at once when the receive loop ends on the loop's thread (its callbacks only
    /// cancel and abort; none waits), through the thread pool from any other thread, as Kestrel's socket transport always
    /// does. A thread-pool item for every closed connection woke a worker and put it back to sleep each time (futex
    /// calls per connection halved, bench/RESULTS.md, seventh session).
    /// </summary>
    private void FireConnectionClosed()
    {
        if (Interlocked.Exchange(ref _closedFired, 1) == 0)
        {
            EpollLoop.RunHereOrOnPool(static connection => connection._closed.Cancel(), this);
        }
    }

    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }

    private sealed class ConnectionItems : Dictionary<object, object?>;
}

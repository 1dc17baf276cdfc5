using System.IO.Pipelines;
using System.Net.Sockets;
using Meshgate.Proxy.EventLoop;
using Meshgate.Proxy.Observability;

namespace Meshgate.Proxy.Listeners;

/// <summary>How a relay ended, for the access log.</summary>
public readonly record struct RelayResult(long BytesFromDownstream, long BytesFromUpstream, bool DownstreamReset, bool UpstreamReset);

/// <summary>
/// Copies bytes both ways between a downstream connection and an upstream socket until both sides
/// are done. A side that finishes cleanly is half-closed on the other (FIN follows FIN); a reset or
/// error on either side tears both down, so no upstream connection outlives its client. Bytes are added to the
/// connection's <see cref="TcpMetrics"/> as they move.
/// </summary>
public static class TcpRelay
{
    public static Task<RelayResult> RunAsync(IDuplexPipe downstream, Socket upstream, CancellationToken cancellationToken) =>
        RunAsync(downstream, upstream, TcpMetrics.Discard, cancellationToken);

    /// <param name="metrics">Where the bytes each way are added as they are relayed.</param>
    /// <param name="idleTimeout">Closes both sides once no byte moved either way for this long (Envoy's tcp_proxy <c>idle_timeout</c>); zero or infinite for never.</param>
    public static async Task<RelayResult> RunAsync(IDuplexPipe downstream, Socket upstream, TcpMetrics metrics, CancellationToken cancellationToken, TimeSpan idleTimeout = default)
    {
        // A plain socket upstream: its bytes go straight between the socket and the downstream pipe's own buffers (the
        // client's segments sent as they are; the upstream read into the pipe's memory), with no stream or second pipe.
        using var abort = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var idle = IdleWatch.Start(idleTimeout, abort);
        var toUpstream = PumpToSocketAsync(downstream.Input, upstream, metrics, abort, idle);
        var toDownstream = PumpFromSocketAsync(upstream, downstream.Output, metrics, abort, idle);
        var (sent, downstreamFailed) = await toUpstream.ConfigureAwait(false);
        var (received, upstreamFailed) = await toDownstream.ConfigureAwait(false);
        return new RelayResult(sent, received, downstreamFailed, upstreamFailed);
    }

    private static async Task<(long Bytes, bool Failed)> PumpToSocketAsync(PipeReader from, Socket to, TcpMetrics metrics, CancellationTokenSource abort, IdleWatch? idle)
    {
        long total = 0;
        try
        {
            while (true)
            {
                var result = await from.ReadAsync(abort.Token).ConfigureAwait(false);
                idle?.Touch();
                foreach (var segment in result.Buffer)
                {
                    for (var sent = 0; sent < segment.Length;)
                    {
                        sent += await to.SendAsync(segment[sent..], SocketFlags.None, abort.Token).ConfigureAwait(false);
                    }

                    total += segment.Length;
                    metrics.AddReceived(segment.Length);
                }

                from.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted || result.IsCanceled)
                {
                    Shutdown(to); // the client's FIN, passed on
                    return (total, false);
                }
            }
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            await abort.CancelAsync().ConfigureAwait(false);
            return (total, e is not OperationCanceledException);
        }
    }

    private static async Task<(long Bytes, bool Failed)> PumpFromSocketAsync(Socket from, PipeWriter to, TcpMetrics metrics, CancellationTokenSource abort, IdleWatch? idle)
    {
        long total = 0;
        try
        {
            while (true)
            {
                var memory = to.GetMemory(UpstreamReadSize);
                var read = await from.ReceiveAsync(memory, SocketFlags.None, abort.Token).ConfigureAwait(false);
                idle?.Touch();
                if (read == 0)
                {
                    await to.CompleteAsync().ConfigureAwait(false);
                    return (total, false);
                }

                to.Advance(read);
                total += read;
                metrics.AddSent(read);
                await to.FlushAsync(abort.Token).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            await abort.CancelAsync().ConfigureAwait(false);
            return (total, e is not OperationCanceledException);
        }
    }

    private const int UpstreamReadSize = 16 * 1024;

    /// <summary>
    /// The relay over an upstream connection the proxy's event loop drives: read only when epoll reported data, written
    /// gathered from the client's segments. The relay's end (a failure either way, the client leaving, the idle timeout)
    /// shuts the upstream down, which wakes whatever waits on it.
    /// </summary>
    internal static async Task<RelayResult> RunAsync(IDuplexPipe downstream, EpollSocket upstream, TcpMetrics metrics, CancellationToken cancellationToken, TimeSpan idleTimeout = default)
    {
        using var abort = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var idle = IdleWatch.Start(idleTimeout, abort);
        using var onAbort = abort.Token.UnsafeRegister(static state => ((EpollSocket)state!).Abort(), upstream);
        var toUpstream = PumpToEventLoopAsync(downstream.Input, upstream, metrics, abort, idle);
        var toDownstream = PumpFromEventLoopAsync(upstream, downstream.Output, metrics, abort, idle);
        var (sent, downstreamFailed) = await toUpstream.ConfigureAwait(false);
        var (received, upstreamFailed) = await toDownstream.ConfigureAwait(false);
        return new RelayResult(sent, received, downstreamFailed, upstreamFailed);
    }

    private static async Task<(long Bytes, bool Failed)> PumpToEventLoopAsync(PipeReader from, EpollSocket to, TcpMetrics metrics, CancellationTokenSource abort, IdleWatch? idle)
    {
        long total = 0;
        try
        {
            while (true)
            {
                var result = await from.ReadAsync(abort.Token).ConfigureAwait(false);
                idle?.Touch();
                var buffer = result.Buffer;
                if (!buffer.IsEmpty)
                {
                    await to.SendAsync(buffer).ConfigureAwait(false);
                    total += buffer.Length;
                    metrics.AddReceived(buffer.Length);
                }

                from.AdvanceTo(buffer.End);
                if (result.IsCompleted || result.IsCanceled)
                {
                    to.ShutdownSend(); // the client's FIN, passed on
                    return (total, false);
                }
            }
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            var failed = e is not OperationCanceledException && !abort.IsCancellationRequested;
            await abort.CancelAsync().ConfigureAwait(false);
            return (total, failed);
        }
    }

    private static async Task<(long Bytes, bool Failed)> PumpFromEventLoopAsync(EpollSocket from, PipeWriter to, TcpMetrics metrics, CancellationTokenSource abort, IdleWatch? idle)
    {
        long total = 0;
        try
        {
            while (true)
            {
                if (!from.ReadReady)
                {
                    await from.WaitReadableAsync().ConfigureAwait(false);
                }

                abort.Token.ThrowIfCancellationRequested();
                var memory = to.GetMemory(UpstreamReadSize);
                var read = from.Receive(memory.Span);
                if (read < 0)
                {
                    continue;
                }

                idle?.Touch();
                if (read == 0)
                {
                    abort.Token.ThrowIfCancellationRequested(); // an abort's shutdown reads as the end: not the upstream's
                    await to.CompleteAsync().ConfigureAwait(false);
                    return (total, false);
                }

                to.Advance(read);
                total += read;
                metrics.AddSent(read);
                await to.FlushAsync(abort.Token).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            var failed = e is not OperationCanceledException && !abort.IsCancellationRequested;
            await abort.CancelAsync().ConfigureAwait(false);
            return (total, failed);
        }
    }

    /// <summary>
    /// The relay over any upstream stream, e.g. TLS the proxy originates (<see cref="Upstream.ClusterState.ConnectRelayAsync"/>).
    /// </summary>
    /// <param name="halfClose">Passes the client's FIN on (for TLS: close_notify, then the socket's FIN).</param>
    /// <param name="idleTimeout">Closes both sides once no byte moved either way for this long; zero or infinite for never.</param>
    public static async Task<RelayResult> RunAsync(IDuplexPipe downstream, Stream upstreamStream, Action halfClose, TcpMetrics metrics, CancellationToken cancellationToken, TimeSpan idleTimeout = default)
    {
        using var abort = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var idle = IdleWatch.Start(idleTimeout, abort);
        var upstreamReader = PipeReader.Create(upstreamStream, new StreamPipeReaderOptions(bufferSize: UpstreamReadSize, leaveOpen: true));

        var upstreamWriter = PipeWriter.Create(upstreamStream, new StreamPipeWriterOptions(leaveOpen: true));

        var toUpstream = PumpAsync(downstream.Input, upstreamWriter, towardUpstream: true, halfClose, metrics, abort, idle);
        var toDownstream = PumpAsync(upstreamReader, downstream.Output, towardUpstream: false, null, metrics, abort, idle);

        var (sent, downstreamFailed) = await toUpstream.ConfigureAwait(false);
        var (received, upstreamFailed) = await toDownstream.ConfigureAwait(false);
        await upstreamReader.CompleteAsync().ConfigureAwait(false);
        return new RelayResult(sent, received, downstreamFailed, upstreamFailed);
    }

    /// <summary>
    /// Moves bytes one way until the reading side ends (then completes the writer, and runs
    /// <paramref name="afterEnd"/>: the FIN is passed on) or fails (then cancels the other direction too).
    /// </summary>
    private static async Task<(long Bytes, bool Failed)> PumpAsync(
        PipeReader from, PipeWriter to, bool towardUpstream, Action? afterEnd, TcpMetrics metrics, CancellationTokenSource abort, IdleWatch? idle)
    {
        long total = 0;
        try
        {
            while (true)
            {
                var result = await from.ReadAsync(abort.Token).ConfigureAwait(false);
                idle?.Touch();
                foreach (var segment in result.Buffer)
                {
                    await to.WriteAsync(segment, abort.Token).ConfigureAwait(false);
                    total += segment.Length;
                    if (towardUpstream)
                    {
                        metrics.AddReceived(segment.Length);
                    }
                    else
                    {
                        metrics.AddSent(segment.Length);
                    }
                }

                from.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted || result.IsCanceled)
                {
                    await to.CompleteAsync().ConfigureAwait(false);
                    afterEnd?.Invoke();
                    return (total, false);
                }
            }
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            await abort.CancelAsync().ConfigureAwait(false);
            return (total, e is not OperationCanceledException);
        }
    }

    private static void Shutdown(Socket socket)
    {
        try
        {
            socket.Shutdown(SocketShutdown.Send);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // already gone
        }
    }

    /// <summary>
    /// A relay's idle timer: every read notes the time (one volatile write); a timer per connection, ticking at a
    /// quarter of the timeout, cancels the relay once nothing moved for the whole timeout. No lock on the data path.
    /// </summary>
    private sealed class IdleWatch : IDisposable
    {
        private readonly long _timeoutMs;
        private readonly CancellationTokenSource _abort;
        private readonly Timer _timer;
        private long _last = Environment.TickCount64;

        private IdleWatch(TimeSpan timeout, CancellationTokenSource abort)
        {
            _timeoutMs = (long)timeout.TotalMilliseconds;
            _abort = abort;
            var period = TimeSpan.FromMilliseconds(Math.Max(_timeoutMs / 4, 100));
            _timer = new Timer(static state => ((IdleWatch)state!).Check(), this, period, period);
        }

        /// <summary>The watch for <paramref name="timeout"/>; null (no timer) when it is zero or infinite.</summary>
        public static IdleWatch? Start(TimeSpan timeout, CancellationTokenSource abort) =>
            timeout > TimeSpan.Zero && timeout != Timeout.InfiniteTimeSpan ? new IdleWatch(timeout, abort) : null;

        public void Touch() => Volatile.Write(ref _last, Environment.TickCount64);

        public void Dispose() => _timer.Dispose();

        private void Check()
        {
            if (Environment.TickCount64 - Volatile.Read(ref _last) < _timeoutMs)
            {
                return;
            }

            _timer.Dispose();
            try
            {
                _abort.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // the relay ended meanwhile
            }
        }
    }
}

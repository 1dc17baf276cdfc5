using System.IO.Pipelines;
using System.Net.Sockets;
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
    public static async Task<RelayResult> RunAsync(IDuplexPipe downstream, Socket upstream, TcpMetrics metrics, CancellationToken cancellationToken)
    {
        await using var upstreamStream = new NetworkStream(upstream, ownsSocket: false);
        return await RunAsync(downstream, upstreamStream, () => Shutdown(upstream), metrics, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The relay over any upstream stream, e.g. TLS the proxy originates (<see cref="Upstream.ClusterState.ConnectRelayAsync"/>).
    /// </summary>
    /// <param name="halfClose">Passes the client's FIN on (for TLS: close_notify, then the socket's FIN).</param>
    public static async Task<RelayResult> RunAsync(IDuplexPipe downstream, Stream upstreamStream, Action halfClose, TcpMetrics metrics, CancellationToken cancellationToken)
    {
        using var abort = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var upstreamReader = PipeReader.Create(upstreamStream, new StreamPipeReaderOptions(bufferSize: 16 * 1024, leaveOpen: true));

        var upstreamWriter = PipeWriter.Create(upstreamStream, new StreamPipeWriterOptions(leaveOpen: true));

        var toUpstream = PumpAsync(downstream.Input, upstreamWriter, towardUpstream: true, halfClose, metrics, abort);
        var toDownstream = PumpAsync(upstreamReader, downstream.Output, towardUpstream: false, null, metrics, abort);

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
        PipeReader from, PipeWriter to, bool towardUpstream, Action? afterEnd, TcpMetrics metrics, CancellationTokenSource abort)
    {
        long total = 0;
        try
        {
            while (true)
            {
                var result = await from.ReadAsync(abort.Token).ConfigureAwait(false);
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
}

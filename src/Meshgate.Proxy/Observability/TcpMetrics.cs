namespace Meshgate.Proxy.Observability;

/// <summary>
/// Istio's TCP metrics for one <see cref="TcpKey"/>: connections opened and closed, and payload bytes each way.
/// Bytes are added as the relay moves them, so a long-lived connection shows up before it closes (as Envoy's
/// counters do). Lock-free.
/// </summary>
public sealed class TcpMetrics(TcpKey key)
{
    /// <summary>For relays whose counts nobody reads (tests, tools).</summary>
    public static readonly TcpMetrics Discard = new(new TcpKey("unknown", "unknown"));

    private long _opened;
    private long _closed;
    private long _received;
    private long _sent;

    public TcpKey Key { get; } = key;

    /// <summary><c>istio_tcp_connections_opened_total</c>.</summary>
    public long Opened => Interlocked.Read(ref _opened);

    /// <summary><c>istio_tcp_connections_closed_total</c>.</summary>
    public long Closed => Interlocked.Read(ref _closed);

    /// <summary><c>istio_tcp_received_bytes_total</c>: bytes from downstream.</summary>
    public long ReceivedBytes => Interlocked.Read(ref _received);

    /// <summary><c>istio_tcp_sent_bytes_total</c>: bytes to downstream.</summary>
    public long SentBytes => Interlocked.Read(ref _sent);

    public void ConnectionOpened() => Interlocked.Increment(ref _opened);

    public void ConnectionClosed() => Interlocked.Increment(ref _closed);

    public void AddReceived(long bytes) => Interlocked.Add(ref _received, bytes);

    public void AddSent(long bytes) => Interlocked.Add(ref _sent, bytes);
}

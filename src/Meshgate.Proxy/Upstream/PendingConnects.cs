namespace Meshgate.Proxy.Upstream;

/// <summary>
/// A cluster's cap on upstream connection attempts in flight (TCP connect and TLS handshake), as Envoy's circuit
/// breakers bound pending connections (<c>max_pending_requests</c>, <c>max_connections</c>, 1024 each by default): an
/// upstream that stops answering SYNs then costs a bounded number of sockets and waiting requests, and the attempt
/// over the cap fails at once with <see cref="UpstreamOverflowException"/> (503 <c>UO</c>, or a closed TCP connection
/// flagged <c>UO</c>). Lock-free: one <see cref="Interlocked"/> counter.
/// </summary>
public sealed class PendingConnects(int max)
{
    private int _pending;

    /// <summary>The cap.</summary>
    public int Max => max;

    /// <summary>Attempts in flight now.</summary>
    public int Count => Volatile.Read(ref _pending);

    /// <summary>Starts an attempt; throws <see cref="UpstreamOverflowException"/> over the cap. Pair with <see cref="Exit"/>.</summary>
    public void Enter()
    {
        if (Interlocked.Increment(ref _pending) > max)
        {
            Interlocked.Decrement(ref _pending);
            throw new UpstreamOverflowException();
        }
    }

    /// <summary>Ends an attempt, connected or not.</summary>
    public void Exit() => Interlocked.Decrement(ref _pending);
}

/// <summary>A cluster had too many connection attempts in flight (Envoy's <c>overflow</c> reset reason, flag UO).</summary>
internal sealed class UpstreamOverflowException() : Exception("upstream overflow: too many pending connections to the cluster");

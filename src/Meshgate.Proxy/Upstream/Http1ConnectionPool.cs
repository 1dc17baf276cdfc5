using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using Meshgate.Core.Certificates;
using Meshgate.Proxy.EventLoop;

namespace Meshgate.Proxy.Upstream;

/// <summary>
/// The kept-alive HTTP/1.1 connections (plaintext, or with the cluster's TLS) to one upstream endpoint of a cluster, for <c>Http1Forwarder</c>. Idle
/// connections sit in a fixed array of slots taken and given back with compare-and-swap, lowest slot first (the most
/// recently used connection is reused first, so surplus ones age out): no lock and no allocation per request.
/// </summary>
/// <remarks>
/// Timeouts, as SocketsHttpHandler and YARP apply them on the forwarding path this replaces: a connection idle in the
/// pool for <see cref="IdleTimeout"/> is closed (SocketsHttpHandler's <c>PooledConnectionIdleTimeout</c>, 60 s), and
/// one that carries a request but neither reads nor writes for <see cref="ActivityTimeout"/> is aborted (YARP's
/// <c>ActivityTimeout</c>, 5 min, Envoy's stream idle timeout). One process-wide timer checks every pool each second.
/// </remarks>
internal sealed class Http1ConnectionPool : IDisposable
{
    /// <summary>Idle connections kept per endpoint; more are closed when their request ends.</summary>
    internal const int MaxIdle = 256;

    internal static readonly TimeSpan IdleTimeout = TimeSpan.FromSeconds(60);

    internal static readonly TimeSpan ActivityTimeout = TimeSpan.FromMinutes(5);

    private static readonly ConcurrentDictionary<Http1ConnectionPool, byte> s_pools = new();
    private static readonly Timer s_sweeper = new(static _ => SweepAll(), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));

    private readonly Http1UpstreamConnection?[] _idle = new Http1UpstreamConnection?[MaxIdle];

    // Every open connection, busy or idle, for the activity sweep; changed only when a connection opens or closes.
    private readonly ConcurrentDictionary<Http1UpstreamConnection, byte> _open = new();
    private readonly PendingConnects _pending;
    private readonly TimeSpan _connectTimeout;
    private readonly UpstreamTlsContext? _tls;
    private readonly Action<Http1ConnectionPool>? _retire;
    private readonly EpollLoop? _eventLoop;
    private long _lastUsed = Environment.TickCount64;
    private bool _disposed;

    /// <param name="tls">The cluster's upstream TLS (the handshake as its HTTP client makes it); null for plaintext.</param>
    /// <param name="eventLoop">Drives plaintext connections (<see cref="EpollSocket"/>); null, or with TLS: the runtime's <see cref="Socket"/>.</param>
    /// <param name="retire">
    /// Called by the sweep once the pool has held no connection for <see cref="IdleTimeout"/>, so its owner forgets it:
    /// a sidecar's PassthroughCluster, or a DNS name whose addresses rotate, would otherwise keep a pool per address
    /// ever seen. A request that still holds a retired pool is served; its connection is just not kept.
    /// </param>
    public Http1ConnectionPool(IPEndPoint endPoint, PendingConnects pending, TimeSpan connectTimeout, UpstreamTlsContext? tls = null, Action<Http1ConnectionPool>? retire = null, EpollLoop? eventLoop = null)
    {
        _eventLoop = tls is null ? eventLoop : null;
        EndPoint = endPoint;
        _pending = pending;
        _connectTimeout = connectTimeout;
        _tls = tls;
        _retire = retire;
        s_pools.TryAdd(this, 0);
    }

    public IPEndPoint EndPoint { get; }

    /// <summary>Connections open now (busy and idle), for tests and <c>/clusters</c>.</summary>
    public int OpenCount => _open.Count;

    /// <summary>True once disposed or retired: it keeps no connection, and requests should ask their cluster for its pool again.</summary>
    public bool Retired => Volatile.Read(ref _disposed);

    /// <summary>An idle connection still open at the upstream's end; null when there is none.</summary>
    public Http1UpstreamConnection? TryRent()
    {
        Volatile.Write(ref _lastUsed, Environment.TickCount64);
        var slots = _idle;
        for (var i = 0; i < slots.Length; i++)
        {
            var connection = Volatile.Read(ref slots[i]);
            if (connection is null || Interlocked.CompareExchange(ref slots[i], null, connection) != connection)
            {
                continue;
            }

            if (connection.IdleReadPending)
            {
                connection.Busy = true;
                connection.Touch();
                return connection;
            }

            Close(connection); // the upstream closed it while idle (or sent something unasked)
        }

        return null;
    }

    /// <summary>A new connection, within the cluster's cap on connects in flight and its connect timeout.</summary>
    /// <exception cref="UpstreamOverflowException">Too many connects in flight to the cluster.</exception>
    /// <exception cref="TimeoutException">The connect timeout passed.</exception>
    /// <exception cref="UpstreamTlsException">The TLS handshake was refused (with Envoy's transport failure reason).</exception>
    public async ValueTask<Http1UpstreamConnection> ConnectAsync(CancellationToken deadline, CancellationToken aborted)
    {
        _pending.Enter();
        var socket = UpstreamSocket.CreateFor(EndPoint);
        SslStream? ssl = null;
        EpollSocket? driven = null;
        string? peerUriSan = null;
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(deadline, aborted);
            timeout.CancelAfter(_connectTimeout);
            try
            {
                if (_eventLoop is not null)
                {
                    driven = await EpollSocket.ConnectAsync(_eventLoop, socket, EndPoint, timeout.Token).ConfigureAwait(false);
                }
                else
                {
                    await socket.ConnectAsync(EndPoint, timeout.Token).ConfigureAwait(false);
                }

                if (_tls is not null)
                {
                    // As the HTTP client's connect callback does it (UpstreamConnector): HTTP/1.1 only, or the tunnel's mark.
                    ssl = await UpstreamConnector.HandshakeAsync(new NetworkStream(socket, ownsSocket: true), _tls, timeout.Token, UpstreamTlsContext.Http11Only).ConfigureAwait(false);
                    peerUriSan = UriSubjectAltNames.Join(ssl.RemoteCertificate);
                }
            }
            catch (OperationCanceledException e) when (!deadline.IsCancellationRequested && !aborted.IsCancellationRequested)
            {
                throw new TimeoutException($"connect to {EndPoint} timed out after {_connectTimeout.TotalMilliseconds} ms", e);
            }
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        finally
        {
            _pending.Exit();
        }

        // A retired pool still serves the request it was asked for: Return closes the connection after it.
        Http1UpstreamConnection connection;
        try
        {
            connection = new Http1UpstreamConnection(socket, ssl, peerUriSan, driven) { Busy = true };
        }
        catch
        {
            driven?.Dispose();
            socket.Dispose();
            throw;
        }

        _open.TryAdd(connection, 0);
        Volatile.Write(ref _lastUsed, Environment.TickCount64);
        return connection;
    }

    /// <summary>Gives a connection whose request ended cleanly back for reuse (or closes it when it cannot be kept).</summary>
    public void Return(Http1UpstreamConnection connection)
    {
        connection.Reused = true;
        connection.Busy = false;
        connection.Touch();
        if (Volatile.Read(ref _disposed) || !connection.PostIdleRead())
        {
            Close(connection);
            return;
        }

        var slots = _idle;
        for (var i = 0; i < slots.Length; i++)
        {
            if (Volatile.Read(ref slots[i]) is null && Interlocked.CompareExchange(ref slots[i], connection, null) is null)
            {
                return;
            }
        }

        Close(connection);
    }

    /// <summary>Closes a connection that cannot be reused (failed, framed to its end, or refused by the upstream).</summary>
    public void Close(Http1UpstreamConnection connection)
    {
        _open.TryRemove(connection, out _);
        connection.Dispose();
    }

    public void Dispose()
    {
        Volatile.Write(ref _disposed, true);
        s_pools.TryRemove(this, out _);
        for (var i = 0; i < _idle.Length; i++)
        {
            if (Interlocked.Exchange(ref _idle[i], null) is { } connection)
            {
                Close(connection);
            }
        }
    }

    private static void SweepAll()
    {
        var now = Environment.TickCount64;
        foreach (var pool in s_pools.Keys)
        {
            pool.Sweep(now);
        }
    }

    private void Sweep(long now)
    {
        if (_retire is not null && _open.IsEmpty && now - Volatile.Read(ref _lastUsed) > (long)IdleTimeout.TotalMilliseconds && !Retired)
        {
            _retire(this);
            Dispose();
            return;
        }

        for (var i = 0; i < _idle.Length; i++)
        {
            var connection = Volatile.Read(ref _idle[i]);
            if (connection is not null && now - connection.LastActivity > (long)IdleTimeout.TotalMilliseconds
                && Interlocked.CompareExchange(ref _idle[i], null, connection) == connection)
            {
                Close(connection);
            }
        }

        foreach (var connection in _open.Keys)
        {
            if (connection.Busy && now - connection.LastActivity > (long)ActivityTimeout.TotalMilliseconds)
            {
                // The request using it fails its read or write and cleans up (YARP's activity timeout: 504 or an abort).
                connection.AbortForInactivity();
            }
        }
    }
}

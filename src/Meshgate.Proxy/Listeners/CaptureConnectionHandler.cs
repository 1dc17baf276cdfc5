using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Meshgate.Core.ProxyConfiguration;
using Meshgate.Proxy.Capture;
using Meshgate.Proxy.Observability;
using Meshgate.Proxy.Upstream;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;

namespace Meshgate.Proxy.Listeners;

/// <summary>
/// Connection middleware of the capture listener (the sidecar's 15001), in front of Kestrel's HTTP/1.1:
/// <list type="bullet">
/// <item>explicit mode: a <c>CONNECT host:port</c> is answered <c>200 Connection established</c> and its tunnel is
/// handled by the virtual listener for that port; any other request is left to Kestrel (absolute-form requests are
/// routed per request by <see cref="Forwarding.HttpProxyHandler"/>);</item>
/// <item>transparent mode: <c>SO_ORIGINAL_DST</c> picks the virtual listener.</item>
/// </list>
/// A TLS or TCP virtual listener gets the bytes (<see cref="TlsPassthroughHandler"/>); an HTTP one gets the connection
/// back through Kestrel, marked with <see cref="CapturedConnection"/>; with none, the capture listener's default chain.
/// </summary>
internal sealed class CaptureConnectionHandler(TlsPassthroughHandler relay, TimeProvider time, ProxyMetrics? metrics = null, LoopGuard? loops = null)
{
    /// <summary>How long a client may take to send its first request head.</summary>
    public TimeSpan HeadTimeout { get; init; } = ProxyLimits.Default.HandshakeHeadTimeout;

    private static readonly byte[] Established = "HTTP/1.1 200 Connection established\r\n\r\n"u8.ToArray();
    private static readonly byte[] BadRequest = "HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"u8.ToArray();
    private static readonly byte[] Forbidden = "HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"u8.ToArray();

    public async Task HandleAsync(ConnectionContext connection, ListenerContext capture, ConnectionDelegate next)
    {
        OriginalDestination destination;
        var snapshot = capture.Snapshot;
        try
        {
            var listener = capture.Snapshot.Listener(capture.Name)?.Listener;
            if (listener is { UseOriginalDestination: true })
            {
                var socket = connection.Features.Get<IConnectionSocketFeature>()?.Socket;
                destination = socket is not null && SocketOriginalDestination.TryGet(socket, out var original)
                    ? OriginalDestination.From(original)
                    : OriginalDestination.From((IPEndPoint)connection.LocalEndPoint!); // not redirected: a loop, refused later
            }
            else
            {
                var started = Stopwatch.GetTimestamp();
                (ConnectStatus Status, OriginalDestination Target, string? Raw) head;
                using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(connection.ConnectionClosed))
                {
                    timeout.CancelAfter(HeadTimeout);
                    head = await ConnectRequestReader.ReadAsync(connection.Transport.Input, timeout.Token).ConfigureAwait(false);
                }

                if (head.Status == ConnectStatus.NotConnect)
                {
                    await next(connection).ConfigureAwait(false);
                    return;
                }

                if (head.Status == ConnectStatus.Malformed)
                {
                    await connection.Transport.Output.WriteAsync(BadRequest, connection.ConnectionClosed).ConfigureAwait(false);
                    LogMalformed(connection, capture, head.Raw, started);
                    await connection.Transport.Output.CompleteAsync().ConfigureAwait(false); // a FIN after the 400, not a reset before it
                    return;
                }

                destination = head.Target;
                snapshot = capture.Snapshot; // the snapshot of now: the tunnel is vetted and routed with it
                var vetted = await VetAsync(snapshot, capture, destination, connection.ConnectionClosed).ConfigureAwait(false);
                if (vetted.Refused is { } refused)
                {
                    // The egress guard refuses where the tunnel would go: 403 before any tunnel, one log line.
                    await connection.Transport.Output.WriteAsync(Forbidden, connection.ConnectionClosed).ConfigureAwait(false);
                    LogRefused(connection, capture, head.Raw, refused, vetted.Cluster, started);
                    await connection.Transport.Output.CompleteAsync().ConfigureAwait(false);
                    return;
                }

                destination = vetted.Destination;
                await connection.Transport.Output.WriteAsync(Established, connection.ConnectionClosed).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            connection.Abort();
            return;
        }

        // Routing of the tunnel or connection starts here, with the snapshot of now (the one the CONNECT was vetted with).
        var target = snapshot.VirtualListener(destination.Address, destination.Port);
        if (target?.Listener.Protocol == ListenerProtocol.Http)
        {
            connection.Features.Set(new CapturedConnection(destination));
            await next(connection).ConfigureAwait(false);
            return;
        }

        var fallback = snapshot.Listener(capture.Name)?.Listener.DefaultFilterChain;
        await relay.HandleCapturedAsync(connection, capture, snapshot, target, fallback, destination, next).ConfigureAwait(false);
    }

    /// <summary>
    /// A CONNECT whose tunnel goes, whatever it carries, to its own target: no virtual listener for the port (the
    /// capture listener's default chain) or a TCP one, whose cluster is an original destination (PassthroughCluster).
    /// The target is resolved once and checked by the egress guard before the tunnel is answered; the address checked is
    /// the one the relay dials (<see cref="OriginalDestination.Vetted"/>). Tunnels routed by what they carry (TLS by SNI,
    /// HTTP by Host) are checked when their cluster picks an address, and then closed or answered 403 inside.
    /// </summary>
    private async ValueTask<(OriginalDestination Destination, UpstreamTarget? Refused, string? Cluster)> VetAsync(ProxySnapshot snapshot, ListenerContext capture, OriginalDestination destination, CancellationToken cancellationToken)
    {
        var target = snapshot.VirtualListener(destination.Address, destination.Port)?.Listener;
        var chain = target is null ? snapshot.Listener(capture.Name)?.Listener.DefaultFilterChain
            : target.Protocol == ListenerProtocol.Tcp ? (target.FilterChains.Count > 0 ? target.FilterChains[0] : target.DefaultFilterChain)
            : null;
        if (snapshot.Cluster(chain?.Cluster) is not { Cluster.Discovery: ClusterDiscovery.OriginalDestination } cluster)
        {
            return (destination, null, null);
        }

        var picked = await cluster.PickTargetAsync(destination, snapshot.Egress, cancellationToken).ConfigureAwait(false);
        if (picked is null)
        {
            return (destination, null, null); // the name does not resolve: the relay logs that, as before
        }

        if (loops?.IsSelf(picked.EndPoint) != true && !snapshot.Egress.Allows(picked))
        {
            metrics?.EgressBlocked(picked.Class);
            return (destination, picked, cluster.Name);
        }

        return (destination.Address is null ? destination with { Vetted = picked.EndPoint.Address } : destination, null, null);
    }

    /// <summary>A CONNECT the egress guard refused, logged as an HTTP request answered locally.</summary>
    private void LogRefused(ConnectionContext connection, ListenerContext capture, string? target, UpstreamTarget refused, string? cluster, long started)
    {
        var entry = new AccessLogEntry
        {
            StartTime = time.GetUtcNow(),
            Method = "CONNECT",
            Protocol = AccessLogProtocol.Http11,
            Authority = target,
            ResponseCode = 403,
            ResponseFlags = ResponseFlags.EgressDestinationBlocked,
            ResponseCodeDetails = EgressRefusals.Details(refused.Class),
            UpstreamCluster = cluster,
            UpstreamHost = refused.EndPoint,
            DownstreamLocalAddress = connection.LocalEndPoint as IPEndPoint,
            DownstreamRemoteAddress = connection.RemoteEndPoint as IPEndPoint,
            Duration = Stopwatch.GetElapsedTime(started),
        };
        capture.Snapshot.AccessLog.Write(in entry);
    }

    /// <summary>A CONNECT that cannot be served, logged as Envoy's HTTP/1 codec reports an invalid URL.</summary>
    private void LogMalformed(ConnectionContext connection, ListenerContext capture, string? target, long started)
    {
        var entry = new AccessLogEntry
        {
            StartTime = time.GetUtcNow(),
            Method = "CONNECT",
            Protocol = AccessLogProtocol.Http11,
            Authority = target,
            ResponseCode = 400,
            ResponseFlags = ResponseFlags.DownstreamProtocolError,
            ResponseCodeDetails = "http1.invalid_url",
            DownstreamLocalAddress = connection.LocalEndPoint as IPEndPoint,
            DownstreamRemoteAddress = connection.RemoteEndPoint as IPEndPoint,
            Duration = Stopwatch.GetElapsedTime(started),
        };
        capture.Snapshot.AccessLog.Write(in entry);
    }
}

using System.ComponentModel;
using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Meshgate.Core.Certificates;
using Meshgate.Core.ProxyConfiguration;
using Meshgate.Proxy.Capture;
using Meshgate.Proxy.EventLoop;
using Meshgate.Proxy.Observability;
using Meshgate.Proxy.Upstream;
using Microsoft.AspNetCore.Connections;

namespace Meshgate.Proxy.Listeners;

/// <summary>
/// A connection on a TLS or TCP listener: on TLS, peek the ClientHello and choose the filter chain by SNI (a TCP
/// listener has one chain); connect to an endpoint of its cluster, and relay the bytes both ways. Captured connections
/// (a CONNECT tunnel, a transparently redirected connection) come here with the virtual listener of their destination,
/// or none (then the capture listener's default chain), and the original destination for PassthroughCluster. Nothing is
/// decrypted, except on chains with <c>Tls</c> (see <see cref="TerminateAsync"/>): those terminate TLS and hand the
/// connection to Kestrel's HTTP handling (a route table) or relay the decrypted bytes (a cluster). One access-log
/// line per connection, <c>"- - -" 0</c> with the SNI, as Envoy's tcp_proxy writes it, and Istio's TCP metrics
/// (bytes counted as they are relayed). A connection is routed with its listener's snapshot of the moment it
/// arrived; once relaying, it no longer depends on configuration, so swaps leave it alone.
/// </summary>
internal sealed class TlsPassthroughHandler(ProxyMetrics metrics, TimeProvider time, LoopGuard loops, MeshTunnelAcceptor tunnels)
{
    /// <summary>How long a client may take to send its ClientHello.</summary>
    public TimeSpan HelloTimeout { get; init; } = ProxyLimits.Default.HandshakeHeadTimeout;

    /// <summary>How long a relayed TCP connection may move no byte either way before both sides are closed.</summary>
    public TimeSpan IdleTimeout { get; init; } = ProxyLimits.Default.TcpIdleTimeout;

    /// <summary>The loop that drives plaintext upstream connections (<see cref="EpollSocket"/>); null: the runtime's sockets.</summary>
    public EpollLoop? EventLoop { get; init; }

    /// <summary>Response code details when the upstream is the proxy itself (see <see cref="LoopGuard"/>).</summary>
    public const string LoopDetected = "upstream_loop_detected";

    private static readonly TcpKey Unrouted = new(SourceLabels.Unknown, SourceLabels.Unknown);

    /// <summary>How long a client may take to complete a TLS handshake the proxy terminates (Kestrel's default).</summary>
    public static readonly TimeSpan HandshakeTimeout = TimeSpan.FromSeconds(10);

    private CertificateUriSan? _lastLocal;

    /// <summary>
    /// A connection on a bound TLS or TCP listener; <paramref name="http"/> is Kestrel's HTTP/1.1 and HTTP/2 handling,
    /// for chains that terminate TLS.
    /// </summary>
    public Task HandleAsync(ConnectionContext connection, ListenerContext listener, ConnectionDelegate? http = null)
    {
        var snapshot = listener.Snapshot;
        return HandleAsync(connection, listener, snapshot, snapshot.Listener(listener.Name), null, null, http, http2: true);
    }

    /// <summary>
    /// A captured connection, handled as if it arrived on <paramref name="target"/> (a TLS or TCP virtual listener), or
    /// with <paramref name="fallback"/> (the capture listener's default chain) when there is no such listener.
    /// </summary>
    /// A chain that terminates TLS hands the decrypted connection to <paramref name="http"/> (the capture listener's
    /// Kestrel pipeline, HTTP/1.1 only, so only <c>http/1.1</c> is offered in ALPN).
    public Task HandleCapturedAsync(ConnectionContext connection, ListenerContext capture, ProxySnapshot snapshot, CompiledListener? target, FilterChain? fallback, OriginalDestination destination, ConnectionDelegate? http = null) =>
        HandleAsync(connection, capture, snapshot, target, fallback, destination, http, http2: false);

    private async Task HandleAsync(ConnectionContext connection, ListenerContext log, ProxySnapshot snapshot, CompiledListener? listener, FilterChain? fallback, OriginalDestination? destination, ConnectionDelegate? http, bool http2)
    {
        var started = Stopwatch.GetTimestamp();
        var entry = new AccessLogEntry
        {
            StartTime = time.GetUtcNow(),
            DownstreamLocalAddress = destination is { Address: { } original } ? new IPEndPoint(original, destination.Value.Port) : connection.LocalEndPoint as IPEndPoint,
            DownstreamRemoteAddress = connection.RemoteEndPoint as IPEndPoint,
        };
        try
        {
            await RelayAsync(connection, log, snapshot, listener, fallback, destination, started, entry, http, http2, tunneled: false).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The client went away; the relay already logged what it could.
        }
    }

    private async Task RelayAsync(ConnectionContext connection, ListenerContext log, ProxySnapshot snapshot, CompiledListener? listener, FilterChain? fallback, OriginalDestination? destination, long started, AccessLogEntry entry, ConnectionDelegate? http, bool http2, bool tunneled)
    {

        var tcp = metrics.Tcp(Unrouted);
        FilterChain? chain;
        if (listener?.Sni is { } sni)
        {
            var (hello, status) = await PeekHelloAsync(connection).ConfigureAwait(false);
            if (status != ClientHelloStatus.Complete)
            {
                entry.ConnectionTerminationDetails = status == ClientHelloStatus.Invalid ? "not_a_tls_client_hello" : "downstream_closed_before_client_hello";
                tcp.ConnectionOpened();
                Finish(log, tcp, ref entry, started, ResponseFlags.NoRouteFound);
                connection.Abort();
                return;
            }

            if (hello.MeshTunnel && !tunneled && destination is null && snapshot.MeshTunnelTls is { } tunnelTls)
            {
                // Another proxy's mutual TLS around what it sent: unwrap it, then route the inner ClientHello by its SNI.
                await UnwrapAsync(tunnelTls, connection, log, snapshot, listener, fallback, destination, started, entry, http, http2).ConfigureAwait(false);
                return;
            }

            entry.RequestedServerName = hello.ServerName;
            if (destination is { Address: null } connect && hello.ServerName is { } serverName && !snapshot.Egress.AllowsPair(connect.Host, serverName))
            {
                // No domain fronting through CONNECT: the tunnel was asked for one host, its TLS names another.
                metrics.DomainFrontingRefused(DomainFrontingCheck.ConnectSni);
                entry.ResponseCodeDetails = EgressRefusals.ConnectSniMismatch;
                tcp.ConnectionOpened();
                Finish(log, tcp, ref entry, started, ResponseFlags.DomainFrontingBlocked);
                connection.Abort();
                return;
            }

            chain = sni.Match((hello.ServerName ?? "").AsSpan());
        }
        else if (listener is not null)
        {
            if (!tunneled && destination is null && snapshot.MeshTunnelTls is { } tcpTunnelTls
                && await MeshTunnelAcceptor.StartsWithTunnelAsync(connection, MeshTunnelAcceptor.ServerFirstWait).ConfigureAwait(false))
            {
                // A TCP listener of a gateway: the sidecar's tunnel around the application's bytes, unwrapped, then relayed.
                await UnwrapAsync(tcpTunnelTls, connection, log, snapshot, listener, fallback, destination, started, entry, http, http2).ConfigureAwait(false);
                return;
            }

            chain = listener.Listener.FilterChains.Count > 0 ? listener.Listener.FilterChains[0] : listener.Listener.DefaultFilterChain;
        }
        else
        {
            chain = fallback;
        }

        if (chain is { Tls: not null } && (chain.RouteTable is null || http is not null) && snapshot.DownstreamTls(chain) is { } termination)
        {
            await TerminateAsync(connection, log, snapshot, chain, termination, destination, http, http2, started, entry).ConfigureAwait(false);
            return;
        }

        await RelayToClusterAsync(connection, log, snapshot, chain, destination, started, entry).ConfigureAwait(false);
    }

    /// <summary>
    /// Another proxy's mesh tunnel around what it sent: unwrapped, then the inside handled as this listener would. A
    /// method of its own, so the closure it needs is allocated only for tunnelled connections.
    /// </summary>
    private Task UnwrapAsync(DownstreamTlsContext tunnelTls, ConnectionContext connection, ListenerContext log, ProxySnapshot snapshot, CompiledListener? listener, FilterChain? fallback, OriginalDestination? destination, long started, AccessLogEntry entry, ConnectionDelegate? http, bool http2) =>
        tunnels.RunAsync(connection, log, tunnelTls, tunnel =>
        {
            entry.DownstreamPeerUriSan = tunnel.PeerUriSan;
            entry.DownstreamLocalUriSan = tunnel.LocalUriSan;
            return RelayAsync(connection, log, snapshot, listener, fallback, destination, started, entry, http, http2, tunneled: true);
        });

    /// <summary>Relays the connection's bytes (as they come, or decrypted when the chain terminated TLS) to the chain's cluster.</summary>
    private async Task RelayToClusterAsync(ConnectionContext connection, ListenerContext log, ProxySnapshot snapshot, FilterChain? chain, OriginalDestination? destination, long started, AccessLogEntry entry)
    {
        var tcp = metrics.Tcp(Unrouted);
        var principal = entry.DownstreamPeerUriSan ?? SourceLabels.Unknown; // known when this chain terminated mutual TLS
        var cluster = snapshot.Cluster(chain?.Cluster);
        if (cluster is null)
        {
            entry.ResponseCodeDetails = chain is null ? "filter_chain_not_found" : "cluster_not_found";
            tcp = chain?.Cluster is { } missing ? metrics.Tcp(new TcpKey(SourceLabels.Unknown, missing, principal)) : tcp;
            tcp.ConnectionOpened();
            Finish(log, tcp, ref entry, started, chain is null ? ResponseFlags.NoRouteFound : ResponseFlags.NoClusterFound);
            connection.Abort();
            return;
        }

        entry.UpstreamCluster = cluster.Name;
        tcp = metrics.Tcp(new TcpKey(cluster.ServiceHost, cluster.Name, principal));
        tcp.ConnectionOpened();
        // Envoy's ORIGINAL_DST on a connection nobody redirected: the original destination is the address it arrived
        // at, the proxy itself (the forwarding loop of resolution NONE behind a gateway, caught below).
        if (destination is null && cluster.Cluster.Discovery == Core.ProxyConfiguration.ClusterDiscovery.OriginalDestination && connection.LocalEndPoint is IPEndPoint local)
        {
            destination = OriginalDestination.From(local);
        }

        UpstreamTarget? target;
        try
        {
            target = await cluster.PickTargetAsync(destination, snapshot.Egress, connection.ConnectionClosed).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // The client left while the cluster's name was being resolved.
            Finish(log, tcp, ref entry, started, ResponseFlags.DownstreamConnectionTermination);
            return;
        }

        // BlackHoleCluster has no endpoints: Envoy's tcp_proxy logs UH and closes, as here.
        if (target is null)
        {
            Finish(log, tcp, ref entry, started, ResponseFlags.NoHealthyUpstream);
            connection.Abort();
            return;
        }

        var endpoint = target.EndPoint;
        entry.UpstreamHost = endpoint;
        if (loops.IsSelf(endpoint))
        {
            entry.ResponseCodeDetails = LoopDetected;
            Finish(log, tcp, ref entry, started, ResponseFlags.NoHealthyUpstream);
            connection.Abort();
            return;
        }

        if (!snapshot.Egress.Allows(target))
        {
            // The egress guard: the address that would be dialled is not public and in no allowed range.
            metrics.EgressBlocked(target.Class);
            entry.ResponseCodeDetails = EgressRefusals.Details(target.Class);
            Finish(log, tcp, ref entry, started, ResponseFlags.EgressDestinationBlocked);
            connection.Abort();
            return;
        }

        RelayResult result;
        if (cluster.Tls is not null)
        {
            // TLS originated towards the cluster (DestinationRule tls SIMPLE/MUTUAL): relay over the TLS stream.
            RelayConnection relay;
            try
            {
                relay = await cluster.ConnectRelayAsync(endpoint, connection.ConnectionClosed).ConfigureAwait(false);
            }
            catch (UpstreamOverflowException)
            {
                Overflow(log, tcp, ref entry, started, connection);
                return;
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException or UpstreamTlsException)
            {
                entry.UpstreamTransportFailureReason = e switch
                {
                    UpstreamTlsException tls => tls.Reason,
                    SocketException s => s.SocketErrorCode.ToString(),
                    _ => "connect_timeout",
                };
                Finish(log, tcp, ref entry, started, ResponseFlags.UpstreamConnectionFailure);
                connection.Abort();
                return;
            }

            await using (relay.ConfigureAwait(false))
            {
                entry.UpstreamLocalAddress = relay.LocalEndPoint;
                entry.UpstreamPeerUriSan = relay.Stream is SslStream origination ? UriSubjectAltNames.Join(origination.RemoteCertificate) : null;
                result = await TcpRelay.RunAsync(connection.Transport, relay.Stream, relay.HalfClose, tcp, connection.ConnectionClosed, IdleTimeout).ConfigureAwait(false);
            }
        }
        else
        {
            using var upstream = UpstreamSocket.CreateFor(endpoint);
            EpollSocket? driven = null;
            try
            {
                cluster.Pending.Enter();
            }
            catch (UpstreamOverflowException)
            {
                Overflow(log, tcp, ref entry, started, connection);
                return;
            }

            try
            {
                using var connectTimeout = CancellationTokenSource.CreateLinkedTokenSource(connection.ConnectionClosed);
                connectTimeout.CancelAfter(cluster.Cluster.ConnectTimeout ?? Core.ProxyConfiguration.Cluster.DefaultConnectTimeout);
                if (EventLoop is not null)
                {
                    driven = await EpollSocket.ConnectAsync(EventLoop, upstream, endpoint, connectTimeout.Token).ConfigureAwait(false);
                }
                else
                {
                    await upstream.ConnectAsync(endpoint, connectTimeout.Token).ConfigureAwait(false);
                }
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException)
            {
                entry.UpstreamTransportFailureReason = e is SocketException s ? s.SocketErrorCode.ToString() : "connect_timeout";
                Finish(log, tcp, ref entry, started, ResponseFlags.UpstreamConnectionFailure);
                connection.Abort();
                return;
            }
            finally
            {
                cluster.Pending.Exit();
            }

            if (driven is not null)
            {
                using (driven)
                {
                    entry.UpstreamLocalAddress = driven.LocalEndPoint(endpoint.AddressFamily);
                    result = await TcpRelay.RunAsync(connection.Transport, driven, tcp, connection.ConnectionClosed, IdleTimeout).ConfigureAwait(false);
                }
            }
            else
            {
                entry.UpstreamLocalAddress = upstream.LocalEndPoint as IPEndPoint;
                result = await TcpRelay.RunAsync(connection.Transport, upstream, tcp, connection.ConnectionClosed, IdleTimeout).ConfigureAwait(false);
            }
        }

        entry.BytesReceived = result.BytesFromDownstream;
        entry.BytesSent = result.BytesFromUpstream;
        var flags = ResponseFlags.None;
        if (result.UpstreamReset)
        {
            flags |= ResponseFlags.UpstreamConnectionTermination;
        }

        if (result.DownstreamReset)
        {
            flags |= ResponseFlags.DownstreamConnectionTermination;
        }

        Finish(log, tcp, ref entry, started, flags);
        if (result.DownstreamReset || result.UpstreamReset)
        {
            connection.Abort();
        }
    }

    /// <summary>
    /// TLS termination (an Istio Gateway server with <c>tls.mode</c> SIMPLE, MUTUAL or ISTIO_MUTUAL): the handshake with
    /// the chain's certificate over the connection's bytes (the ClientHello was only peeked). A chain with a route table
    /// (an HTTPS server) hands the decrypted connection to Kestrel's HTTP handling, marked with <see cref="TerminatedTls"/>:
    /// its requests are routed by the chain's route table and logged as on an HTTP listener (ALPN <c>h2</c>,
    /// <c>http/1.1</c>). A chain with a cluster (a TLS server with a <c>tcp</c> route) relays the decrypted bytes to it,
    /// logged as a TCP connection. A failed handshake is logged as Envoy's listener logs a connection that never became a
    /// stream: <c>"- - -" 0 DPE</c>, the TLS error in %CONNECTION_TERMINATION_DETAILS%.
    /// </summary>
    private async Task TerminateAsync(ConnectionContext connection, ListenerContext log, ProxySnapshot snapshot, FilterChain chain, DownstreamTlsContext termination, OriginalDestination? destination, ConnectionDelegate? http, bool http2, long started, AccessLogEntry entry)
    {
        if (termination.Unusable is { } why)
        {
            // A missing or unreadable secret (ISTIO_MUTUAL before the mesh CA exists): no certificate to present.
            RefuseHandshake(connection, log, started, ref entry, why);
            return;
        }

        var failure = new TlsFailure();
        var original = connection.Transport;
        var alpn = chain.RouteTable is null ? null : http2 ? DownstreamTlsContext.Http2AndHttp11 : DownstreamTlsContext.Http11Only;
        var ssl = new SslStream(new PipeStream(original), leaveInnerStreamOpen: false);
        await using (ssl.ConfigureAwait(false))
        {
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(connection.ConnectionClosed);
                timeout.CancelAfter(HandshakeTimeout);
                await ssl.AuthenticateAsServerAsync(termination.Options(alpn, failure), timeout.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is AuthenticationException or IOException or OperationCanceledException or Win32Exception or ObjectDisposedException)
            {
                RefuseHandshake(connection, log, started, ref entry, failure.Reason ?? HandshakeError(e));
                return;
            }

            // The identities, once for the connection: every request on it (and the relay) shares these strings.
            // Inside the mesh tunnel the outer identities stand unless this handshake has its own.
            entry.DownstreamPeerUriSan = UriSubjectAltNames.Join(ssl.RemoteCertificate) ?? entry.DownstreamPeerUriSan;
            entry.DownstreamLocalUriSan = LocalUriSan(ssl.LocalCertificate);
            var decrypted = new StreamDuplexPipe(ssl);
            connection.Transport = decrypted;
            try
            {
                if (http is not null && chain.RouteTable is not null)
                {
                    new TerminatedTls(chain, entry.RequestedServerName, ssl, entry.DownstreamPeerUriSan, entry.DownstreamLocalUriSan).Install(connection);
                    await http(connection).ConfigureAwait(false);
                }
                else
                {
                    await RelayToClusterAsync(connection, log, snapshot, chain, destination, started, entry).ConfigureAwait(false);
                }
            }
            finally
            {
                connection.Transport = original;
                await decrypted.Input.CompleteAsync().ConfigureAwait(false);
                await decrypted.Output.CompleteAsync().ConfigureAwait(false);
            }

            try
            {
                await ssl.ShutdownAsync().ConfigureAwait(false); // close_notify before the FIN
            }
            catch (Exception e) when (e is IOException or InvalidOperationException or ObjectDisposedException or NotSupportedException)
            {
                // The client is gone already.
            }
        }
    }

    /// <summary>
    /// The URI SANs of the certificate presented downstream. A chain presents the same certificate on every connection,
    /// so the last one's answer is kept (lock-free, one entry) rather than parsed again per connection.
    /// </summary>
    private string? LocalUriSan(X509Certificate? certificate)
    {
        if (certificate is null)
        {
            return null;
        }

        if (Volatile.Read(ref _lastLocal) is { } last && ReferenceEquals(last.Certificate, certificate))
        {
            return last.UriSan;
        }

        var uriSan = UriSubjectAltNames.Join(certificate);
        Volatile.Write(ref _lastLocal, new CertificateUriSan(certificate, uriSan));
        return uriSan;
    }

    private void RefuseHandshake(ConnectionContext connection, ListenerContext log, long started, ref AccessLogEntry entry, string reason)
    {
        entry.ConnectionTerminationDetails = reason;
        var tcp = metrics.Tcp(Unrouted);
        tcp.ConnectionOpened();
        Finish(log, tcp, ref entry, started, ResponseFlags.DownstreamProtocolError);
        connection.Abort();
    }

    /// <summary>A failed handshake as BoringSSL words it in Envoy's logs, as far as .NET tells why.</summary>
    internal static string HandshakeError(Exception e) => e switch
    {
        OperationCanceledException => "TLS_error:|handshake_timeout:TLS_error_end",
        AuthenticationException { InnerException: Win32Exception or IOException } or AuthenticationException => "TLS_error:|HANDSHAKE_FAILURE:TLS_error_end",
        _ => "TLS_error:|downstream_closed_during_handshake:TLS_error_end",
    };

    /// <summary>Reads until the ClientHello is complete, then rewinds: peeked, not consumed, so the upstream gets these bytes.</summary>
    private async Task<(ClientHello Hello, ClientHelloStatus Status)> PeekHelloAsync(ConnectionContext connection)
    {
        var input = connection.Transport.Input;
        using var helloTimeout = CancellationTokenSource.CreateLinkedTokenSource(connection.ConnectionClosed);
        helloTimeout.CancelAfter(HelloTimeout);
        while (true)
        {
            var read = await input.ReadAsync(helloTimeout.Token).ConfigureAwait(false);
            var status = ClientHelloReader.TryRead(read.Buffer, out var hello);
            if (status == ClientHelloStatus.Complete)
            {
                input.AdvanceTo(read.Buffer.Start);
                return (hello, status);
            }

            if (status == ClientHelloStatus.Invalid || read.IsCompleted)
            {
                input.AdvanceTo(read.Buffer.End);
                return (hello, status == ClientHelloStatus.Invalid ? status : ClientHelloStatus.Incomplete);
            }

            input.AdvanceTo(read.Buffer.Start, read.Buffer.End);
        }
    }

    /// <summary>The cluster had too many connection attempts in flight: closed, flagged UO (Envoy's tcp_proxy circuit breaker).</summary>
    private static void Overflow(ListenerContext listener, TcpMetrics tcp, ref AccessLogEntry entry, long started, ConnectionContext connection)
    {
        entry.ResponseCodeDetails = "upstream_overflow";
        Finish(listener, tcp, ref entry, started, ResponseFlags.UpstreamOverflow);
        connection.Abort();
    }

    private static void Finish(ListenerContext listener, TcpMetrics tcp, ref AccessLogEntry entry, long started, ResponseFlags flags)
    {
        tcp.ConnectionClosed();
        entry.ResponseFlags |= flags;
        entry.Duration = Stopwatch.GetElapsedTime(started);

        // The access log of now, not of when the connection arrived: a relay can outlive the snapshot it started
        // with by far, and a replaced access log is closed once the swap has drained.
        listener.Snapshot.AccessLog.Write(in entry);
    }

    private sealed record CertificateUriSan(X509Certificate Certificate, string? UriSan);
}

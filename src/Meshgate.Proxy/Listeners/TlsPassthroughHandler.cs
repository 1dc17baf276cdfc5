using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Meshgate.Proxy.Observability;
using Microsoft.AspNetCore.Connections;

namespace Meshgate.Proxy.Listeners;

/// <summary>
/// A connection on a TLS listener: peek the ClientHello, choose the filter chain by SNI, connect to an
/// endpoint of its cluster, and relay the encrypted bytes both ways. Nothing is decrypted. One access-log
/// line per connection, <c>"- - -" 0</c> with the SNI, as Envoy's tcp_proxy writes it, and Istio's TCP metrics
/// (bytes counted as they are relayed). A connection is routed with its listener's snapshot of the moment it
/// arrived; once relaying, it no longer depends on configuration, so swaps leave it alone.
/// </summary>
internal sealed class TlsPassthroughHandler(ProxyMetrics metrics, TimeProvider time)
{
    /// <summary>How long a client may take to send its ClientHello.</summary>
    public static readonly TimeSpan HelloTimeout = TimeSpan.FromSeconds(10);

    private static readonly TcpKey Unrouted = new(SourceLabels.Unknown, SourceLabels.Unknown);

    public async Task HandleAsync(ConnectionContext connection, ListenerContext listener)
    {
        var started = Stopwatch.GetTimestamp();
        var entry = new AccessLogEntry
        {
            StartTime = time.GetUtcNow(),
            DownstreamLocalAddress = connection.LocalEndPoint as IPEndPoint,
            DownstreamRemoteAddress = connection.RemoteEndPoint as IPEndPoint,
        };
        try
        {
            await RelayAsync(connection, listener, started, entry).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The client went away; the relay already logged what it could.
        }
    }

    private async Task RelayAsync(ConnectionContext connection, ListenerContext listenerContext, long started, AccessLogEntry entry)
    {
        var snapshot = listenerContext.Snapshot;
        var listener = snapshot.Listener(listenerContext.Name);
        var tcp = metrics.Tcp(Unrouted);
        var input = connection.Transport.Input;
        ClientHello hello;
        using (var helloTimeout = CancellationTokenSource.CreateLinkedTokenSource(connection.ConnectionClosed))
        {
            helloTimeout.CancelAfter(HelloTimeout);
            while (true)
            {
                var read = await input.ReadAsync(helloTimeout.Token).ConfigureAwait(false);
                var status = ClientHelloReader.TryRead(read.Buffer, out hello);
                if (status == ClientHelloStatus.Complete)
                {
                    input.AdvanceTo(read.Buffer.Start); // peeked, not consumed: the upstream gets these bytes
                    break;
                }

                if (status == ClientHelloStatus.Invalid || read.IsCompleted)
                {
                    input.AdvanceTo(read.Buffer.End);
                    entry.ConnectionTerminationDetails = status == ClientHelloStatus.Invalid ? "not_a_tls_client_hello" : "downstream_closed_before_client_hello";
                    tcp.ConnectionOpened();
                    Finish(listenerContext, tcp, ref entry, started, ResponseFlags.NoRouteFound);
                    connection.Abort();
                    return;
                }

                input.AdvanceTo(read.Buffer.Start, read.Buffer.End);
            }
        }

        entry.RequestedServerName = hello.ServerName;
        var chain = listener?.Sni?.Match((hello.ServerName ?? "").AsSpan());
        var cluster = snapshot.Cluster(chain?.Cluster);
        if (cluster is null)
        {
            entry.ResponseCodeDetails = chain is null ? "filter_chain_not_found" : "cluster_not_found";
            tcp = chain?.Cluster is { } missing ? metrics.Tcp(new TcpKey(SourceLabels.Unknown, missing)) : tcp;
            tcp.ConnectionOpened();
            Finish(listenerContext, tcp, ref entry, started, chain is null ? ResponseFlags.NoRouteFound : ResponseFlags.NoClusterFound);
            connection.Abort();
            return;
        }

        entry.UpstreamCluster = cluster.Name;
        tcp = metrics.Tcp(new TcpKey(cluster.ServiceHost, cluster.Name));
        tcp.ConnectionOpened();
        IPEndPoint? endpoint;
        try
        {
            endpoint = await cluster.PickAsync(connection.ConnectionClosed).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // The client left while the cluster's name was being resolved.
            Finish(listenerContext, tcp, ref entry, started, ResponseFlags.DownstreamConnectionTermination);
            return;
        }

        if (endpoint is null)
        {
            Finish(listenerContext, tcp, ref entry, started, ResponseFlags.NoHealthyUpstream);
            connection.Abort();
            return;
        }

        entry.UpstreamHost = endpoint;
        using var upstream = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            using var connectTimeout = CancellationTokenSource.CreateLinkedTokenSource(connection.ConnectionClosed);
            connectTimeout.CancelAfter(cluster.Cluster.ConnectTimeout ?? Core.ProxyConfiguration.Cluster.DefaultConnectTimeout);
            await upstream.ConnectAsync(endpoint, connectTimeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            entry.UpstreamTransportFailureReason = e is SocketException s ? s.SocketErrorCode.ToString() : "connect_timeout";
            Finish(listenerContext, tcp, ref entry, started, ResponseFlags.UpstreamConnectionFailure);
            connection.Abort();
            return;
        }

        entry.UpstreamLocalAddress = upstream.LocalEndPoint as IPEndPoint;
        var result = await TcpRelay.RunAsync(connection.Transport, upstream, tcp, connection.ConnectionClosed).ConfigureAwait(false);
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

        Finish(listenerContext, tcp, ref entry, started, flags);
        if (result.DownstreamReset || result.UpstreamReset)
        {
            connection.Abort();
        }
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
}

using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Meshgate.Proxy.Observability;
using Microsoft.AspNetCore.Connections;

namespace Meshgate.Proxy.Listeners;

/// <summary>
/// A connection on a TLS listener: peek the ClientHello, choose the filter chain by SNI, connect to an
/// endpoint of its cluster, and relay the encrypted bytes both ways. Nothing is decrypted. One access-log
/// line per connection, <c>"- - -" 0</c> with the SNI, as Envoy's tcp_proxy writes it.
/// </summary>
internal sealed class TlsPassthroughHandler(SnapshotHolder snapshots, AccessLogSink log, TimeProvider time)
{
    /// <summary>How long a client may take to send its ClientHello.</summary>
    public static readonly TimeSpan HelloTimeout = TimeSpan.FromSeconds(10);

    public async Task HandleAsync(ConnectionContext connection, string listenerName)
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
            await RelayAsync(connection, listenerName, started, entry).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The client went away; the relay already logged what it could.
        }
    }

    private async Task RelayAsync(ConnectionContext connection, string listenerName, long started, AccessLogEntry entry)
    {
        var snapshot = snapshots.Current;
        var listener = snapshot.Listener(listenerName);
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
                    Finish(ref entry, started, ResponseFlags.NoRouteFound);
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
            Finish(ref entry, started, chain is null ? ResponseFlags.NoRouteFound : ResponseFlags.NoClusterFound);
            connection.Abort();
            return;
        }

        entry.UpstreamCluster = cluster.Name;
        var endpoint = await cluster.PickAsync(connection.ConnectionClosed).ConfigureAwait(false);
        if (endpoint is null)
        {
            Finish(ref entry, started, ResponseFlags.NoHealthyUpstream);
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
            Finish(ref entry, started, ResponseFlags.UpstreamConnectionFailure);
            connection.Abort();
            return;
        }

        entry.UpstreamLocalAddress = upstream.LocalEndPoint as IPEndPoint;
        var result = await TcpRelay.RunAsync(connection.Transport, upstream, connection.ConnectionClosed).ConfigureAwait(false);
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

        Finish(ref entry, started, flags);
        if (result.DownstreamReset || result.UpstreamReset)
        {
            connection.Abort();
        }
    }

    private void Finish(ref AccessLogEntry entry, long started, ResponseFlags flags)
    {
        entry.ResponseFlags |= flags;
        entry.Duration = Stopwatch.GetElapsedTime(started);
        log.Write(in entry);
    }
}

using System.ComponentModel;
using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Security.Authentication;
using Meshgate.Core.Certificates;
using Meshgate.Proxy.Observability;
using Microsoft.AspNetCore.Connections;

namespace Meshgate.Proxy.Listeners;

/// <summary>
/// Unwraps the mesh tunnel on a gateway's listeners (docs/identity.md "Identity on every hop"): a connection whose
/// ClientHello offers ALPN <c>istio</c> is another proxy's mutual TLS; the handshake presents this proxy's workload
/// certificate and requires one from the mesh root; then the connection's transport becomes the decrypted stream and
/// the listener handles it as it would have handled the plaintext (HTTP routed, an application's own TLS passed
/// through by its SNI, never decrypted). A refused handshake is logged as any other (<c>"- - -" 0 DPE</c>).
/// </summary>
internal sealed class MeshTunnelAcceptor(ProxyMetrics metrics, TimeProvider time, TimeSpan helloTimeout)
{
    private static readonly List<SslApplicationProtocol> Tunnel = [new(Core.ProxyConfiguration.UpstreamTls.TunnelProtocol)];

    /// <summary>
    /// The HTTP listeners' connection middleware: a connection that starts with a mesh tunnel's ClientHello is unwrapped
    /// before Kestrel (and h2c detection) see it; anything else goes on untouched (only peeked).
    /// </summary>
    public Func<ConnectionDelegate, ConnectionDelegate> Middleware(ListenerContext listener) => next => async connection =>
    {
        var snapshot = listener.Snapshot;
        if (snapshot.MeshTunnelTls is { } tls && await StartsWithTunnelAsync(connection, helloTimeout).ConfigureAwait(false))
        {
            await RunAsync(connection, listener, tls, _ => next(connection)).ConfigureAwait(false);
            return;
        }

        await next(connection).ConfigureAwait(false);
    };

    /// <summary>
    /// Completes the tunnel's handshake over <paramref name="connection"/> (its ClientHello only peeked), runs
    /// <paramref name="inside"/> with the decrypted stream as the connection's transport and <see cref="MeshTunnel"/> set,
    /// then restores the transport and closes the tunnel. A refused handshake is logged and the connection aborted.
    /// </summary>
    public async Task RunAsync(ConnectionContext connection, ListenerContext listener, DownstreamTlsContext tls, Func<MeshTunnel, Task> inside)
    {
        var started = Stopwatch.GetTimestamp();
        if (tls.Unusable is { } unusable)
        {
            Refuse(connection, listener, started, unusable);
            return;
        }

        var failure = new Upstream.TlsFailure();
        var original = connection.Transport;
        var ssl = new SslStream(new PipeStream(original), leaveInnerStreamOpen: false);
        await using (ssl.ConfigureAwait(false))
        {
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(connection.ConnectionClosed);
                timeout.CancelAfter(TlsPassthroughHandler.HandshakeTimeout);
                await ssl.AuthenticateAsServerAsync(tls.Options(Tunnel, failure), timeout.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is AuthenticationException or IOException or OperationCanceledException or Win32Exception or ObjectDisposedException)
            {
                Refuse(connection, listener, started, failure.Reason ?? TlsPassthroughHandler.HandshakeError(e));
                return;
            }

            var tunnel = new MeshTunnel(UriSubjectAltNames.Join(ssl.RemoteCertificate), UriSubjectAltNames.Join(ssl.LocalCertificate));
            var decrypted = new StreamDuplexPipe(ssl);
            connection.Transport = decrypted;
            connection.Features.Set(tunnel);
            try
            {
                await inside(tunnel).ConfigureAwait(false);
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
                // The peer is gone already.
            }
        }
    }

    /// <summary>
    /// How long a TCP listener waits for a client's first bytes before taking the connection as plaintext: a protocol
    /// whose server speaks first (SMTP, MySQL) sends nothing, and is relayed after this wait (Envoy's listener filter
    /// timeout, as Istio's protocol detection once was). Tunnelled clients send their ClientHello at once.
    /// </summary>
    public static readonly TimeSpan ServerFirstWait = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Peeks (never consumes) until the first bytes are a complete ClientHello offering the tunnel, or are not; nothing
    /// within <paramref name="wait"/> counts as not.
    /// </summary>
    public static async Task<bool> StartsWithTunnelAsync(ConnectionContext connection, TimeSpan wait)
    {
        var input = connection.Transport.Input;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(connection.ConnectionClosed);
        timeout.CancelAfter(wait);
        while (true)
        {
            System.IO.Pipelines.ReadResult read;
            try
            {
                read = await input.ReadAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return false; // silent or gone: what follows times out or sees the close as it would have
            }

            var buffer = read.Buffer;
            if (buffer.Length > 0 && buffer.FirstSpan[0] != 22)
            {
                input.AdvanceTo(buffer.Start); // not a TLS handshake record: plaintext (HTTP/1.1 or h2c)
                return false;
            }

            var status = ClientHelloReader.TryRead(buffer, out var hello);
            if (status != ClientHelloStatus.Incomplete || read.IsCompleted || read.IsCanceled)
            {
                input.AdvanceTo(buffer.Start);
                return status == ClientHelloStatus.Complete && hello.MeshTunnel;
            }

            input.AdvanceTo(buffer.Start, buffer.End); // need more bytes to tell
        }
    }

    private void Refuse(ConnectionContext connection, ListenerContext listener, long started, string reason)
    {
        var entry = new AccessLogEntry
        {
            StartTime = time.GetUtcNow(),
            DownstreamLocalAddress = connection.LocalEndPoint as IPEndPoint,
            DownstreamRemoteAddress = connection.RemoteEndPoint as IPEndPoint,
            ConnectionTerminationDetails = reason,
            ResponseFlags = ResponseFlags.DownstreamProtocolError,
            Duration = Stopwatch.GetElapsedTime(started),
        };
        var tcp = metrics.Tcp(new TcpKey(SourceLabels.Unknown, SourceLabels.Unknown));
        tcp.ConnectionOpened();
        tcp.ConnectionClosed();
        listener.Snapshot.AccessLog.Write(in entry);
        connection.Abort();
    }
}

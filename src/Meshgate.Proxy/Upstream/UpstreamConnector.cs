using System.Net;
using System.Net.Security;
using System.Security.Authentication;
using Meshgate.Core.Certificates;

namespace Meshgate.Proxy.Upstream;

/// <summary>
/// Opens a cluster's upstream connections for its HTTP client (<see cref="SocketsHttpHandler.ConnectCallback"/>): a
/// TCP connection with Nagle off (and the capture mark, <see cref="UpstreamSocket"/>), wrapped in <see cref="UpstreamConnection"/> so requests learn their local address,
/// and, when the cluster originates TLS, the handshake with the cluster's <see cref="UpstreamTlsContext"/> (the server
/// certificate's URI SANs kept on the connection for %UPSTREAM_PEER_URI_SAN%). A refused handshake throws <see cref="UpstreamTlsException"/> with Envoy's transport failure reason.
/// </summary>
internal sealed class UpstreamConnector(UpstreamTlsContext? tls, UpstreamHttpProtocol protocol = UpstreamHttpProtocol.Http11, Action<IPEndPoint, UpstreamConnection>? http2Connected = null, PendingConnects? pending = null)
{
    /// <summary>The connect callback: within the cluster's cap on attempts in flight (<see cref="PendingConnects"/>).</summary>
    public async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        if (pending is null)
        {
            return await OpenAsync(context, cancellationToken).ConfigureAwait(false);
        }

        pending.Enter();
        try
        {
            return await OpenAsync(context, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            pending.Exit();
        }
    }

    private async ValueTask<Stream> OpenAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var endpoint = context.DnsEndPoint;
        var address = IPAddress.Parse(endpoint.Host); // the destination prefix always carries an IP (UpstreamTarget)
        var destination = new IPEndPoint(address, endpoint.Port);

        // The HTTP client opens a connection for HTTP/2 when the request it is opened for asks for HTTP/2.
        var http2 = protocol != UpstreamHttpProtocol.Http11 && context.InitialRequestMessage.Version.Major >= 2;
        var socket = UpstreamSocket.CreateFor(destination); // SO_MARK under transparent capture, bound to the workload's IP
        try
        {
            await socket.ConnectAsync(destination, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        var connection = new UpstreamConnection(socket);
        if (tls is null)
        {
            // h2c with prior knowledge, or HTTP/1.1.
            Connected(http2, destination, connection);
            return connection;
        }

        // With TLS the prefix is https://: the client speaks what ALPN chose on the SslStream returned here, HTTP/2 for
        // h2 and HTTP/1.1 otherwise (a cluster that negotiates takes either; one that says HTTP/2 requires h2).
        var alpn = !http2 ? UpstreamTlsContext.Http11Only
            : protocol == UpstreamHttpProtocol.Negotiated ? UpstreamTlsContext.Http2AndHttp11
            : UpstreamTlsContext.Http2Only;
        var ssl = await HandshakeAsync(connection, tls, cancellationToken, alpn).ConfigureAwait(false);
        connection.PeerUriSan = UriSubjectAltNames.Join(ssl.RemoteCertificate); // once per connection, for every request on it
        Connected(http2 && (tls.Tunnel || ssl.NegotiatedApplicationProtocol == SslApplicationProtocol.Http2), destination, connection);
        return ssl;
    }

    private void Connected(bool http2, IPEndPoint destination, UpstreamConnection connection)
    {
        if (http2)
        {
            // Its frames are written by the connection's own loop: requests learn it from the cluster instead.
            connection.NotesRequests = false;
            http2Connected?.Invoke(destination, connection);
        }
    }

    /// <summary>TLS over <paramref name="connection"/>; disposes it when the handshake fails.</summary>
    public static async Task<SslStream> HandshakeAsync(Stream connection, UpstreamTlsContext tls, CancellationToken cancellationToken, List<SslApplicationProtocol>? alpn = null)
    {
        if (tls.Unusable is { } unusable)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw new UpstreamTlsException("TLS_error:|" + unusable + ":TLS_error_end", new InvalidOperationException(unusable));
        }

        var ssl = new SslStream(connection, leaveInnerStreamOpen: false);
        var failure = new TlsFailure();
        try
        {
            await ssl.AuthenticateAsClientAsync(tls.Options(failure, alpn), cancellationToken).ConfigureAwait(false);
            return ssl;
        }
        catch (Exception e) when (e is AuthenticationException or IOException)
        {
            await ssl.DisposeAsync().ConfigureAwait(false);
            throw new UpstreamTlsException(failure.Reason ?? Reason(e), e);
        }
        catch
        {
            await ssl.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private static string Reason(Exception e) =>
        e is AuthenticationException ? "TLS_error:|HANDSHAKE_FAILURE:TLS_error_end" : "TLS_error:|CONNECTION_RESET_DURING_HANDSHAKE:TLS_error_end";
}

/// <summary>An upstream TLS handshake failed; <see cref="Reason"/> is what Envoy prints as the transport failure reason.</summary>
public sealed class UpstreamTlsException(string reason, Exception inner) : IOException(reason, inner)
{
    public string Reason { get; } = reason;
}

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
internal sealed class UpstreamConnector(UpstreamTlsContext? tls)
{
    public async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var endpoint = context.DnsEndPoint;
        var address = IPAddress.Parse(endpoint.Host); // the destination prefix always carries an IP (UpstreamTarget)
        var destination = new IPEndPoint(address, endpoint.Port);
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
            return connection;
        }

        var ssl = await HandshakeAsync(connection, tls, cancellationToken).ConfigureAwait(false);
        connection.PeerUriSan = UriSubjectAltNames.Join(ssl.RemoteCertificate); // once per connection, for every request on it
        return ssl;
    }

    /// <summary>TLS over <paramref name="connection"/>; disposes it when the handshake fails.</summary>
    public static async Task<SslStream> HandshakeAsync(Stream connection, UpstreamTlsContext tls, CancellationToken cancellationToken)
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
            await ssl.AuthenticateAsClientAsync(tls.Options(failure), cancellationToken).ConfigureAwait(false);
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

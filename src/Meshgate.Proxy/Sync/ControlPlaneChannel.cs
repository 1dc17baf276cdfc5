using System.Net.Security;
using Grpc.Net.Client;

namespace Meshgate.Proxy.Sync;

/// <summary>
/// The gRPC channel to the control plane: TLS (<c>https://</c>, Istio's 15012) with the server's certificate checked
/// against the mesh root bundle only, never the system's roots; plaintext (<c>http://</c>) only when the proxy was
/// told so explicitly. One channel carries both the discovery stream and the certificate requests.
/// </summary>
public static class ControlPlaneChannel
{
    /// <param name="rootBundle">PEM certificates the control plane's chain must end in; required for <c>https</c>.</param>
    public static GrpcChannel Create(Uri address, string? rootBundle) =>
        Create(address, string.IsNullOrWhiteSpace(rootBundle) ? null : new Identity.MeshTrust(rootBundle));

    /// <param name="trust">The roots the control plane's chain must end in, read at each handshake (they change with the mesh root); required for <c>https</c>.</param>
    public static GrpcChannel Create(Uri address, Identity.MeshTrust? trust)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectTimeout = TimeSpan.FromSeconds(5),
            // Notice a control plane that vanished without closing the connection.
            KeepAlivePingDelay = TimeSpan.FromSeconds(10),
            KeepAlivePingTimeout = TimeSpan.FromSeconds(5),
            KeepAlivePingPolicy = HttpKeepAlivePingPolicy.Always,
        };
        if (Upstream.UpstreamSocket.Mark != 0)
        {
            // Under transparent capture the control plane connection carries the proxy's mark too, or the capture
            // rules would send it back to the proxy (Istio exempts the proxy's uid instead).
            handler.ConnectCallback = ConnectMarkedAsync;
        }

        if (address.Scheme == Uri.UriSchemeHttps)
        {
            if (trust is null)
            {
                throw new ArgumentException("TLS to the control plane needs the mesh root bundle to check it against", nameof(trust));
            }

            handler.SslOptions = new SslClientAuthenticationOptions
            {
                // The name (DNS or IP SAN) is checked by the platform, the chain against the mesh roots only.
                RemoteCertificateValidationCallback = (_, certificate, chain, errors) => trust.Validate(certificate, chain, errors),
            };
        }

        return GrpcChannel.ForAddress(address, new GrpcChannelOptions
        {
            HttpHandler = handler,
            MaxReceiveMessageSize = 64 * 1024 * 1024,
        });
    }

    private static async ValueTask<Stream> ConnectMarkedAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var addresses = await System.Net.Dns.GetHostAddressesAsync(context.DnsEndPoint.Host, cancellationToken).ConfigureAwait(false);
        Exception? last = null;
        foreach (var address in addresses)
        {
            var socket = Upstream.UpstreamSocket.Create(address.AddressFamily);
            try
            {
                await socket.ConnectAsync(new System.Net.IPEndPoint(address, context.DnsEndPoint.Port), cancellationToken).ConfigureAwait(false);
                return new System.Net.Sockets.NetworkStream(socket, ownsSocket: true);
            }
            catch (System.Net.Sockets.SocketException e)
            {
                socket.Dispose();
                last = e;
            }
        }

        throw last ?? new System.Net.Sockets.SocketException((int)System.Net.Sockets.SocketError.HostNotFound);
    }
}

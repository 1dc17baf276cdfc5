using System.Net;

namespace Meshgate.Proxy.Upstream;

/// <summary>
/// One resolved endpoint of a cluster with the destination prefix YARP forwards to (<c>http://10.0.0.1:80</c>), built
/// once per address rather than per request.
/// </summary>
public sealed class UpstreamTarget
{
    /// <param name="tls">The cluster originates TLS: the prefix is <c>https://</c>.</param>
    public UpstreamTarget(IPEndPoint endPoint, bool tls = false)
    {
        EndPoint = endPoint;
        Prefix = (tls ? "https://" : "http://") + endPoint; // IPv6 prints as [addr]:port, as a URI wants it
    }

    public IPEndPoint EndPoint { get; }

    /// <summary>
    /// <c>http://</c>, or <c>https://</c> when the cluster originates TLS. The TLS itself is always made by the cluster's
    /// own connect callback (<see cref="UpstreamConnector"/>), which returns the established <c>SslStream</c>: the HTTP
    /// client uses it as it is, sends <c>:scheme https</c> over HTTP/2, and speaks HTTP/2 or HTTP/1.1 as its ALPN chose.
    /// </summary>
    public string Prefix { get; }

    public override string ToString() => EndPoint.ToString();
}

using System.Net;

namespace Meshgate.Proxy.Upstream;

/// <summary>
/// One resolved endpoint of a cluster with the destination prefix YARP forwards to (<c>http://10.0.0.1:80</c>), built
/// once per address rather than per request.
/// </summary>
public sealed class UpstreamTarget
{
    /// <param name="tls">The cluster originates TLS: the prefix is <c>https://</c>.</param>
    /// <param name="declared">
    /// The operator wrote this address (an EDS or STATIC endpoint, an IP endpoint of a DNS cluster): the egress guard
    /// lets it through. Otherwise (a resolved name, an original destination) it is classified here, once.
    /// </param>
    public UpstreamTarget(IPEndPoint endPoint, bool tls = false, bool declared = false)
    {
        EndPoint = endPoint;
        Prefix = (tls ? "https://" : "http://") + endPoint; // IPv6 prints as [addr]:port, as a URI wants it
        Class = declared ? AddressClass.Declared : EgressGuard.Classify(endPoint.Address);
    }

    public IPEndPoint EndPoint { get; }

    /// <summary>What the egress guard makes of the address (<see cref="EgressPolicy.Allows(UpstreamTarget)"/>).</summary>
    public AddressClass Class { get; }

    /// <summary>
    /// <c>http://</c>, or <c>https://</c> when the cluster originates TLS. The TLS itself is always made by the cluster's
    /// own connect callback (<see cref="UpstreamConnector"/>), which returns the established <c>SslStream</c>: the HTTP
    /// client uses it as it is, sends <c>:scheme https</c> over HTTP/2, and speaks HTTP/2 or HTTP/1.1 as its ALPN chose.
    /// </summary>
    public string Prefix { get; }

    /// <summary>The cluster's HTTP/1.1 connections to this endpoint, found once (the target lives as long as its cluster state).</summary>
    internal Http1ConnectionPool? Http1Pool { get; set; }

    public override string ToString() => EndPoint.ToString();
}

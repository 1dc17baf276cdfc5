using System.Net;

namespace Meshgate.Proxy.Upstream;

/// <summary>
/// One resolved endpoint of a cluster with the destination prefix YARP forwards to (<c>http://10.0.0.1:80</c>), built
/// once per address rather than per request.
/// </summary>
public sealed class UpstreamTarget
{
    public UpstreamTarget(IPEndPoint endPoint)
    {
        EndPoint = endPoint;
        Prefix = "http://" + endPoint; // IPv6 prints as [addr]:port, as a URI wants it
    }

    public IPEndPoint EndPoint { get; }

    /// <summary>
    /// Always <c>http://</c>: TLS towards the upstream, when the cluster originates it, is made by the cluster's own
    /// connect callback (<see cref="UpstreamConnector"/>), so the HTTP client sees a plaintext connection.
    /// </summary>
    public string Prefix { get; }

    public override string ToString() => EndPoint.ToString();
}

using System.Net;
using Meshgate.Core.ProxyConfiguration;
using Meshgate.Proxy.Capture;

namespace Meshgate.Proxy.Upstream;

/// <summary>
/// The long-lived state of one cluster: its HTTP client (one reused invoker, as YARP direct forwarding
/// wants) and its round-robin position. Survives a snapshot swap when the cluster's config is equal.
/// </summary>
public sealed class ClusterState : IDisposable
{
    private readonly EndpointResolver _resolver;
    private int _next = -1;

    public ClusterState(Cluster cluster, EndpointResolver resolver)
    {
        Cluster = cluster;
        ServiceHost = ClusterName.TryParse(cluster.Name, out var name) && name.Host.Length > 0 ? name.Host : cluster.Name;
        _resolver = resolver;
        var handler = new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
            ConnectTimeout = cluster.ConnectTimeout ?? Cluster.DefaultConnectTimeout,
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(60),
            EnableMultipleHttp2Connections = true,
            ActivityHeadersPropagator = null,
        };
        if (UpstreamSocket.Mark != 0)
        {
            handler.ConnectCallback = UpstreamSocket.ConnectAsync;
        }

        Invoker = new HttpMessageInvoker(handler);
    }

    public Cluster Cluster { get; }

    /// <summary>
    /// The service this cluster reaches, for metrics' <c>destination_service</c>: the host of an Istio cluster name
    /// (<c>outbound|80||edition.cnn.com</c> → <c>edition.cnn.com</c>), else the name itself (<c>BlackHoleCluster</c>).
    /// </summary>
    public string ServiceHost { get; }

    public HttpMessageInvoker Invoker { get; }

    public string Name => Cluster.Name;

    /// <summary>
    /// The next endpoint in round-robin order, resolved; null when the cluster has none that resolve.
    /// STRICT_DNS takes every address a name resolves to as an endpoint of its own; the other kinds use
    /// the first (LOGICAL_DNS: "the first address of the latest answer").
    /// </summary>
    public ValueTask<IPEndPoint?> PickAsync(CancellationToken cancellationToken) => PickAsync(null, cancellationToken);

    /// <summary>
    /// As <see cref="PickAsync(CancellationToken)"/>; an ORIGINAL_DST cluster (PassthroughCluster) goes to
    /// <paramref name="destination"/> instead, its host resolved like an endpoint's (null without one: Envoy's
    /// ORIGINAL_DST has no host to pick then). EDS endpoints are IP addresses, used as STATIC ones.
    /// </summary>
    public async ValueTask<IPEndPoint?> PickAsync(OriginalDestination? destination, CancellationToken cancellationToken)
    {
        if (Cluster.Discovery == ClusterDiscovery.OriginalDestination)
        {
            if (destination is not { } target)
            {
                return null;
            }

            if (target.Address is { } ip)
            {
                return new IPEndPoint(ip, target.Port);
            }

            var resolved = await _resolver.ResolveAsync(target.Host, cancellationToken).ConfigureAwait(false);
            return resolved.Length > 0 ? new IPEndPoint(resolved[0], target.Port) : null;
        }

        var endpoints = Cluster.Endpoints;
        if (endpoints.Count == 0)
        {
            return null;
        }

        for (var attempt = 0; attempt < endpoints.Count; attempt++)
        {
            var turn = (uint)Interlocked.Increment(ref _next);
            var endpoint = endpoints[(int)(turn % (uint)endpoints.Count)];
            var addresses = await _resolver.ResolveAsync(endpoint.Address, cancellationToken).ConfigureAwait(false);
            if (addresses.Length > 0)
            {
                var index = Cluster.Discovery == ClusterDiscovery.StrictDns ? (int)(turn / (uint)endpoints.Count % (uint)addresses.Length) : 0;
                return new IPEndPoint(addresses[index], endpoint.Port);
            }
        }

        return null;
    }

    /// <summary>The addresses <paramref name="endpoint"/> resolves to now (for <c>/clusters</c>).</summary>
    public ValueTask<IPAddress[]> ResolveAsync(Endpoint endpoint, CancellationToken cancellationToken) =>
        _resolver.ResolveAsync(endpoint.Address, cancellationToken);

    public void Dispose() => Invoker.Dispose();
}

using System.Net;
using Meshgate.Proxy.Capture;
using Meshgate.Proxy.Observability;
using Meshgate.Proxy.Upstream;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Meshgate.Proxy.Forwarding;

/// <summary>
/// A proxied request: its <see cref="HttpContext"/> and what routing and forwarding learn for the access log and
/// metrics, kept in fields so a request needs no <c>Items</c> dictionary. Pooled with Kestrel's connection
/// (HTTP/1.1) or stream (HTTP/2), as ASP.NET's own hosting pools its contexts
/// (<see cref="Listeners.PooledHttpApplication"/>), together with its body counters and transformer.
/// </summary>
internal sealed class ProxyRequest
{
    public ProxyRequest(IFeatureCollection features)
    {
        Http = new DefaultHttpContext(features);
        Transformer = new ForwardingTransformer(Bodies.RequestBody, Addresses);
    }

    /// <summary>The connection's addresses, made once for the requests of a kept-alive connection.</summary>
    public ConnectionAddresses Addresses { get; } = new();

    public DefaultHttpContext Http { get; }

    /// <summary>Body byte counters, reused by every request on this context.</summary>
    public BodyCounters Bodies { get; } = new();

    /// <summary>Header handling and upstream timing, reused by every request on this context.</summary>
    public ForwardingTransformer Transformer { get; }

    public string? RouteName { get; set; }

    /// <summary>The authority the route sent upstream instead of the client's (the access log's %REQ(:AUTHORITY)%).</summary>
    public string? AuthorityRewrite { get; set; }

    /// <summary>The cluster the route chose, even when the snapshot has no such cluster (NC).</summary>
    public string? ClusterName { get; set; }

    public ClusterState? Cluster { get; set; }

    /// <summary>The endpoint dialled (%UPSTREAM_HOST%).</summary>
    public IPEndPoint? Upstream { get; set; }

    public ResponseFlags Flags { get; set; }

    public string? Details { get; set; }

    public string? TransportFailure { get; set; }

    /// <summary>The local address of the upstream connection the request went out on (%UPSTREAM_LOCAL_ADDRESS%).</summary>
    public UpstreamLocalAddress UpstreamLocal { get; } = new();

    /// <summary>Attempts made upstream (retries included).</summary>
    public int Attempts { get; set; }

    // The endpoints tried so far (the first few; enough for Istio's default of 2 retries and some more).
    private readonly UpstreamTarget?[] _tried = new UpstreamTarget?[4];
    private int _triedCount;

    /// <summary>Remembers that this request tried <paramref name="target"/>.</summary>
    public void Try(UpstreamTarget target)
    {
        if (_triedCount < _tried.Length)
        {
            _tried[_triedCount++] = target;
        }
    }

    /// <summary>True when this request already tried <paramref name="target"/>.</summary>
    public bool Tried(UpstreamTarget target)
    {
        for (var i = 0; i < _triedCount; i++)
        {
            if (_tried[i]!.EndPoint.Equals(target.EndPoint))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The route's whole-request timeout; reused across requests while it has not fired.</summary>
    public CancellationTokenSource Deadline()
    {
        if (_deadline is null || !_deadline.TryReset())
        {
            _deadline?.Dispose();
            _deadline = new CancellationTokenSource();
        }

        return _deadline;
    }

    private CancellationTokenSource? _deadline;

    /// <summary>Where a captured request was going (PassthroughCluster dials it); null on ordinary listeners.</summary>
    public OriginalDestination? Destination { get; set; }

    /// <summary>Binds the pooled object to the next request on its connection or stream.</summary>
    public void Reuse(IFeatureCollection features)
    {
        Http.Initialize(features);
        Transformer.Reset();
        RouteName = null;
        AuthorityRewrite = null;
        ClusterName = null;
        Cluster = null;
        Upstream = null;
        Flags = ResponseFlags.None;
        Details = null;
        TransportFailure = null;
        UpstreamLocal.Clear();
        Attempts = 0;
        Array.Clear(_tried);
        _triedCount = 0;
        Destination = null;
    }
}

namespace Meshgate.Proxy.Observability;

/// <summary>
/// What one <see cref="RequestMetrics"/> aggregates: the labels of <c>istio_requests_total</c> that vary per request.
/// Every value comes from configuration or a bounded set (status codes, flags), never from what a client sent,
/// so a client cannot create series at will.
/// </summary>
/// <param name="DestinationService">The upstream cluster's service host (<see cref="Upstream.ClusterState.ServiceHost"/>), or <c>unknown</c>.</param>
/// <param name="UpstreamCluster">The cluster the route chose, or <c>unknown</c> when no route matched.</param>
public readonly record struct RequestKey(string DestinationService, string UpstreamCluster, int ResponseCode, ResponseFlags ResponseFlags);

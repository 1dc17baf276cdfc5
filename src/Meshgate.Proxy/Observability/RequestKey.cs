namespace Meshgate.Proxy.Observability;

/// <summary>
/// What one <see cref="RequestMetrics"/> aggregates: the labels of <c>istio_requests_total</c> that vary per request.
/// Every value comes from configuration, a bounded set (status codes, flags), or a certificate the proxy verified
/// against its CA (the peer's identity), never from what a client merely sent, so a client cannot create series at will.
/// </summary>
/// <param name="DestinationService">The upstream cluster's service host (<see cref="Upstream.ClusterState.ServiceHost"/>), or <c>unknown</c>.</param>
/// <param name="UpstreamCluster">The cluster the route chose, or <c>unknown</c> when no route matched.</param>
/// <param name="SourcePrincipal">
/// Istio's <c>source_principal</c>: the client certificate's URI SANs (%DOWNSTREAM_PEER_URI_SAN%) when the proxy
/// terminated mutual TLS, else <c>unknown</c>. The connection's string, computed once per connection: a key costs no allocation.
/// </param>
public readonly record struct RequestKey(
    string DestinationService,
    string UpstreamCluster,
    int ResponseCode,
    ResponseFlags ResponseFlags,
    string SourcePrincipal = SourceLabels.Unknown);

namespace Meshgate.Proxy.Observability;

/// <summary>What one <see cref="TcpMetrics"/> aggregates: the labels of Istio's TCP metrics that vary per connection.</summary>
/// <param name="DestinationService">The cluster's service host (the SNI's chain chose the cluster), or <c>unknown</c>.</param>
/// <param name="UpstreamCluster">The cluster, or <c>unknown</c> when no filter chain matched.</param>
public readonly record struct TcpKey(string DestinationService, string UpstreamCluster);

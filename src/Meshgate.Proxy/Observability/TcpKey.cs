namespace Meshgate.Proxy.Observability;

/// <summary>What one <see cref="TcpMetrics"/> aggregates: the labels of Istio's TCP metrics that vary per connection.</summary>
/// <param name="DestinationService">The cluster's service host (the SNI's chain chose the cluster), or <c>unknown</c>.</param>
/// <param name="UpstreamCluster">The cluster, or <c>unknown</c> when no filter chain matched.</param>
/// <param name="SourcePrincipal">
/// Istio's <c>source_principal</c>: the client certificate's URI SANs when the proxy terminated mutual TLS on the
/// connection's chain, else <c>unknown</c> (passthrough relays see no certificate).
/// </param>
public readonly record struct TcpKey(string DestinationService, string UpstreamCluster, string SourcePrincipal = SourceLabels.Unknown);

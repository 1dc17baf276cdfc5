using System.Collections.Concurrent;

namespace Meshgate.Proxy.Observability;

/// <summary>
/// The proxy's metrics with Istio's names: one counter object per label set, created on first use and then found
/// with one dictionary lookup per request or connection; every update after that is an <see cref="Interlocked"/>
/// operation. Long-lived: it survives configuration swaps, as Envoy's stats do. <see cref="MetricsExposition"/>
/// prints it for <c>/stats</c> and <c>/stats/prometheus</c>.
/// </summary>
public sealed class ProxyMetrics
{
    private readonly ConcurrentDictionary<RequestKey, RequestMetrics> _requests = new();
    private readonly ConcurrentDictionary<TcpKey, TcpMetrics> _tcp = new();
    private long _updatesApplied;
    private long _updatesRejected;

    /// <summary>The counters for <paramref name="key"/>; look them up once per request.</summary>
    public RequestMetrics Request(in RequestKey key) =>
        _requests.TryGetValue(key, out var metrics) ? metrics : _requests.GetOrAdd(key, static k => new RequestMetrics(k));

    /// <summary>The counters for <paramref name="key"/>; look them up once per connection.</summary>
    public TcpMetrics Tcp(in TcpKey key) =>
        _tcp.TryGetValue(key, out var metrics) ? metrics : _tcp.GetOrAdd(key, static k => new TcpMetrics(k));

    /// <summary>Configuration updates applied (Envoy's <c>lds.update_success</c>).</summary>
    public long UpdatesApplied => Interlocked.Read(ref _updatesApplied);

    /// <summary>Configuration updates rejected, the last good one kept (Envoy's <c>lds.update_rejected</c>).</summary>
    public long UpdatesRejected => Interlocked.Read(ref _updatesRejected);

    public void UpdateApplied() => Interlocked.Increment(ref _updatesApplied);

    public void UpdateRejected() => Interlocked.Increment(ref _updatesRejected);

    /// <summary>Every request counter, in a stable order (for printing).</summary>
    public IReadOnlyList<RequestMetrics> Requests() =>
        [.. _requests.Values.OrderBy(m => m.Key.DestinationService, StringComparer.Ordinal)
            .ThenBy(m => m.Key.UpstreamCluster, StringComparer.Ordinal)
            .ThenBy(m => m.Key.ResponseCode)
            .ThenBy(m => (uint)m.Key.ResponseFlags)
            .ThenBy(m => m.Key.SourcePrincipal, StringComparer.Ordinal)];

    /// <summary>Every TCP counter, in a stable order (for printing).</summary>
    public IReadOnlyList<TcpMetrics> Connections() =>
        [.. _tcp.Values.OrderBy(m => m.Key.DestinationService, StringComparer.Ordinal)
            .ThenBy(m => m.Key.UpstreamCluster, StringComparer.Ordinal)
            .ThenBy(m => m.Key.SourcePrincipal, StringComparer.Ordinal)];
}

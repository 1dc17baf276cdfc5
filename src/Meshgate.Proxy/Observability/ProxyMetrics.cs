using System.Collections.Concurrent;
using Meshgate.Proxy.Upstream;

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
    private readonly long[] _egressBlocked = new long[EgressGuard.ClassCount];
    private readonly long[] _frontingRefused = new long[2];
    private long _updatesApplied;
    private long _downstreamRefused;
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

    /// <summary>Counts a destination the egress guard refused (<c>meshgate_egress_blocked_total{class}</c>).</summary>
    public void EgressBlocked(AddressClass addressClass) => Interlocked.Increment(ref _egressBlocked[(int)addressClass]);

    /// <summary>Destinations of <paramref name="addressClass"/> refused so far.</summary>
    public long EgressBlockedCount(AddressClass addressClass) => Interlocked.Read(ref _egressBlocked[(int)addressClass]);

    /// <summary>Counts a refused domain fronting attempt (<c>meshgate_domain_fronting_refused_total{check}</c>).</summary>
    public void DomainFrontingRefused(DomainFrontingCheck check) => Interlocked.Increment(ref _frontingRefused[(int)check]);

    /// <summary>Domain fronting attempts refused so far by <paramref name="check"/>.</summary>
    public long DomainFrontingRefusedCount(DomainFrontingCheck check) => Interlocked.Read(ref _frontingRefused[(int)check]);

    /// <summary>Counts a downstream connection closed because its listener was at its connection limit (<c>meshgate_downstream_connections_refused_total</c>).</summary>
    public void DownstreamConnectionRefused() => Interlocked.Increment(ref _downstreamRefused);

    /// <summary>Downstream connections refused at a listener's connection limit so far.</summary>
    public long DownstreamConnectionsRefused => Interlocked.Read(ref _downstreamRefused);

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

/// <summary>Which domain fronting check refused a request or tunnel.</summary>
public enum DomainFrontingCheck
{
    /// <summary>A request's Host is not the SNI of the TLS connection the proxy terminated (421).</summary>
    SniHost,

    /// <summary>A CONNECT tunnel's ClientHello names another host than the CONNECT target (closed).</summary>
    ConnectSni,
}

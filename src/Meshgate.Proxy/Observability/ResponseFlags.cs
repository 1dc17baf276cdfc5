namespace Meshgate.Proxy.Observability;

/// <summary>
/// Envoy's response flags (%RESPONSE_FLAGS%): what the proxy itself did to a request or connection.
/// Bit positions follow Envoy's <c>CoreResponseFlag</c> enum (source/common/stream_info/utility.h),
/// which is also the order the short codes are printed in, joined by ','; no flag prints '-'.
/// The short code of each flag is in its summary. The last two are Meshgate's own, for what Envoy has no flag for.
/// </summary>
[Flags]
public enum ResponseFlags : uint
{
    None = 0,

    /// <summary>LH: local health check failed (503).</summary>
    FailedLocalHealthCheck = 1u << 0,

    /// <summary>UH: no healthy upstream host in the cluster (503).</summary>
    NoHealthyUpstream = 1u << 1,

    /// <summary>UT: upstream request timeout (504).</summary>
    UpstreamRequestTimeout = 1u << 2,

    /// <summary>LR: connection reset locally (503).</summary>
    LocalReset = 1u << 3,

    /// <summary>UR: upstream reset the stream (503).</summary>
    UpstreamRemoteReset = 1u << 4,

    /// <summary>UF: upstream connection failure (503).</summary>
    UpstreamConnectionFailure = 1u << 5,

    /// <summary>UC: upstream connection terminated (503).</summary>
    UpstreamConnectionTermination = 1u << 6,

    /// <summary>UO: upstream overflow, circuit breaking (503).</summary>
    UpstreamOverflow = 1u << 7,

    /// <summary>NR: no route, or no matching filter chain for a connection (404).</summary>
    NoRouteFound = 1u << 8,

    /// <summary>DI: delayed by fault injection.</summary>
    DelayInjected = 1u << 9,

    /// <summary>FI: aborted by fault injection.</summary>
    FaultInjected = 1u << 10,

    /// <summary>RL: rate limited (429).</summary>
    RateLimited = 1u << 11,

    /// <summary>UAEX: denied by the external authorization service.</summary>
    UnauthorizedExternalService = 1u << 12,

    /// <summary>RLSE: the rate limit service failed.</summary>
    RateLimitServiceError = 1u << 13,

    /// <summary>DC: downstream connection terminated.</summary>
    DownstreamConnectionTermination = 1u << 14,

    /// <summary>URX: retry limit (HTTP) or connect attempts (TCP) exhausted.</summary>
    UpstreamRetryLimitExceeded = 1u << 15,

    /// <summary>SI: stream idle timeout (408).</summary>
    StreamIdleTimeout = 1u << 16,

    /// <summary>IH: invalid x-envoy-* request headers (400).</summary>
    InvalidEnvoyRequestHeaders = 1u << 17,

    /// <summary>DPE: downstream protocol error.</summary>
    DownstreamProtocolError = 1u << 18,

    /// <summary>UMSDR: upstream max stream duration reached.</summary>
    UpstreamMaxStreamDurationReached = 1u << 19,

    /// <summary>RFCF: response served from the cache filter.</summary>
    ResponseFromCacheFilter = 1u << 20,

    /// <summary>NFCF: filter configuration not found.</summary>
    NoFilterConfigFound = 1u << 21,

    /// <summary>DT: max connection or request duration reached.</summary>
    DurationTimeout = 1u << 22,

    /// <summary>UPE: upstream protocol error.</summary>
    UpstreamProtocolError = 1u << 23,

    /// <summary>NC: the route's cluster does not exist.</summary>
    NoClusterFound = 1u << 24,

    /// <summary>OM: terminated by the overload manager.</summary>
    OverloadManagerTerminated = 1u << 25,

    /// <summary>DF: DNS resolution of the upstream failed.</summary>
    DnsResolutionFailed = 1u << 26,

    /// <summary>DO: dropped by drop-overload.</summary>
    DropOverload = 1u << 27,

    /// <summary>DR: downstream reset the stream.</summary>
    DownstreamRemoteReset = 1u << 28,

    /// <summary>
    /// SSRF (Meshgate's own, after Envoy's): the egress guard refused the upstream address, a loopback, private,
    /// link-local or other non-public one the operator did not allow (403, or a closed connection; docs/egress-safety.md).
    /// </summary>
    EgressDestinationBlocked = 1u << 29,

    /// <summary>
    /// DFB (Meshgate's own): domain fronting refused, a request whose host is not the TLS server name of its connection
    /// (421), or a CONNECT tunnel whose ClientHello names another host than the CONNECT target (closed).
    /// </summary>
    DomainFrontingBlocked = 1u << 30,
}

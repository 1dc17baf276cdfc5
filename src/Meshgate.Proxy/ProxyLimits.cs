namespace Meshgate.Proxy;

/// <summary>
/// The proxy's downstream limits, the same on every listener (mesh-wide defaults, see docs/egress-safety.md, "Limits
/// and overload"): what keeps a slow or flooding client from holding connections or memory forever. Each default is
/// Envoy's (or its edge-proxy recommendation) where Envoy has one; tests shorten them.
/// </summary>
public sealed record ProxyLimits
{
    /// <summary>The defaults.</summary>
    public static readonly ProxyLimits Default = new();

    /// <summary>
    /// Open downstream connections per listener; one more is closed at once, counted in
    /// <c>meshgate_downstream_connections_refused_total</c> and logged once per burst. Envoy's listener
    /// <c>max_connections</c> is unlimited by default and its edge recommendation is a global 50 000; 10 000 per
    /// listener bounds memory (a connection holds pooled buffers) while staying far above a sidecar's needs.
    /// </summary>
    public int MaxConnectionsPerListener { get; init; } = 10_000;

    /// <summary>
    /// How long a client may take to send a whole HTTP request head (Envoy's <c>request_headers_timeout</c>, 10 s in
    /// its edge recommendation; Kestrel's <c>RequestHeadersTimeout</c>). Also the deadline for an HTTP listener's first
    /// bytes (h2c detection). A slowloris client is cut here.
    /// </summary>
    public TimeSpan RequestHeadersTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long a TLS/TCP listener waits for a complete ClientHello when it routes by SNI, and the capture listener
    /// for a complete CONNECT head (a half-open handshake or a CONNECT that never ends is closed here).
    /// </summary>
    public TimeSpan HandshakeHeadTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long an HTTP/1.1 keep-alive connection may stay idle between requests, and an HTTP/2 connection without
    /// streams (Envoy's HTTP connection manager <c>idle_timeout</c>, 1 h; Kestrel's <c>KeepAliveTimeout</c>).
    /// </summary>
    public TimeSpan DownstreamIdleTimeout { get; init; } = TimeSpan.FromHours(1);

    /// <summary>
    /// How long a relayed TCP connection (TLS passthrough, TCP, CONNECT tunnels, captured connections) may move no byte
    /// either way before both sides are closed (Envoy's tcp_proxy <c>idle_timeout</c>, 1 h).
    /// </summary>
    public TimeSpan TcpIdleTimeout { get; init; } = TimeSpan.FromHours(1);

    /// <summary>
    /// Concurrent HTTP/2 streams per downstream connection. Envoy's default is 2^31-1, its edge recommendation 100,
    /// which is also Kestrel's default and what most clients open: 100.
    /// </summary>
    public int Http2MaxConcurrentStreams { get; init; } = 100;

    /// <summary>Envoy's circuit breaker defaults (<c>max_pending_requests</c>, <c>max_connections</c>): 1024.</summary>
    public const int DefaultMaxPendingConnectsPerCluster = 1024;

    /// <summary>
    /// Upstream connection attempts (TCP connect and TLS handshake) in flight per cluster; one more fails at once: 503
    /// <c>UO</c> (<c>upstream_reset_before_response_started{overflow}</c>) for a request, a closed connection flagged
    /// <c>UO</c> for a TCP relay.
    /// </summary>
    public int MaxPendingConnectsPerCluster { get; init; } = DefaultMaxPendingConnectsPerCluster;
}

using System.Text.Json.Serialization;

namespace Meshgate.Core.ProxyConfiguration;

/// <summary>
/// A bound address and port, and how connections on it are handled: the filter chain whose
/// <see cref="FilterChain.ServerNames"/> match the TLS SNI (exact, then longest <c>*.suffix</c>, then <c>*</c>),
/// else a chain without server names, else <see cref="DefaultFilterChain"/> (Envoy's <c>default_filter_chain</c>).
/// </summary>
public sealed record Listener
{
    public required string Name { get; init; }

    /// <summary>An IP address to bind (<c>0.0.0.0</c> for all); never a host name.</summary>
    public required string Address { get; init; }

    public required int Port { get; init; }

    public required ListenerProtocol Protocol { get; init; }

    public EquatableArray<FilterChain> FilterChains { get; init; }

    /// <summary>For connections no chain matches, a TLS connection without SNI included.</summary>
    public FilterChain? DefaultFilterChain { get; init; }

    /// <summary>
    /// False for a sidecar's virtual listeners (Istio's <c>0.0.0.0_80</c>, <c>0.0.0.0_443</c>, Envoy's
    /// <c>bind_to_port: false</c>): nothing is bound; the capture listener (<see cref="ExplicitHttpProxy"/> or
    /// <see cref="UseOriginalDestination"/>) hands them the connections or requests whose destination is their
    /// address and port (an exact address first, then <c>0.0.0.0</c>). Default true.
    /// </summary>
    public bool BindToPort { get; init; } = true;

    /// <summary>
    /// The sidecar's port 15001 in explicit mode: an HTTP proxy taking absolute-form requests and <c>CONNECT</c>
    /// (RFC 9110 §9.3.6), routed by the target's authority. Only for HTTP listeners.
    /// </summary>
    public bool ExplicitHttpProxy { get; init; }

    /// <summary>
    /// Transparent capture (Envoy's <c>use_original_dst</c>): the connection's original destination, from
    /// <c>SO_ORIGINAL_DST</c>, picks the listener that handles it.
    /// </summary>
    public bool UseOriginalDestination { get; init; }

    /// <summary><c>127.0.0.1:18080</c>, or <c>[::1]:18080</c> for IPv6.</summary>
    [JsonIgnore]
    public string Endpoint => Address.Contains(':') ? $"[{Address}]:{Port}" : $"{Address}:{Port}";
}

/// <summary>What the first bytes of a connection are.</summary>
public enum ListenerProtocol
{
    /// <summary>Plaintext HTTP/1.1 or HTTP/2 (prior knowledge); chains route with a route table.</summary>
    [JsonStringEnumMemberName("HTTP")] Http,

    /// <summary>A TLS ClientHello, peeked for its SNI; each chain passes the bytes through or terminates TLS.</summary>
    [JsonStringEnumMemberName("TLS")] Tls,

    /// <summary>Opaque bytes relayed to a cluster.</summary>
    [JsonStringEnumMemberName("TCP")] Tcp,
}

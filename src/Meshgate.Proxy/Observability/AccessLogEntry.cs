using System.Net;

namespace Meshgate.Proxy.Observability;

/// <summary>
/// One access-log line: an HTTP request, or a TCP/TLS connection. The proxy fills it as the request or
/// connection runs and hands it to <see cref="AccessLogWriter"/>; formatting happens off the hot path.
/// Each property is named after the Envoy command it prints (Istio's default format, pilot/pkg/model/telemetry_logging.go).
/// A null or empty value prints '-' in TEXT and null in JSON.
/// A connection (TCP proxy, TLS passthrough) leaves <see cref="Method"/>, <see cref="Path"/> and
/// <see cref="Protocol"/> unset and <see cref="ResponseCode"/> 0, which prints <c>"- - -" 0</c>.
/// </summary>
public struct AccessLogEntry
{
    /// <summary>%START_TIME%: when the request or connection started; printed in UTC with milliseconds.</summary>
    public DateTimeOffset StartTime { get; set; }

    /// <summary>%REQ(:METHOD)%.</summary>
    public string? Method { get; set; }

    /// <summary>%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%: the path as the client sent it, before any rewrite.</summary>
    public string? Path { get; set; }

    /// <summary>%PROTOCOL%.</summary>
    public AccessLogProtocol Protocol { get; set; }

    /// <summary>%RESPONSE_CODE%: the status sent downstream; 0 when none was (connections, resets before headers).</summary>
    public int ResponseCode { get; set; }

    /// <summary>%RESPONSE_FLAGS%.</summary>
    public ResponseFlags ResponseFlags { get; set; }

    /// <summary>%RESPONSE_CODE_DETAILS%, e.g. <c>via_upstream</c>, <c>route_not_found</c>; whitespace prints as '_'.</summary>
    public string? ResponseCodeDetails { get; set; }

    /// <summary>%CONNECTION_TERMINATION_DETAILS%: why the proxy closed the connection; whitespace prints as '_'.</summary>
    public string? ConnectionTerminationDetails { get; set; }

    /// <summary>%UPSTREAM_TRANSPORT_FAILURE_REASON%, e.g. a TLS handshake error.</summary>
    public string? UpstreamTransportFailureReason { get; set; }

    /// <summary>%BYTES_RECEIVED%: body bytes (HTTP) or payload bytes (connections) from downstream.</summary>
    public long BytesReceived { get; set; }

    /// <summary>%BYTES_SENT%: body bytes (HTTP) or payload bytes (connections) to downstream.</summary>
    public long BytesSent { get; set; }

    /// <summary>%DURATION%: start to last byte out; printed in whole milliseconds.</summary>
    public TimeSpan Duration { get; set; }

    /// <summary>%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%: time spent upstream; null when there was no upstream response.</summary>
    public TimeSpan? UpstreamServiceTime { get; set; }

    /// <summary>%REQ(X-FORWARDED-FOR)%.</summary>
    public string? ForwardedFor { get; set; }

    /// <summary>%REQ(USER-AGENT)%.</summary>
    public string? UserAgent { get; set; }

    /// <summary>%REQ(X-REQUEST-ID)%.</summary>
    public string? RequestId { get; set; }

    /// <summary>%REQ(:AUTHORITY)%.</summary>
    public string? Authority { get; set; }

    /// <summary>%UPSTREAM_HOST%: the address actually dialled.</summary>
    public IPEndPoint? UpstreamHost { get; set; }

    /// <summary>%UPSTREAM_CLUSTER%, e.g. <c>outbound|80||edition.cnn.com</c>.</summary>
    public string? UpstreamCluster { get; set; }

    /// <summary>%UPSTREAM_LOCAL_ADDRESS%: the local end of the upstream connection.</summary>
    public IPEndPoint? UpstreamLocalAddress { get; set; }

    /// <summary>%DOWNSTREAM_LOCAL_ADDRESS%: the listener address, or the original destination when redirected.</summary>
    public IPEndPoint? DownstreamLocalAddress { get; set; }

    /// <summary>%DOWNSTREAM_REMOTE_ADDRESS%: the client.</summary>
    public IPEndPoint? DownstreamRemoteAddress { get; set; }

    /// <summary>%REQUESTED_SERVER_NAME%: the SNI of the downstream TLS connection.</summary>
    public string? RequestedServerName { get; set; }

    /// <summary>%ROUTE_NAME%, e.g. <c>default.forward-cnn-from-egress-gateway.0</c>.</summary>
    public string? RouteName { get; set; }

    /// <summary>
    /// %DOWNSTREAM_PEER_URI_SAN%: the URI SANs of the client certificate the proxy verified when it terminated TLS
    /// (<c>spiffe://cluster.local/ns/default/sa/sleep</c>), joined with ','. Computed once per connection.
    /// </summary>
    public string? DownstreamPeerUriSan { get; set; }

    /// <summary>%DOWNSTREAM_LOCAL_URI_SAN%: the URI SANs of the certificate the proxy presented downstream.</summary>
    public string? DownstreamLocalUriSan { get; set; }

    /// <summary>%UPSTREAM_PEER_URI_SAN%: the URI SANs of the upstream's certificate when the proxy originated TLS.</summary>
    public string? UpstreamPeerUriSan { get; set; }
}

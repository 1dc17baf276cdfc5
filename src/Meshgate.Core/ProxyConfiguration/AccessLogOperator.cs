namespace Meshgate.Core.ProxyConfiguration;

/// <summary>
/// The Envoy command operators an access-log format can use (<see cref="AccessLogFormat"/>): those of Istio's default
/// format, and the peer identities. Each prints one field of the proxy's access-log entry.
/// </summary>
public enum AccessLogOperator : byte
{
    /// <summary>Not an operator: the segment's literal text.</summary>
    Literal = 0,

    /// <summary>%START_TIME%.</summary>
    StartTime,

    /// <summary>%REQ(:METHOD)%.</summary>
    Method,

    /// <summary>%REQ(:PATH)%, %REQ(X-ENVOY-ORIGINAL-PATH)%: the path as the client sent it, before any rewrite.</summary>
    Path,

    /// <summary>%PROTOCOL%.</summary>
    Protocol,

    /// <summary>%RESPONSE_CODE%.</summary>
    ResponseCode,

    /// <summary>%RESPONSE_FLAGS%.</summary>
    ResponseFlags,

    /// <summary>%RESPONSE_CODE_DETAILS%.</summary>
    ResponseCodeDetails,

    /// <summary>%CONNECTION_TERMINATION_DETAILS%.</summary>
    ConnectionTerminationDetails,

    /// <summary>%UPSTREAM_TRANSPORT_FAILURE_REASON%.</summary>
    UpstreamTransportFailureReason,

    /// <summary>%BYTES_RECEIVED%.</summary>
    BytesReceived,

    /// <summary>%BYTES_SENT%.</summary>
    BytesSent,

    /// <summary>%DURATION%.</summary>
    Duration,

    /// <summary>%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%.</summary>
    UpstreamServiceTime,

    /// <summary>%REQ(X-FORWARDED-FOR)%.</summary>
    ForwardedFor,

    /// <summary>%REQ(USER-AGENT)%.</summary>
    UserAgent,

    /// <summary>%REQ(X-REQUEST-ID)%.</summary>
    RequestId,

    /// <summary>%REQ(:AUTHORITY)%, %REQ(HOST)%.</summary>
    Authority,

    /// <summary>%UPSTREAM_HOST%.</summary>
    UpstreamHost,

    /// <summary>%UPSTREAM_CLUSTER%.</summary>
    UpstreamCluster,

    /// <summary>%UPSTREAM_LOCAL_ADDRESS%.</summary>
    UpstreamLocalAddress,

    /// <summary>%DOWNSTREAM_LOCAL_ADDRESS%.</summary>
    DownstreamLocalAddress,

    /// <summary>%DOWNSTREAM_REMOTE_ADDRESS%.</summary>
    DownstreamRemoteAddress,

    /// <summary>%REQUESTED_SERVER_NAME%.</summary>
    RequestedServerName,

    /// <summary>%ROUTE_NAME%.</summary>
    RouteName,

    /// <summary>%DOWNSTREAM_PEER_URI_SAN%: the URI SANs of the client certificate, joined with ','.</summary>
    DownstreamPeerUriSan,

    /// <summary>%DOWNSTREAM_LOCAL_URI_SAN%: the URI SANs of the certificate the proxy presented downstream.</summary>
    DownstreamLocalUriSan,

    /// <summary>%UPSTREAM_PEER_URI_SAN%: the URI SANs of the upstream's certificate when the proxy originated TLS.</summary>
    UpstreamPeerUriSan,
}

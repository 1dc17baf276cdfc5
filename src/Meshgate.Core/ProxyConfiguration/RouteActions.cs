using System.Text.Json.Serialization;

namespace Meshgate.Core.ProxyConfiguration;

/// <summary>Send the request upstream to one of <see cref="Clusters"/>, chosen by weight.</summary>
public sealed record ForwardAction
{
    public EquatableArray<WeightedCluster> Clusters { get; init; }

    /// <summary>The whole request's deadline, retries included; absent means none (Istio's default for HTTP routes).</summary>
    [JsonConverter(typeof(DurationJsonConverter))]
    public TimeSpan? Timeout { get; init; }

    /// <summary>Absent means no retries; the control plane writes <see cref="RetryPolicy.IstioDefault"/> when a VirtualService sets none.</summary>
    public RetryPolicy? Retries { get; init; }

    /// <summary>The Host/authority sent upstream instead of the client's (Istio's <c>rewrite.authority</c>).</summary>
    public string? HostRewrite { get; init; }

    /// <summary>Header changes of the route, applied after those of the chosen <see cref="WeightedCluster"/>.</summary>
    public HeaderRewrite? Headers { get; init; }

    /// <summary>The path sent upstream (Istio's <c>rewrite.uri</c> and <c>uriRegexRewrite</c>).</summary>
    public PathRewrite? PathRewrite { get; init; }

    /// <summary>Shadow copies of the request (Istio's <c>mirror</c>/<c>mirrors</c>); left out of the JSON when empty.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public EquatableArray<MirrorPolicy> Mirrors { get; init; }

    /// <summary>Istio's <c>corsPolicy</c>.</summary>
    public CorsPolicy? Cors { get; init; }
}

/// <summary>
/// A cluster and its relative weight: it gets <c>Weight / sum of weights</c> of the requests. The name
/// <see cref="Cluster.InvalidBackend"/> needs no cluster: its share is answered 500 <c>NC</c> (Envoy's
/// <c>cluster_not_found_response_code: INTERNAL_SERVER_ERROR</c>, what Istio gives a Gateway API backend that is invalid).
/// </summary>
public sealed record WeightedCluster
{
    public required string Name { get; init; }

    public int Weight { get; init; } = 1;

    /// <summary>Header changes for requests sent to this cluster (Istio's destination <c>headers</c>).</summary>
    public HeaderRewrite? Headers { get; init; }
}

/// <summary>
/// When and how often to retry (Envoy's <c>RetryPolicy</c>). Retries are attempts after the first, as Istio counts
/// them; <see cref="RetriableStatusCodes"/> adds response codes to the conditions.
/// </summary>
public sealed record RetryPolicy
{
    public int Attempts { get; init; }

    public EquatableArray<RetryCondition> RetryOn { get; init; }

    public EquatableArray<int> RetriableStatusCodes { get; init; }

    [JsonConverter(typeof(DurationJsonConverter))]
    public TimeSpan? PerTryTimeout { get; init; }

    /// <summary>
    /// What Istio applies when a VirtualService sets no retries: 2 attempts on
    /// <c>connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes</c> with 503
    /// (istio/istio <c>pilot/pkg/networking/core/route/retry</c>).
    /// </summary>
    public static RetryPolicy IstioDefault { get; } = new()
    {
        Attempts = 2,
        RetryOn = [RetryCondition.ConnectFailure, RetryCondition.RefusedStream, RetryCondition.Unavailable, RetryCondition.Cancelled],
        RetriableStatusCodes = [503],
    };
}

/// <summary>Envoy's <c>retry_on</c> conditions (x-envoy-retry-on and x-envoy-retry-grpc-on).</summary>
public enum RetryCondition
{
    /// <summary>The upstream connection could not be made (refused, timed out, reset during connect).</summary>
    [JsonStringEnumMemberName("connect-failure")] ConnectFailure,

    /// <summary>Any 5xx, connect failures and resets included.</summary>
    [JsonStringEnumMemberName("5xx")] ServerError,

    /// <summary>502, 503, 504.</summary>
    [JsonStringEnumMemberName("gateway-error")] GatewayError,

    /// <summary>The upstream reset the stream or closed the connection before responding.</summary>
    [JsonStringEnumMemberName("reset")] Reset,

    /// <summary>HTTP/2 REFUSED_STREAM.</summary>
    [JsonStringEnumMemberName("refused-stream")] RefusedStream,

    /// <summary>409 Conflict.</summary>
    [JsonStringEnumMemberName("retriable-4xx")] Retriable4xx,

    /// <summary>gRPC status CANCELLED.</summary>
    [JsonStringEnumMemberName("cancelled")] Cancelled,

    /// <summary>gRPC status DEADLINE_EXCEEDED.</summary>
    [JsonStringEnumMemberName("deadline-exceeded")] DeadlineExceeded,

    /// <summary>gRPC status RESOURCE_EXHAUSTED.</summary>
    [JsonStringEnumMemberName("resource-exhausted")] ResourceExhausted,

    /// <summary>gRPC status UNAVAILABLE.</summary>
    [JsonStringEnumMemberName("unavailable")] Unavailable,
}

/// <summary>Answer the request from the proxy (Istio's <c>directResponse</c>, Envoy's <c>direct_response</c>).</summary>
public sealed record DirectResponseAction
{
    public required int Status { get; init; }

    public string? Body { get; init; }
}

/// <summary>Answer with a redirect; each field absent keeps the request's own (Istio's <c>redirect</c>).</summary>
public sealed record RedirectAction
{
    /// <summary><c>http</c> or <c>https</c>.</summary>
    public string? Scheme { get; init; }

    public string? Host { get; init; }

    public int? Port { get; init; }

    /// <summary>Replaces the whole path (the query is kept).</summary>
    public string? Path { get; init; }

    /// <summary>301 (default), 302, 303, 307 or 308.</summary>
    public int Status { get; init; } = 301;
}

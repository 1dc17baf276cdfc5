using Meshgate.Core.ProxyConfiguration;
using Meshgate.Proxy.Upstream;
using Microsoft.AspNetCore.Http;
using Yarp.ReverseProxy.Forwarder;

namespace Meshgate.Proxy.Forwarding;

/// <summary>What went wrong with one upstream attempt, in Envoy's terms.</summary>
internal enum UpstreamFailureKind
{
    None,

    /// <summary>The connection (or its TLS handshake) could not be made: UF, <c>connect-failure</c>.</summary>
    ConnectFailure,

    /// <summary>The upstream closed or reset the connection before response headers: UC, <c>reset</c>.</summary>
    Reset,

    /// <summary>
    /// The HTTP/2 upstream refused the stream (RST_STREAM REFUSED_STREAM, RFC 9113 §8.7: not processed, safe to send
    /// again): UR, <c>refused-stream</c> (and <c>reset</c>).
    /// </summary>
    RefusedStream,

    /// <summary>The cluster had too many connection attempts in flight (<see cref="PendingConnects"/>): UO, <c>overflow</c>; never retried.</summary>
    Overflow,

    /// <summary>Anything else (timeouts, the client leaving, failures after the response started): never retried.</summary>
    Other,
}

/// <summary>Reads YARP's error for one attempt: which kind of failure it was, and the TLS failure reason if any.</summary>
internal static class UpstreamFailure
{
    public static UpstreamFailureKind Classify(ForwarderError error, HttpContext context, out string? transportFailure)
    {
        transportFailure = null;
        if (error is not (ForwarderError.Request or ForwarderError.RequestCanceled))
        {
            return error == ForwarderError.None ? UpstreamFailureKind.None : UpstreamFailureKind.Other;
        }

        var connect = false;
        var timeout = false;
        var refused = false;
        for (var e = context.Features.Get<IForwarderErrorFeature>()?.Exception; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case UpstreamTlsException tls:
                    transportFailure = tls.Reason;
                    return UpstreamFailureKind.ConnectFailure;
                case UpstreamOverflowException:
                    return UpstreamFailureKind.Overflow;
                case HttpProtocolException { ErrorCode: RefusedStreamCode }:
                    refused = true;
                    break;
                case HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError or HttpRequestError.SecureConnectionError or HttpRequestError.NameResolutionError }:
                    connect = true;
                    break;
                case TimeoutException:
                    timeout = true; // SocketsHttpHandler's ConnectTimeout
                    break;
            }
        }

        if (error == ForwarderError.RequestCanceled)
        {
            if (!timeout || context.RequestAborted.IsCancellationRequested)
            {
                return UpstreamFailureKind.Other;
            }

            transportFailure = "connect_timeout";
            return UpstreamFailureKind.ConnectFailure;
        }

        if (connect)
        {
            transportFailure = "connection_failure";
            return UpstreamFailureKind.ConnectFailure;
        }

        return refused ? UpstreamFailureKind.RefusedStream : UpstreamFailureKind.Reset;
    }

    /// <summary>HTTP/2's REFUSED_STREAM error code (RFC 9113 §7).</summary>
    private const long RefusedStreamCode = 0x7;

    /// <summary>Envoy's <c>retry_on</c> for a failure before response headers (router's <c>wouldRetryFromReset</c>).</summary>
    public static bool Retriable(RetryPolicy policy, UpstreamFailureKind kind)
    {
        if (kind is not (UpstreamFailureKind.ConnectFailure or UpstreamFailureKind.Reset or UpstreamFailureKind.RefusedStream))
        {
            return false;
        }

        foreach (var condition in policy.RetryOn)
        {
            switch (condition)
            {
                case RetryCondition.ServerError or RetryCondition.GatewayError or RetryCondition.Reset:
                case RetryCondition.ConnectFailure when kind == UpstreamFailureKind.ConnectFailure:
                case RetryCondition.RefusedStream when kind == UpstreamFailureKind.RefusedStream:
                    return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Envoy's <c>retry_on</c> for response headers (router's <c>wouldRetryFromHeaders</c>): the status, and for the
    /// gRPC conditions the <c>grpc-status</c> header of a trailers-only response (Envoy reads it from the headers only:
    /// once headers are passed on, a status in the trailers comes too late to retry).
    /// </summary>
    public static bool Retriable(RetryPolicy policy, HttpResponseMessage response)
    {
        if (Retriable(policy, (int)response.StatusCode))
        {
            return true;
        }

        return HasGrpcCondition(policy)
            && response.Headers.NonValidated.TryGetValues(GrpcStatusHeader, out var values)
            && values.Count == 1
            && RetriableGrpc(policy, values.ToString());
    }

    /// <summary>As <see cref="Retriable(RetryPolicy, HttpResponseMessage)"/>, for the response as it was passed on.</summary>
    public static bool Retriable(RetryPolicy policy, HttpResponse response) =>
        Retriable(policy, response.StatusCode)
        || (HasGrpcCondition(policy) && response.Headers.TryGetValue(GrpcStatusHeader, out var values) && values.Count == 1 && RetriableGrpc(policy, values[0]));

    /// <summary>As <see cref="Retriable(RetryPolicy, HttpResponseMessage)"/>, for a status and <c>grpc-status</c> read directly.</summary>
    public static bool Retriable(RetryPolicy policy, int status, string? grpcStatus) =>
        Retriable(policy, status) || (grpcStatus is not null && HasGrpcCondition(policy) && RetriableGrpc(policy, grpcStatus));

    private const string GrpcStatusHeader = "grpc-status";

    private static bool HasGrpcCondition(RetryPolicy policy)
    {
        foreach (var condition in policy.RetryOn)
        {
            if (condition is RetryCondition.Cancelled or RetryCondition.DeadlineExceeded or RetryCondition.ResourceExhausted or RetryCondition.Unavailable)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Envoy's <c>x-envoy-retry-grpc-on</c> conditions: CANCELLED 1, DEADLINE_EXCEEDED 4, RESOURCE_EXHAUSTED 8, UNAVAILABLE 14.</summary>
    private static bool RetriableGrpc(RetryPolicy policy, string? value)
    {
        if (!int.TryParse(value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var status))
        {
            return false;
        }

        foreach (var condition in policy.RetryOn)
        {
            switch (condition)
            {
                case RetryCondition.Cancelled when status == 1:
                case RetryCondition.DeadlineExceeded when status == 4:
                case RetryCondition.ResourceExhausted when status == 8:
                case RetryCondition.Unavailable when status == 14:
                    return true;
            }
        }

        return false;
    }

    /// <summary>Envoy's <c>retry_on</c> for a response status.</summary>
    public static bool Retriable(RetryPolicy policy, int status)
    {
        foreach (var condition in policy.RetryOn)
        {
            switch (condition)
            {
                case RetryCondition.ServerError when status >= 500:
                case RetryCondition.GatewayError when status is 502 or 503 or 504:
                case RetryCondition.Retriable4xx when status == 409:
                    return true;
            }
        }

        foreach (var code in policy.RetriableStatusCodes)
        {
            if (code == status)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Per-try timeouts are retried as a 504 would be (Envoy: with <c>5xx</c> or <c>gateway-error</c>).</summary>
    public static bool RetriableTimeout(RetryPolicy policy) => Retriable(policy, StatusCodes.Status504GatewayTimeout);
}

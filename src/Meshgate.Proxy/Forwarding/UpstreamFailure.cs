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
        for (var e = context.Features.Get<IForwarderErrorFeature>()?.Exception; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case UpstreamTlsException tls:
                    transportFailure = tls.Reason;
                    return UpstreamFailureKind.ConnectFailure;
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

        return UpstreamFailureKind.Reset;
    }

    /// <summary>Envoy's <c>retry_on</c> for a failure before response headers (router's <c>wouldRetryFromReset</c>).</summary>
    public static bool Retriable(RetryPolicy policy, UpstreamFailureKind kind)
    {
        if (kind is not (UpstreamFailureKind.ConnectFailure or UpstreamFailureKind.Reset))
        {
            return false;
        }

        foreach (var condition in policy.RetryOn)
        {
            switch (condition)
            {
                case RetryCondition.ServerError or RetryCondition.GatewayError or RetryCondition.Reset:
                    return true;
                case RetryCondition.ConnectFailure when kind == UpstreamFailureKind.ConnectFailure:
                    return true;
            }
        }

        return false;
    }

    /// <summary>Envoy's <c>retry_on</c> for a response status (router's <c>wouldRetryFromHeaders</c>).</summary>
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

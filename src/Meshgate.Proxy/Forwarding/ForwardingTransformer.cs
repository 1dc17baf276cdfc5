using System.Diagnostics;
using System.Globalization;
using Meshgate.Core.ProxyConfiguration;
using Meshgate.Core.Routing;
using Microsoft.AspNetCore.Http;
using Yarp.ReverseProxy.Forwarder;

namespace Meshgate.Proxy.Forwarding;

/// <summary>
/// The header handling of an Envoy-style proxy: the Host stays what the client asked for (unless the route rewrites it),
/// <c>x-forwarded-for</c> gets the client's address appended, <c>x-request-id</c> is generated when
/// absent, and responses carry <c>x-envoy-upstream-service-time</c> (milliseconds to response headers).
/// Each attempt carries <c>x-envoy-attempt-count</c>; a response whose status the retry policy retries is held back
/// (not sent downstream) while attempts remain, so the handler can try again.
/// One per pooled <see cref="ProxyRequest"/>, used by one request at a time, so it can time the upstream in a field.
/// </summary>
internal sealed class ForwardingTransformer(RetryableRequestBody body, ConnectionAddresses addresses) : HttpTransformer
{
    private static readonly string[] AttemptCounts = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10"];

    // x-envoy-upstream-service-time for the common answers, made once (a race makes an equal string twice, harmlessly).
    private static readonly string?[] ServiceTimes = new string?[1024];

    private long _upstreamStarted;

    /// <summary>Milliseconds from the request sent to the response headers of the last attempt; -1 when none arrived.</summary>
    public long UpstreamServiceMilliseconds { get; private set; } = -1;

    /// <summary>Forgets the previous request's timing and route actions (the transformer is pooled with its request).</summary>
    public void Reset()
    {
        UpstreamServiceMilliseconds = -1;
        Actions = null;
        ClusterIndex = 0;
        CorsOrigin = null;
    }

    /// <summary>The attempt about to be sent, from 1 (<c>x-envoy-attempt-count</c>).</summary>
    public int Attempt { get; set; }

    /// <summary>The policy whose retriable statuses are held back; null on the last attempt (and without retries).</summary>
    public RetryPolicy? HoldRetriable { get; set; }

    /// <summary>True when this attempt's response was held back for a retry.</summary>
    public bool RetryRequested { get; set; }

    /// <summary>The route's <c>host_rewrite_literal</c> (Istio's <c>rewrite.authority</c>); null keeps the client's Host.</summary>
    public string? HostRewrite { get; set; }

    /// <summary>The route's compiled actions (header changes, path rewrite, CORS); null for routes without any.</summary>
    public CompiledRouteActions? Actions { get; set; }

    /// <summary>The index of the weighted cluster the request goes to, whose header changes apply.</summary>
    public int ClusterIndex { get; set; }

    /// <summary>The request's CORS origin when the route's policy allows it: echoed on the response.</summary>
    public string? CorsOrigin { get; set; }

    /// <summary>The upstream status of the held-back response.</summary>
    public int HeldStatus { get; private set; }

    public override async ValueTask TransformRequestAsync(HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix, CancellationToken cancellationToken)
    {
        await base.TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, cancellationToken).ConfigureAwait(false);
        proxyRequest.Headers.Host = HostRewrite ?? httpContext.Request.Host.Value; // HTTP/2 upstreams send it as :authority

        var client = addresses.Client(httpContext.Connection);
        if (client is not null)
        {
            var existing = httpContext.Request.Headers["x-forwarded-for"].ToString();
            proxyRequest.Headers.Remove("x-forwarded-for");
            proxyRequest.Headers.TryAddWithoutValidation("x-forwarded-for", existing.Length == 0 ? client : $"{existing}, {client}");
        }

        if (!proxyRequest.Headers.Contains("x-request-id"))
        {
            var id = RequestIds.NewV4();
            proxyRequest.Headers.TryAddWithoutValidation("x-request-id", id);
            httpContext.Request.Headers["x-request-id"] = id; // for the access log
        }

        // Envoy sets this header on each try (1 for the first); a client's own value is not passed on.
        proxyRequest.Headers.Remove("x-envoy-attempt-count");
        proxyRequest.Headers.TryAddWithoutValidation(
            "x-envoy-attempt-count",
            Attempt < AttemptCounts.Length ? AttemptCounts[Attempt] : Attempt.ToString(CultureInfo.InvariantCulture));
        if (Actions is { } actions)
        {
            RouteActionSteps.Request(httpContext, proxyRequest, destinationPrefix, actions, ClusterIndex);
        }

        RequestSent();
    }

    /// <summary>The request head is about to go upstream: the upstream service time runs from here.</summary>
    public void RequestSent() => _upstreamStarted = Stopwatch.GetTimestamp();

    /// <summary>A retriable response is held back while attempts remain (both forwarding paths).</summary>
    public void HoldForRetry(int status)
    {
        RetryRequested = true;
        HeldStatus = status;
    }

    /// <summary>A response is passed on: its upstream service time, and <c>x-envoy-upstream-service-time</c>.</summary>
    public void ResponseArrived(HttpContext httpContext)
    {
        var elapsed = (long)Stopwatch.GetElapsedTime(_upstreamStarted).TotalMilliseconds;
        UpstreamServiceMilliseconds = elapsed;
        httpContext.Response.Headers["x-envoy-upstream-service-time"] = ServiceTime(elapsed);
    }

    public override ValueTask<bool> TransformResponseAsync(HttpContext httpContext, HttpResponseMessage? proxyResponse, CancellationToken cancellationToken)
    {
        // A body that outgrew the retry buffer cannot be sent again: the answer goes to the client, as Envoy's does.
        if (HoldRetriable is { } policy && proxyResponse is not null && body.CanReplay && UpstreamFailure.Retriable(policy, proxyResponse))
        {
            // Nothing was sent downstream yet: YARP only set the status, which the handler resets before the next try.
            HoldForRetry((int)proxyResponse.StatusCode);
            return ValueTask.FromResult(false);
        }

        var result = base.TransformResponseAsync(httpContext, proxyResponse, cancellationToken);
        if (proxyResponse is not null)
        {
            ResponseArrived(httpContext);
            if (Actions is { } actions)
            {
                RouteActionSteps.Response(httpContext, actions, ClusterIndex, CorsOrigin);
            }
        }

        return result;
    }

    private static string ServiceTime(long milliseconds)
    {
        if ((ulong)milliseconds >= (ulong)ServiceTimes.Length)
        {
            return milliseconds.ToString(CultureInfo.InvariantCulture);
        }

        return ServiceTimes[milliseconds] ??= milliseconds.ToString(CultureInfo.InvariantCulture);
    }
}

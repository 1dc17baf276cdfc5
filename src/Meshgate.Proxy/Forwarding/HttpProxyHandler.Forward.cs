using System.Net;
using System.Runtime.CompilerServices;
using Meshgate.Core.ProxyConfiguration;
using Meshgate.Proxy.Capture;
using Meshgate.Proxy.Listeners;
using Meshgate.Proxy.Observability;
using Meshgate.Proxy.Upstream;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Yarp.ReverseProxy.Forwarder;

namespace Meshgate.Proxy.Forwarding;

/// <summary>
/// Forwarding a routed request to its cluster: endpoint picks, attempts and Envoy's retries (the body kept for them,
/// <see cref="RetryableRequestBody"/>), timeouts, the HTTP version the cluster speaks, and Envoy's local replies for
/// what failed.
/// </summary>
internal sealed partial class HttpProxyHandler
{
    /// <summary>Envoy's local reply body when the upstream connection fails before response headers.</summary>
    private const string UpstreamConnectFailure = "upstream connect error or disconnect/reset before headers. reset reason: connection failure";

    // Upstreams speak HTTP/1.1 unless their cluster says HTTP/2 (h2c needs prior knowledge, which an external host may
    // not have): Envoy's default, and Istio's for ports that are not HTTP2, GRPC or GRPC-WEB.
    private static readonly ForwarderRequestConfig DefaultRequest = new()
    {
        ActivityTimeout = TimeSpan.FromMinutes(5),
        Version = HttpVersion.Version11,
        VersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
    };

    // HTTP/2 to the upstream (Envoy's http2_protocol_options): with prior knowledge (h2c) in plaintext, ALPN h2 with TLS.
    private static readonly ForwarderRequestConfig Http2Request = new()
    {
        ActivityTimeout = TimeSpan.FromMinutes(5),
        Version = HttpVersion.Version20,
        VersionPolicy = HttpVersionPolicy.RequestVersionExact,
    };

    // TLS offering h2 and http/1.1: HTTP/2 when the server chose h2, else HTTP/1.1 on the same connection.
    private static readonly ForwarderRequestConfig NegotiatedRequest = new()
    {
        ActivityTimeout = TimeSpan.FromMinutes(5),
        Version = HttpVersion.Version20,
        VersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
    };

    private async Task ForwardAsync(ProxyRequest request, ClusterState cluster, ForwardAction? forward, EgressPolicy egress)
    {
        var context = request.Http;
        var policy = forward?.Retries is { Attempts: > 0 } retries ? retries : null;
        var maxAttempts = 1 + (policy?.Attempts ?? 0);

        // Envoy's ORIGINAL_DST on a connection nobody redirected (a gateway's listener): the original destination is
        // the address the request arrived at, the proxy itself; the loop check below answers it instead of looping.
        if (request.Destination is null && cluster.Cluster.Discovery == ClusterDiscovery.OriginalDestination && context.Connection.LocalIpAddress is { } local)
        {
            request.Destination = OriginalDestination.From(new IPEndPoint(local, context.Connection.LocalPort));
        }

        CancellationTokenSource? deadline = null;
        if (forward?.Timeout is { } timeout && timeout > TimeSpan.Zero)
        {
            deadline = request.Deadline();
            deadline.CancelAfter(timeout);
        }

        // Envoy's host_rewrite_literal replaces the request's own :authority, which its access log then shows.
        request.Transformer.HostRewrite = forward?.HostRewrite;
        if (forward?.HostRewrite is { } rewrite)
        {
            request.AuthorityRewrite = rewrite;
        }

        // A retry sends the body again from its first byte: Envoy's router keeps a copy of it while retries remain.
        var body = request.Bodies.RequestBody;
        if (policy is not null)
        {
            body.Keep(RetryBufferLimit, context.Request.ContentLength);
        }

        try
        {
            await AttemptAsync(request, cluster, policy, maxAttempts, egress, deadline?.Token ?? CancellationToken.None).ConfigureAwait(false);
        }
        finally
        {
            body.Release();
        }
    }

    private async Task AttemptAsync(ProxyRequest request, ClusterState cluster, RetryPolicy? policy, int maxAttempts, EgressPolicy egress, CancellationToken token)
    {
        var context = request.Http;
        var transformer = request.Transformer;
        var body = request.Bodies.RequestBody;
        var retryExhausted = false;
        for (var attempt = 1; ; attempt++)
        {
            request.Attempts = attempt;
            UpstreamTarget? target;
            try
            {
                target = await cluster.PickTargetAsync(request.Destination, egress, context.RequestAborted).ConfigureAwait(false);

                // Istio configures Envoy's previous_hosts retry predicate (up to 5 reselections): a retry avoids the
                // endpoints already tried, which a shared round robin alone would not under concurrent load.
                for (var reselect = 0; reselect < MaxHostReselections && target is not null && attempt > 1 && request.Tried(target); reselect++)
                {
                    target = await cluster.PickTargetAsync(request.Destination, egress, context.RequestAborted).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
            {
                SetOutcome(request, ResponseFlags.DownstreamConnectionTermination, "downstream_remote_disconnect", null);
                return;
            }

            if (target is null)
            {
                SetOutcome(request, ResponseFlags.NoHealthyUpstream, "no_healthy_upstream", null);
                await WriteLocalAsync(context, StatusCodes.Status503ServiceUnavailable, "no healthy upstream").ConfigureAwait(false);
                return;
            }

            request.Upstream = target.EndPoint;
            if (_loops.IsSelf(target.EndPoint))
            {
                // Forwarding to our own listener would come straight back here, again and again. Envoy has no flag for
                // this; UH (no usable upstream host) is the nearest, with the details saying why.
                SetOutcome(request, ResponseFlags.NoHealthyUpstream, TlsPassthroughHandler.LoopDetected, null);
                await WriteLocalAsync(context, StatusCodes.Status508LoopDetected, "upstream loop detected").ConfigureAwait(false);
                return;
            }

            if (!egress.Allows(target))
            {
                // The egress guard: an address the proxy resolved (or the client chose) that is loopback, private,
                // link-local... and in no allowed range. The address checked is the one that would have been dialled.
                _metrics.EgressBlocked(target.Class);
                SetOutcome(request, ResponseFlags.EgressDestinationBlocked, EgressRefusals.Details(target.Class), null);
                await WriteLocalAsync(context, StatusCodes.Status403Forbidden, EgressRefusals.Body(target.Class)).ConfigureAwait(false);
                return;
            }

            request.Try(target);
            var last = attempt >= maxAttempts;
            if (last)
            {
                body.StopKeeping(); // no retry follows: what the client sends from now on need not be kept
            }

            transformer.Attempt = attempt;
            transformer.RetryRequested = false;
            transformer.HoldRetriable = last ? null : policy;
            var error = await SendAsync(request, cluster, target, policy, token).ConfigureAwait(false);
            if (transformer.RetryRequested)
            {
                ResetResponse(context); // a retriable status (503 by Istio's default) held back; try the next endpoint
                if (body.Rewind())
                {
                    continue;
                }

                // The body outgrew the buffer after the answer was held back: it can be neither retried nor passed on.
                SetOutcome(request, ResponseFlags.None, "request_payload_exceeded_retry_buffer_limit", null);
                await WriteLocalAsync(context, StatusCodes.Status507InsufficientStorage, "exceeded request buffer limit while retrying upstream").ConfigureAwait(false);
                return;
            }

            if (error.Failure == PerTryTimedOut && !last && policy is not null && UpstreamFailure.RetriableTimeout(policy) && Replay(request))
            {
                ResetResponse(context);
                continue;
            }

            var kind = UpstreamFailure.Classify(error.Forwarder, context, out var transportFailure);
            var retriable = policy is not null && UpstreamFailure.Retriable(policy, kind);
            if (retriable && !last && error.Failure == 0 && Replay(request))
            {
                ResetResponse(context);
                continue;
            }

            // Envoy says URX only when retries ran out; a body too large to keep ends them without it.
            retryExhausted = policy is not null && attempt > 1 && !body.Abandoned && (retriable
                || (error.Forwarder == ForwarderError.None && UpstreamFailure.Retriable(policy, context.Response)));
            await FinishAsync(request, error, kind, transportFailure, attempt > 1).ConfigureAwait(false);
            break;
        }

        if (retryExhausted)
        {
            request.Flags |= ResponseFlags.UpstreamRetryLimitExceeded;
        }
    }

    /// <summary>
    /// How much of a request body is kept for retries. Envoy's router keeps at most the listener's
    /// <c>per_connection_buffer_limit_bytes</c> (1 MiB by default; Istio sets no route
    /// <c>per_request_buffer_limit_bytes</c> below it); a larger body is streamed and not retried.
    /// </summary>
    internal const int RetryBufferLimit = 1024 * 1024;

    /// <summary>Istio's <c>host_selection_retry_max_attempts</c>.</summary>
    private const int MaxHostReselections = 5;

    private const int WholeTimedOut = 1;
    private const int PerTryTimedOut = 2;

    /// <summary>One attempt; <c>Failure</c> says which of our own timeouts, if any, ended it.</summary>
    private async Task<(ForwarderError Forwarder, int Failure)> SendAsync(ProxyRequest request, ClusterState cluster, UpstreamTarget target, RetryPolicy? policy, CancellationToken deadline)
    {
        var context = request.Http;
        if (request.Attempts > 1)
        {
            context.Features.Set<IForwarderErrorFeature>(null); // the failed try's error is not this one's
        }

        if (policy?.PerTryTimeout is not { } perTry || perTry <= TimeSpan.Zero)
        {
            var error = await SendOnceAsync(request, cluster, target, deadline).ConfigureAwait(false);
            return (error, deadline.IsCancellationRequested && !context.RequestAborted.IsCancellationRequested ? WholeTimedOut : 0);
        }

        using var attempt = CancellationTokenSource.CreateLinkedTokenSource(deadline);
        attempt.CancelAfter(perTry);
        var result = await SendOnceAsync(request, cluster, target, attempt.Token).ConfigureAwait(false);
        var failure = context.RequestAborted.IsCancellationRequested ? 0
            : deadline.IsCancellationRequested ? WholeTimedOut
            : attempt.IsCancellationRequested ? PerTryTimedOut
            : 0;
        return (result, failure);
    }

    /// <summary>
    /// The request forwarded once, in the HTTP version its cluster speaks (an upgrade, such as a WebSocket, always as
    /// HTTP/1.1). An HTTP/2 connection's local address and peer identity come from the cluster: no request's write
    /// notes them.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<ForwarderError> SendOnceAsync(ProxyRequest request, ClusterState cluster, UpstreamTarget target, CancellationToken token)
    {
        var context = request.Http;
        var upgrade = IsUpgrade(context);
        if (_directHttp1 && !upgrade && cluster.Protocol == UpstreamHttpProtocol.Http11 && Http1Forwarder.Accepts(context, request.Transformer))
        {
            return await Http1Forwarder.SendAsync(request, cluster, target, token).ConfigureAwait(false);
        }

        var config = cluster.Protocol switch
        {
            _ when upgrade => DefaultRequest,
            UpstreamHttpProtocol.Http2 => Http2Request,
            UpstreamHttpProtocol.Negotiated => NegotiatedRequest,
            _ => DefaultRequest,
        };
        // Flows into YARP's client's writes for this request (the direct path is told its connection directly). Set here,
        // not for every request: a value in an AsyncLocal makes every later await of the request carry an execution
        // context, and it is restored when this method returns.
        UpstreamConnection.Current = request.UpstreamLocal;
        var error = await _forwarder.SendAsync(context, target.Prefix, cluster.Invoker, config, request.Transformer, token).ConfigureAwait(false);
        if (config != DefaultRequest && request.UpstreamLocal.Value is null && cluster.Http2Connection(target.EndPoint) is { } connection)
        {
            request.UpstreamLocal.Value = connection.LocalEndPoint;
            request.UpstreamLocal.PeerUriSan = connection.PeerUriSan;
        }

        return error;
    }

    /// <summary>A WebSocket (or other) upgrade: HTTP/1.1's Upgrade or HTTP/2's extended CONNECT (RFC 8441).</summary>
    private static bool IsUpgrade(HttpContext context) =>
        context.Features.Get<IHttpUpgradeFeature>() is { IsUpgradableRequest: true }
        || context.Features.Get<IHttpExtendedConnectFeature>() is { IsExtendedConnect: true };

    private static async Task FinishAsync(ProxyRequest request, (ForwarderError Forwarder, int Failure) error, UpstreamFailureKind kind, string? transportFailure, bool retried)
    {
        var context = request.Http;
        if (error.Failure != 0)
        {
            // Envoy: 504 "upstream request timeout" with UT, whether the route's timeout or the last try's fired.
            SetOutcome(request, ResponseFlags.UpstreamRequestTimeout, error.Failure == WholeTimedOut ? "response_timeout" : "upstream_per_try_timeout", null);
            if (!context.Response.HasStarted)
            {
                ResetResponse(context);
                await WriteLocalAsync(context, StatusCodes.Status504GatewayTimeout, "upstream request timeout").ConfigureAwait(false);
            }
            else
            {
                context.Abort();
            }

            return;
        }

        switch (kind)
        {
            case UpstreamFailureKind.None:
                SetOutcome(request, ResponseFlags.None, "via_upstream", null);
                return;
            case UpstreamFailureKind.ConnectFailure or UpstreamFailureKind.Reset:
                var connect = kind == UpstreamFailureKind.ConnectFailure;
                SetOutcome(
                    request,
                    connect ? ResponseFlags.UpstreamConnectionFailure : ResponseFlags.UpstreamConnectionTermination,
                    connect ? "upstream_reset_before_response_started{connection_failure}" : "upstream_reset_before_response_started{connection_termination}",
                    transportFailure);
                if (!context.Response.HasStarted)
                {
                    // YARP answers 502; Envoy answers a failure before response headers with 503 and this local reply.
                    ResetResponse(context);
                    await WriteLocalAsync(context, StatusCodes.Status503ServiceUnavailable, ConnectFailureBody(connect, transportFailure, retried)).ConfigureAwait(false);
                }

                return;
            case UpstreamFailureKind.Overflow:
                // Envoy: the pending-connection circuit breaker overflowed, 503 with reset reason "overflow", flag UO.
                SetOutcome(request, ResponseFlags.UpstreamOverflow, "upstream_reset_before_response_started{overflow}", null);
                if (!context.Response.HasStarted)
                {
                    ResetResponse(context);
                    await WriteLocalAsync(context, StatusCodes.Status503ServiceUnavailable, ResetBody("overflow", null, retried)).ConfigureAwait(false);
                }

                return;
            case UpstreamFailureKind.RefusedStream:
                // Envoy: the stream reset reason "remote refused stream reset", flag UR.
                SetOutcome(request, ResponseFlags.UpstreamRemoteReset, "upstream_reset_before_response_started{remote_refused_stream_reset}", null);
                if (!context.Response.HasStarted)
                {
                    ResetResponse(context);
                    await WriteLocalAsync(context, StatusCodes.Status503ServiceUnavailable, ResetBody("remote refused stream reset", null, retried)).ConfigureAwait(false);
                }

                return;
        }

        var (flags, details) = error.Forwarder switch
        {
            ForwarderError.RequestTimedOut => (ResponseFlags.UpstreamRequestTimeout, "upstream_response_timeout"),
            ForwarderError.RequestCanceled or ForwarderError.RequestBodyClient or ForwarderError.ResponseBodyClient or ForwarderError.RequestBodyCanceled or ForwarderError.ResponseBodyCanceled
                => (ResponseFlags.DownstreamConnectionTermination, "downstream_remote_disconnect"),
            ForwarderError.ResponseHeaders or ForwarderError.ResponseBodyDestination or ForwarderError.RequestBodyDestination => (ResponseFlags.UpstreamConnectionTermination, "upstream_reset_after_response_started"),
            _ => (ResponseFlags.UpstreamRemoteReset, "upstream_reset"),
        };
        SetOutcome(request, flags, details, null);
    }

    private static string ConnectFailureBody(bool connect, string? transportFailure, bool retried)
    {
        if (!retried && connect && transportFailure is null or "connection_failure")
        {
            return UpstreamConnectFailure;
        }

        return ResetBody(connect ? "connection failure" : "connection termination", transportFailure, retried);
    }

    private static string ResetBody(string reason, string? transportFailure, bool retried)
    {
        var body = retried
            ? "upstream connect error or disconnect/reset before headers. retried and the latest reset reason: " + reason
            : "upstream connect error or disconnect/reset before headers. reset reason: " + reason;
        return transportFailure is null or "connection_failure" ? body : body + ", transport failure reason: " + transportFailure;
    }

    /// <summary>
    /// True, with the body rewound, when the request can be sent again: all of its body read so far kept (or none
    /// read), nothing of the response sent.
    /// </summary>
    private static bool Replay(ProxyRequest request) => !request.Http.Response.HasStarted && request.Bodies.RequestBody.Rewind();
}

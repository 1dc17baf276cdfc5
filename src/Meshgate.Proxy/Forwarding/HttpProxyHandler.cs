using System.Diagnostics;
using System.Net;
using Meshgate.Core.ProxyConfiguration;
using Meshgate.Core.Routing;
using Meshgate.Proxy.Capture;
using Meshgate.Proxy.Listeners;
using Meshgate.Proxy.Observability;
using Meshgate.Proxy.Upstream;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Primitives;
using Yarp.ReverseProxy.Forwarder;

namespace Meshgate.Proxy.Forwarding;

/// <summary>
/// An HTTP request on an HTTP listener: route by authority and path, pick an endpoint of the route's
/// cluster, forward with YARP's <see cref="IHttpForwarder"/>, then count it in the metrics and write one
/// access-log line. The request reads its listener's snapshot once and uses only that one, so a swap never
/// changes a request halfway.
/// </summary>
internal sealed partial class HttpProxyHandler(IHttpForwarder forwarder, ProxyMetrics metrics, TimeProvider time, LoopGuard loops, bool directHttp1 = true)
{
    private readonly IHttpForwarder _forwarder = forwarder;
    private readonly LoopGuard _loops = loops;
    private readonly ProxyMetrics _metrics = metrics;
    private readonly RequestMirror _mirror = new(loops);

    // The direct HTTP/1.1 path for what it accepts; false sends everything through YARP (ProxyOptions.DirectHttp1).
    private readonly bool _directHttp1 = directHttp1;

    public async Task HandleAsync(ProxyRequest request, ListenerContext listener)
    {
        var started = Stopwatch.GetTimestamp();
        var snapshot = listener.Snapshot;
        var context = request.Http;
        request.Bodies.Attach(context);
        var terminated = context.Features.Get<TerminatedTls>();
        // A plaintext listener's traffic from a sidecar arrives unwrapped from the mesh tunnel; only a proxy with a
        // workload certificate unwraps, so others skip the lookup.
        var tunnel = terminated is null && snapshot.MeshTunnelTls is not null ? context.Features.Get<MeshTunnel>() : null;
        var entry = new AccessLogEntry
        {
            StartTime = time.GetUtcNow(),
            Method = context.Request.Method,
            Path = context.Request.Path.Value + context.Request.QueryString.Value,
            Protocol = context.Request.Protocol switch
            {
                "HTTP/2" => AccessLogProtocol.Http2,
                "HTTP/1.0" => AccessLogProtocol.Http10,
                _ => AccessLogProtocol.Http11,
            },
            Authority = context.Request.Host.Value,
            UserAgent = Header(context, "user-agent"),
            ForwardedFor = Header(context, "x-forwarded-for"),
            DownstreamLocalAddress = request.Addresses.Local(context.Connection),
            DownstreamRemoteAddress = request.Addresses.Remote(context.Connection),
            RequestedServerName = terminated?.ServerName,
            DownstreamPeerUriSan = terminated?.PeerUriSan ?? tunnel?.PeerUriSan,
            DownstreamLocalUriSan = terminated?.LocalUriSan ?? tunnel?.LocalUriSan,
        };

        try
        {
            if (IsContentLengthAndChunked(context))
            {
                // Kestrel lets Transfer-Encoding win and closes the connection; Envoy refuses such a request outright
                // (RFC 9112 §6.1: "ought to be handled as an error"), so a request smuggling attempt reaches no origin.
                await Local(request, StatusCodes.Status400BadRequest, ResponseFlags.DownstreamProtocolError, "http1.content_length_and_chunked_not_allowed").ConfigureAwait(false);
                context.Response.Headers.Connection = "close";
                return;
            }

            if (IsHttp1(context) && Http1Refusal(context) is { } refusal)
            {
                await Local(request, refusal.Status, ResponseFlags.DownstreamProtocolError, refusal.Details).ConfigureAwait(false);
                context.Response.Headers.Connection = "close";
                return;
            }

            await RouteAsync(request, snapshot, listener.Name, terminated).ConfigureAwait(false);
        }
        finally
        {
            if (request.Destination is { Address: { } original } captured && context.Features.Get<CapturedConnection>() is not null)
            {
                // As Envoy behind iptables: the address the application dialled, restored from SO_ORIGINAL_DST.
                entry.DownstreamLocalAddress = new IPEndPoint(original, captured.Port);
            }

            entry.Authority = request.AuthorityRewrite ?? entry.Authority;
            entry.RouteName = request.RouteName;
            entry.UpstreamCluster = request.ClusterName;
            entry.UpstreamHost = request.Upstream;
            entry.ResponseFlags |= request.Flags;
            entry.ResponseCodeDetails = request.Details;
            entry.UpstreamTransportFailureReason = request.TransportFailure;
            entry.RequestId = Header(context, "x-request-id");
            entry.ResponseCode = context.Response.StatusCode;
            entry.BytesReceived = request.Bodies.Received;
            entry.BytesSent = request.Bodies.Sent;
            entry.UpstreamLocalAddress = request.UpstreamLocal.Value;
            entry.UpstreamPeerUriSan = request.UpstreamLocal.PeerUriSan;
            entry.Duration = Stopwatch.GetElapsedTime(started);
            if (request.Transformer.UpstreamServiceMilliseconds is >= 0 and var ms)
            {
                entry.UpstreamServiceTime = TimeSpan.FromMilliseconds(ms);
            }

            _metrics.Request(new RequestKey(
                request.Cluster?.ServiceHost ?? SourceLabels.Unknown,
                request.ClusterName ?? SourceLabels.Unknown,
                entry.ResponseCode,
                entry.ResponseFlags,
                entry.DownstreamPeerUriSan ?? SourceLabels.Unknown)).Record(entry.Duration);
            snapshot.AccessLog.Write(in entry);
        }
    }

    private Task RouteAsync(ProxyRequest request, ProxySnapshot snapshot, string listenerName, TerminatedTls? terminated)
    {
        if (terminated is not null)
        {
            // No domain fronting: a request on a TLS connection the proxy terminated names the host its SNI named (a
            // client that reuses a connection for another host, as HTTP/2 coalescing does, is told to open its own).
            // ISTIO_MUTUAL is the mesh's own hop: its SNI is the DestinationRule's, set by the sidecar for every host it
            // sends through that gateway subset, never chosen by the application.
            if (terminated.ServerName is { } serverName && terminated.Chain.Tls?.Mode != TlsMode.IstioMutual
                && !snapshot.Egress.AllowsPair(serverName, request.Http.Request.Host.Value))
            {
                _metrics.DomainFrontingRefused(DomainFrontingCheck.SniHost);
                SetOutcome(request, ResponseFlags.DomainFrontingBlocked, EgressRefusals.SniHostMismatch, null);
                return WriteLocalAsync(request.Http, StatusCodes.Status421MisdirectedRequest, EgressRefusals.MisdirectedBody);
            }

            // A TLS connection the proxy terminated: the chain its SNI selected routes it.
            return RouteByTableAsync(request, snapshot, snapshot.RouteTable(terminated.Chain.RouteTable));
        }

        var listener = snapshot.Listener(listenerName)?.Listener;
        if (listener is { ExplicitHttpProxy: true } or { UseOriginalDestination: true })
        {
            return RouteCapturedAsync(request, snapshot, listener);
        }

        return RouteByTableAsync(request, snapshot, snapshot.RouteTable(listener?.DefaultFilterChain?.RouteTable ?? FirstRouteTable(listener)));
    }

    /// <summary>
    /// A request on the capture listener: an absolute-form request (explicit proxy), or one inside a CONNECT tunnel or a
    /// transparently captured connection (<see cref="CapturedConnection"/>). Its destination port picks the virtual
    /// listener whose route table routes it, exactly as a request arriving on that listener; with no HTTP listener for
    /// the port, the capture listener's default cluster takes it (Istio's PassthroughCluster or BlackHoleCluster).
    /// </summary>
    private Task RouteCapturedAsync(ProxyRequest request, ProxySnapshot snapshot, Listener capture)
    {
        var context = request.Http;
        OriginalDestination destination;
        if (context.Features.Get<CapturedConnection>() is { } captured)
        {
            destination = captured.Destination;
        }
        else if (!TryAbsoluteTarget(context, out destination))
        {
            // An origin-form request to the proxy itself: there is nothing to route it by.
            return Local(request, StatusCodes.Status404NotFound, ResponseFlags.NoRouteFound, "route_not_found");
        }

        request.Destination = destination;
        var target = snapshot.VirtualListener(destination.Address, destination.Port)?.Listener;
        if (target is { Protocol: ListenerProtocol.Http })
        {
            return RouteByTableAsync(request, snapshot, snapshot.RouteTable(target.DefaultFilterChain?.RouteTable ?? FirstRouteTable(target)));
        }

        if (capture.DefaultFilterChain?.Cluster is not { } fallback)
        {
            return Local(request, StatusCodes.Status404NotFound, ResponseFlags.NoRouteFound, "filter_chain_not_found");
        }

        return ToClusterAsync(request, snapshot, fallback, forward: null);
    }

    private Task RouteByTableAsync(ProxyRequest request, ProxySnapshot snapshot, CompiledRouteTable? table)
    {
        var context = request.Http;
        var match = table?.Match(context.Request.Host.Value.AsSpan(), context.Request.Path.Value.AsSpan(), context.Request.QueryString.Value.AsSpan(), new RequestHeaders(context.Request.Headers));
        if (match is not { } matched)
        {
            return Local(request, StatusCodes.Status404NotFound, ResponseFlags.NoRouteFound, "route_not_found");
        }

        request.RouteName = matched.Route.Name;
        var route = matched.Route;
        if (route.DirectResponse is { } direct)
        {
            SetOutcome(request, ResponseFlags.None, "direct_response", null);
            context.Response.StatusCode = direct.Status;
            return direct.Body is null ? Task.CompletedTask : context.Response.WriteAsync(direct.Body);
        }

        if (route.Redirect is { } redirect)
        {
            SetOutcome(request, ResponseFlags.None, "direct_response", null);
            var scheme = redirect.Scheme ?? context.Request.Scheme;
            var host = redirect.Host ?? context.Request.Host.Host;
            var port = redirect.Port is { } p ? $":{p}" : "";
            context.Response.StatusCode = redirect.Status;
            context.Response.Headers.Location = $"{scheme}://{host}{port}{redirect.Path ?? context.Request.Path.Value}";
            return Task.CompletedTask;
        }

        var forward = route.Forward!;
        var pick = PickCluster(forward);
        if (matched.Actions is { } actions && RouteActions(request, snapshot, actions, forward, pick))
        {
            return Task.CompletedTask;
        }

        return ToClusterAsync(request, snapshot, forward.Clusters[pick].Name, forward);
    }

    /// <summary>
    /// A route's header changes, rewrites, mirrors and CORS (<see cref="RouteActionSteps"/>, <see cref="RequestMirror"/>);
    /// only routes that have some get here. True when the request was answered (a CORS preflight).
    /// </summary>
    private bool RouteActions(ProxyRequest request, ProxySnapshot snapshot, CompiledRouteActions actions, ForwardAction forward, int pick)
    {
        if (actions.Cors is { } cors && RouteActionSteps.AnswerPreflight(request, cors))
        {
            SetOutcome(request, ResponseFlags.None, "cors_response", null);
            return true;
        }

        request.Transformer.Actions = actions;
        request.Transformer.ClusterIndex = pick;
        if (actions.Mirrors is not null)
        {
            _mirror.Send(request, snapshot, actions, forward, pick);
        }

        return false;
    }

    private Task ToClusterAsync(ProxyRequest request, ProxySnapshot snapshot, string clusterName, ForwardAction? forward)
    {
        request.ClusterName = clusterName;
        var cluster = snapshot.Cluster(clusterName);
        if (cluster is null)
        {
            // A Gateway API backend that is invalid: Istio's cluster_not_found_response_code INTERNAL_SERVER_ERROR.
            return clusterName == Cluster.InvalidBackend
                ? Local(request, StatusCodes.Status500InternalServerError, ResponseFlags.NoClusterFound, "cluster_not_found")
                : Local(request, StatusCodes.Status503ServiceUnavailable, ResponseFlags.NoClusterFound, "cluster_not_found");
        }

        request.Cluster = cluster;
        if (cluster.Name == Cluster.BlackHole)
        {
            // Istio's block_all virtual host: a direct response 502.
            return Local(request, StatusCodes.Status502BadGateway, ResponseFlags.None, "direct_response");
        }

        return ForwardAsync(request, cluster, forward, snapshot.Egress);
    }

    /// <summary>
    /// The destination of an absolute-form request (RFC 9112 §3.2.2, what <c>curl -x</c> sends): the authority of
    /// <c>http://host[:port]/path</c>, port 80 when absent. It wins over Host, which Kestrel replaces with it
    /// (<c>AllowHostHeaderOverride</c>), so exactly one Host, the target's, goes upstream.
    /// </summary>
    private static bool TryAbsoluteTarget(HttpContext context, out OriginalDestination destination)
    {
        destination = default;
        var raw = (context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? "").AsSpan();
        const string Scheme = "http://";
        if (!raw.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var authority = raw[Scheme.Length..];
        var end = authority.IndexOfAny('/', '?', '#');
        return OriginalDestination.TryParse(end < 0 ? authority : authority[..end], 80, out destination);
    }

    /// <summary>Forgets what an attempt put on the (unstarted) response: status, reason phrase, headers.</summary>
    private static void ResetResponse(HttpContext context)
    {
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Features.GetRequiredFeature<IHttpResponseFeature>().ReasonPhrase = null;
        context.Response.Headers.Clear();
    }

    private static void SetOutcome(ProxyRequest request, ResponseFlags flags, string details, string? transportFailure)
    {
        request.Flags = flags;
        request.Details = details;
        request.TransportFailure = transportFailure;
    }

    private static Task Local(ProxyRequest request, int status, ResponseFlags flags, string details)
    {
        SetOutcome(request, flags, details, null);
        return WriteLocalAsync(request.Http, status, null);
    }

    private static Task WriteLocalAsync(HttpContext context, int status, string? body)
    {
        if (context.Response.HasStarted)
        {
            return Task.CompletedTask;
        }

        context.Response.StatusCode = status;
        if (body is null)
        {
            context.Response.ContentLength = 0;
            return Task.CompletedTask;
        }

        context.Response.ContentLength = body.Length;
        context.Response.ContentType = "text/plain";
        return context.Response.WriteAsync(body);
    }

    /// <summary>The index of the weighted cluster this request goes to.</summary>
    private static int PickCluster(ForwardAction forward)
    {
        var clusters = forward.Clusters;
        if (clusters.Count == 1)
        {
            return 0;
        }

        var total = 0;
        for (var i = 0; i < clusters.Count; i++)
        {
            total += clusters[i].Weight;
        }

        var pick = Random.Shared.Next(Math.Max(total, 1));
        for (var i = 0; i < clusters.Count; i++)
        {
            pick -= clusters[i].Weight;
            if (pick < 0)
            {
                return i;
            }
        }

        return clusters.Count - 1;
    }

    /// <summary>
    /// An HTTP/1.x request that had both framings: Kestrel keeps Transfer-Encoding and renames the Content-Length it
    /// overrode to <c>X-Content-Length</c>.
    /// </summary>
    private static bool IsContentLengthAndChunked(HttpContext context) =>
        context.Request.Headers.TransferEncoding.Count > 0
        && context.Request.Headers.ContainsKey("X-Content-Length")
        && IsHttp1(context);

    /// <summary>An HTTP/1.x request Kestrel took but Envoy refuses (Http1RequestChecks): the answer and its details.</summary>
    private static (int Status, string Details)? Http1Refusal(HttpContext context) =>
        Http1RequestChecks.HasUnsupportedTransferCoding(context.Request.Headers.TransferEncoding) ? (StatusCodes.Status501NotImplemented, "http1.invalid_transfer_encoding")
        : Http1RequestChecks.HasInvalidTarget(context.Features.Get<IHttpRequestFeature>()?.RawTarget) ? (StatusCodes.Status400BadRequest, "http1.invalid_url")
        : null;

    private static bool IsHttp1(HttpContext context) =>
        !HttpProtocol.IsHttp2(context.Request.Protocol) && !HttpProtocol.IsHttp3(context.Request.Protocol);

    private static string? FirstRouteTable(Listener? listener) => listener is { FilterChains.Count: > 0 } ? listener.FilterChains[0].RouteTable : null;

    private static string? Header(HttpContext context, string name) =>
        context.Request.Headers.TryGetValue(name, out var value) ? value.ToString() : null;

    /// <summary>Kestrel's headers as route matching reads them, without copying.</summary>
    private readonly struct RequestHeaders(IHeaderDictionary headers) : IHeaderSource
    {
        public bool TryGetValue(string name, out ReadOnlySpan<char> value)
        {
            if (headers.TryGetValue(name, out StringValues values))
            {
                value = values.Count == 1 ? values[0].AsSpan() : values.ToString().AsSpan();
                return true;
            }

            value = default;
            return false;
        }
    }
}

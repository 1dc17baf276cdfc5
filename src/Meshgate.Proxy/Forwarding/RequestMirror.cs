using System.Net;
using Meshgate.Core.ProxyConfiguration;
using Meshgate.Core.Routing;
using Meshgate.Proxy.Upstream;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Meshgate.Proxy.Forwarding;

/// <summary>
/// Envoy's <c>request_mirror_policies</c>: a shadow copy of a routed request sent to each mirror cluster (its share of
/// requests), fire and forget, its response read and discarded. The copy is the request as it goes upstream (path
/// rewritten, headers changed) with <c>-shadow</c> appended to the host of its authority, as Envoy's. It never delays
/// or fails the main request: it is built before the main request goes on and sent on its own task.
/// <list type="bullet">
/// <item>Bounded: at most <see cref="MaxInFlight"/> shadows in flight per proxy; one more is dropped, never queued
/// (a mirror that cannot keep up loses requests, the main traffic does not wait for it).</item>
/// <item>Only requests without a body are mirrored: copying a body would mean holding it for the shadow while the main
/// request streams it, which Envoy does and this proxy does not (docs/translation.md).</item>
/// <item>The shadow obeys the egress guard and the loop check as the main request does; it is not retried.</item>
/// </list>
/// </summary>
internal sealed class RequestMirror(LoopGuard loops)
{
    /// <summary>How many shadows may be in flight at once; more are dropped.</summary>
    internal const int MaxInFlight = 64;

    /// <summary>A shadow that has not finished in this time is abandoned.</summary>
    private static readonly TimeSpan ShadowTimeout = TimeSpan.FromSeconds(30);

    // Hop-by-hop headers (RFC 9110 §7.6.1), the framing of a body the shadow does not have, and Host, set apart.
    private static readonly HashSet<string> NotCopied = new(StringComparer.OrdinalIgnoreCase)
    {
        "connection", "keep-alive", "proxy-connection", "te", "transfer-encoding", "upgrade", "host", "content-length",
    };

    private int _inFlight;

    /// <summary>Shadows that were dropped because too many were in flight.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    private long _dropped;

    /// <summary>Starts the shadows of <paramref name="actions"/>' mirrors for this request; returns at once.</summary>
    public void Send(ProxyRequest request, ProxySnapshot snapshot, CompiledRouteActions actions, ForwardAction forward, int clusterIndex)
    {
        var mirrors = actions.Mirrors!;
        var context = request.Http;
        if (context.Features.Get<IHttpRequestBodyDetectionFeature>() is not { CanHaveBody: false })
        {
            return; // a request with a body is not mirrored (see above)
        }

        foreach (var mirror in mirrors)
        {
            if (mirror.PerMillion < 1_000_000 && Random.Shared.Next(1_000_000) >= mirror.PerMillion)
            {
                continue;
            }

            if (snapshot.Cluster(mirror.Cluster) is not { } cluster || cluster.Name == Cluster.BlackHole)
            {
                continue;
            }

            if (Interlocked.Increment(ref _inFlight) > MaxInFlight)
            {
                Interlocked.Decrement(ref _inFlight);
                Interlocked.Increment(ref _dropped);
                continue;
            }

            // Built now: the request's context is reused once the main request ends.
            var (message, pathAndQuery) = Shadow(context, actions, forward, clusterIndex);
            using (ExecutionContext.SuppressFlow())
            {
                _ = Task.Run(() => SendAsync(cluster, message, pathAndQuery, snapshot.Egress));
            }
        }
    }

    private static (HttpRequestMessage Message, string PathAndQuery) Shadow(HttpContext context, CompiledRouteActions actions, ForwardAction forward, int clusterIndex)
    {
        var path = actions.RewritesPath ? new PathString(actions.RewritePath(context.Request.Path.Value ?? "/")) : context.Request.Path;
        var pathAndQuery = (path.HasValue ? path.ToUriComponent() : "/") + context.Request.QueryString.ToUriComponent();
        var message = new HttpRequestMessage(HttpMethod.Parse(context.Request.Method), (Uri?)null);
        foreach (var header in context.Request.Headers)
        {
            if (!header.Key.StartsWith(':') && !NotCopied.Contains(header.Key))
            {
                message.Headers.TryAddWithoutValidation(header.Key, (IEnumerable<string?>)header.Value);
            }
        }

        if (actions.ClusterRequestHeaders(clusterIndex) is { } cluster)
        {
            RouteActionSteps.Apply(cluster, message);
        }

        if (actions.RequestHeaders is { } route)
        {
            RouteActionSteps.Apply(route, message);
        }

        message.Headers.Host = ShadowHost(forward.HostRewrite ?? context.Request.Host.Value ?? "");
        return (message, pathAndQuery);
    }

    /// <summary>Envoy's shadow authority: <c>-shadow</c> after the host, before any port (<c>a.b:8080</c> → <c>a.b-shadow:8080</c>).</summary>
    internal static string ShadowHost(string authority)
    {
        var host = HostTable.SplitPort(authority, out var port);
        return port.IsEmpty ? string.Concat(host, "-shadow") : string.Concat(host, "-shadow:", port);
    }

    private async Task SendAsync(ClusterState cluster, HttpRequestMessage message, string pathAndQuery, EgressPolicy egress)
    {
        try
        {
            using var timeout = new CancellationTokenSource(ShadowTimeout);
            var target = await cluster.PickTargetAsync(null, egress, timeout.Token).ConfigureAwait(false);
            if (target is null || loops.IsSelf(target.EndPoint) || !egress.Allows(target))
            {
                return;
            }

            message.RequestUri = new Uri(target.Prefix + pathAndQuery);
            (message.Version, message.VersionPolicy) = cluster.Protocol switch
            {
                UpstreamHttpProtocol.Http2 => (HttpVersion.Version20, HttpVersionPolicy.RequestVersionExact),
                UpstreamHttpProtocol.Negotiated => (HttpVersion.Version20, HttpVersionPolicy.RequestVersionOrLower),
                _ => (HttpVersion.Version11, HttpVersionPolicy.RequestVersionOrLower),
            };
            using var response = await cluster.Invoker.SendAsync(message, timeout.Token).ConfigureAwait(false);
            await response.Content.CopyToAsync(Stream.Null, timeout.Token).ConfigureAwait(false); // discarded; the connection is kept
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException or IOException or ObjectDisposedException or InvalidOperationException)
        {
            // A shadow's failure is nobody's business: Envoy counts it on the mirror cluster and moves on.
        }
        finally
        {
            message.Dispose();
            Interlocked.Decrement(ref _inFlight);
        }
    }
}

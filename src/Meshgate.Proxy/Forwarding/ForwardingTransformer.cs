using System.Diagnostics;
using System.Globalization;
using Microsoft.AspNetCore.Http;
using Yarp.ReverseProxy.Forwarder;

namespace Meshgate.Proxy.Forwarding;

/// <summary>
/// The header handling of an Envoy-style proxy: the Host stays what the client asked for,
/// <c>x-forwarded-for</c> gets the client's address appended, <c>x-request-id</c> is generated when
/// absent, and responses carry <c>x-envoy-upstream-service-time</c> (milliseconds to response headers).
/// One per pooled <see cref="ProxyRequest"/>, used by one request at a time, so it can time the upstream in a field.
/// </summary>
internal sealed class ForwardingTransformer : HttpTransformer
{
    private long _upstreamStarted;

    public override async ValueTask TransformRequestAsync(HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix, CancellationToken cancellationToken)
    {
        await base.TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, cancellationToken).ConfigureAwait(false);
        proxyRequest.Headers.Host = httpContext.Request.Host.Value;

        var client = httpContext.Connection.RemoteIpAddress?.ToString();
        if (client is not null)
        {
            var existing = httpContext.Request.Headers["x-forwarded-for"].ToString();
            proxyRequest.Headers.Remove("x-forwarded-for");
            proxyRequest.Headers.TryAddWithoutValidation("x-forwarded-for", existing.Length == 0 ? client : $"{existing}, {client}");
        }

        if (!proxyRequest.Headers.Contains("x-request-id"))
        {
            var id = Guid.NewGuid().ToString();
            proxyRequest.Headers.TryAddWithoutValidation("x-request-id", id);
            httpContext.Request.Headers["x-request-id"] = id; // for the access log
        }

        _upstreamStarted = Stopwatch.GetTimestamp();
    }

    public override ValueTask<bool> TransformResponseAsync(HttpContext httpContext, HttpResponseMessage? proxyResponse, CancellationToken cancellationToken)
    {
        var result = base.TransformResponseAsync(httpContext, proxyResponse, cancellationToken);
        if (proxyResponse is not null)
        {
            var elapsed = (long)Stopwatch.GetElapsedTime(_upstreamStarted).TotalMilliseconds;
            httpContext.Response.Headers["x-envoy-upstream-service-time"] = elapsed.ToString(CultureInfo.InvariantCulture);
        }

        return result;
    }
}

using System.IO.Pipelines;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Meshgate.Proxy.Forwarding;

/// <summary>
/// Counts a request's body bytes read (%BYTES_RECEIVED%) and its response body bytes written (%BYTES_SENT%),
/// whatever the framing: chunked bodies count as well as ones with a Content-Length, and the chunk framing itself
/// is not counted (Envoy counts body bytes). It sits in the request's feature collection as the response body
/// feature and as the request body stream, wrapping the server's own. Long-lived: one per pooled
/// <see cref="ProxyRequest"/>, so a request allocates nothing for it.
/// </summary>
internal sealed class BodyCounters : IHttpResponseBodyFeature
{
    private readonly RetryableRequestBody _requestBody = new();
    private readonly CountingStream _responseBody = new();
    private readonly CountingPipeWriter _responseWriter = new();
    private IHttpResponseBodyFeature _inner = null!;

    /// <summary>Request body bytes read so far.</summary>
    public long Received => _requestBody.Count;

    /// <summary>The request body, which keeps a copy of itself for retries (<see cref="RetryableRequestBody"/>).</summary>
    public RetryableRequestBody RequestBody => _requestBody;

    /// <summary>Response body bytes written so far.</summary>
    public long Sent => _responseBody.Count + _responseWriter.Count;

    /// <summary>Starts counting for the request in <paramref name="context"/>.</summary>
    public void Attach(HttpContext context)
    {
        // The server puts its own features back for each request; should it not, never wrap ourselves.
        var response = context.Features.GetRequiredFeature<IHttpResponseBodyFeature>();
        if (response != this)
        {
            _inner = response;
            context.Features.Set<IHttpResponseBodyFeature>(this);
        }

        _responseBody.Reset(_inner.Stream);
        _responseWriter.Reset(_inner.Writer);
        var request = context.Request.Body;
        if (request != _requestBody)
        {
            _requestBody.Reset(request);
            context.Request.Body = _requestBody;
        }
        else
        {
            _requestBody.Reset(_requestBody.Inner);
        }
    }

    Stream IHttpResponseBodyFeature.Stream => _responseBody;

    PipeWriter IHttpResponseBodyFeature.Writer => _responseWriter;

    void IHttpResponseBodyFeature.DisableBuffering() => _inner.DisableBuffering();

    Task IHttpResponseBodyFeature.StartAsync(CancellationToken cancellationToken) => _inner.StartAsync(cancellationToken);

    Task IHttpResponseBodyFeature.SendFileAsync(string path, long offset, long? count, CancellationToken cancellationToken) =>
        SendFileFallback.SendFileAsync(_responseBody, path, offset, count, cancellationToken);

    Task IHttpResponseBodyFeature.CompleteAsync() => _inner.CompleteAsync();
}

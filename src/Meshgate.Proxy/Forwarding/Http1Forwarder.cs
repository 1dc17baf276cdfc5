using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using Meshgate.Proxy.Upstream;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Yarp.ReverseProxy.Forwarder;

namespace Meshgate.Proxy.Forwarding;

/// <summary>
/// Forwards a bodiless HTTP/1.x request to an HTTP/1.1 upstream (plaintext, TLS the cluster originates, or the mesh
/// tunnel) over the cluster's own kept-alive connections
/// (<see cref="Http1ConnectionPool"/>): the request head is written as bytes from Kestrel's request
/// (<see cref="Http1RequestHead"/>), the response head is read straight into Kestrel's response
/// (<see cref="Http1ResponseHead"/>), and the body is copied from the connection's buffer to Kestrel's writer. It does
/// what <see cref="IHttpForwarder"/> does for such a request, without YARP's <c>HttpRequestMessage</c>,
/// <c>HttpResponseMessage</c>, <c>Uri</c> and header collections: the profile of issue 14 put a third of the proxy's
/// time there. Everything else (bodies, upgrades, HTTP/2 either side, route actions, paths that need
/// escaping) still goes through YARP (<see cref="Accepts"/>).
/// </summary>
/// <remarks>
/// Outcomes are YARP's: the same <see cref="ForwarderError"/>, the same status left on the response, and an
/// <see cref="IForwarderErrorFeature"/> whose exception <see cref="UpstreamFailure.Classify"/> reads the same way, so
/// the handler's retries, timeouts, local replies and response flags are one code path for both. As SocketsHttpHandler
/// does, a request that fails on a reused connection before any response byte is sent once more on a new connection
/// (the upstream closed it while it idled): that is not an Envoy retry and is not counted as one.
/// </remarks>
internal static class Http1Forwarder
{
    /// <summary>
    /// <c>MESHGATE_HTTP1_FORWARDER=0</c> sends every request through YARP (to compare the two paths, or as a way out).
    /// </summary>
    public const string EnvironmentVariable = "MESHGATE_HTTP1_FORWARDER";

    public static bool EnabledByEnvironment() =>
        Environment.GetEnvironmentVariable(EnvironmentVariable) is not ("0" or "false" or "False" or "FALSE");

    private static readonly Action<object?> AbortConnection = static state => ((Http1UpstreamConnection)state!).Abort();

    /// <summary>
    /// True for what this path forwards: an HTTP/1.x request with no body (nor <c>Expect</c>), a Host, no route actions,
    /// and a path and query that go upstream as they are (YARP would escape anything else, so those go to YARP).
    /// </summary>
    public static bool Accepts(HttpContext context, ForwardingTransformer transformer)
    {
        var request = context.Request;
        return transformer.Actions is null
            && (HttpProtocol.IsHttp11(request.Protocol) || HttpProtocol.IsHttp10(request.Protocol))
            && context.Features.Get<IHttpRequestBodyDetectionFeature>() is { CanHaveBody: false }
            && request.Host.HasValue
            && request.Headers.Expect.Count == 0
            && PlainTarget(request.Path.Value, request.QueryString.Value);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public static async ValueTask<ForwarderError> SendAsync(ProxyRequest request, ClusterState cluster, UpstreamTarget target, CancellationToken token)
    {
        var context = request.Http;
        var pool = target.Http1Pool;
        if (pool is null || pool.Retired)
        {
            pool = target.Http1Pool = cluster.Http1Pool(target.EndPoint);
        }

        var aborted = context.RequestAborted;
        var connection = pool.TryRent();
        var freshTried = false;
        string? requestId = null;
        while (true)
        {
            if (connection is null)
            {
                freshTried = true;
                try
                {
                    connection = await pool.ConnectAsync(token, aborted).ConfigureAwait(false);
                }
                catch (Exception e)
                {
                    return ConnectFailed(context, e);
                }
            }

            request.UpstreamLocal.Value = connection.LocalEndPoint;
            request.UpstreamLocal.PeerUriSan = connection.PeerUriSan;
            var length = WriteHead(request, connection, ref requestId);
            var (outcome, error) = await ExchangeAsync(request, pool, connection, length, freshTried, token).ConfigureAwait(false);
            if (outcome != Outcome.StaleConnection)
            {
                return error;
            }

            connection = null; // closed by the exchange; the next turn connects anew
        }
    }

    private enum Outcome
    {
        Done,

        /// <summary>A reused connection failed before any response byte: try once more on a new one.</summary>
        StaleConnection,
    }

    /// <summary>The request head in the connection's send buffer (grown until it fits); returns its length.</summary>
    private static int WriteHead(ProxyRequest request, Http1UpstreamConnection connection, ref string? requestId)
    {
        var context = request.Http;
        var transformer = request.Transformer;
        var host = transformer.HostRewrite ?? context.Request.Host.Value!;
        var client = request.Addresses.Client(context.Connection);
        for (var size = 4096; ; size *= 2)
        {
            var length = Http1RequestHead.Write(connection.SendBuffer(size), context, host, client, transformer.Attempt, ref requestId);
            if (length >= 0)
            {
                return length;
            }
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private static async ValueTask<(Outcome, ForwarderError)> ExchangeAsync(
        ProxyRequest request, Http1ConnectionPool pool, Http1UpstreamConnection connection, int headLength, bool fresh, CancellationToken token)
    {
        var context = request.Http;
        var aborted = context.RequestAborted;
        var transformer = request.Transformer;

        // A deadline, or the client leaving, closes the connection: whatever awaits it fails at once.
        var onDeadline = token.CanBeCanceled ? token.UnsafeRegister(AbortConnection, connection) : default;
        var onAbort = aborted.UnsafeRegister(AbortConnection, connection);
        try
        {
            Http1ResponseInfo info = default;
            var received = false;
            try
            {
                transformer.RequestSent();
                await connection.SendAsync(headLength).ConfigureAwait(false);
                while (true)
                {
                    var end = connection.Start < connection.End ? Http1ResponseHead.FindEnd(connection.Received.AsSpan(connection.Start, connection.End - connection.Start)) : -1;
                    while (end < 0)
                    {
                        if (connection.Full(Http1ResponseHead.MaxHeadLength))
                        {
                            pool.Close(connection);
                            return (Outcome.Done, Fail(context, ForwarderError.Request, new HttpRequestException(HttpRequestError.ConfigurationLimitExceeded, "the upstream's response head is over 64 KiB"), StatusCodes.Status502BadGateway));
                        }

                        if (await connection.ReceiveAsync(Http1ResponseHead.MaxHeadLength).ConfigureAwait(false) == 0)
                        {
                            throw new HttpRequestException(HttpRequestError.ResponseEnded, "the upstream closed the connection before response headers");
                        }

                        received = true;
                        end = Http1ResponseHead.FindEnd(connection.Received.AsSpan(connection.Start, connection.End - connection.Start));
                    }

                    var head = connection.Received.AsSpan(connection.Start, end);
                    var status = Http1ResponseHead.Status(head);
                    if (status is >= 100 and < 200 and not 101)
                    {
                        connection.Start += end; // an interim response (100, 103...): the final one follows
                        continue;
                    }

                    var applied = status == 101
                        ? ResponseHeadError.Malformed // no upgrade was asked for (those go through YARP)
                        : Http1ResponseHead.Apply(head, HttpMethods.IsHead(context.Request.Method), context, connection.HeaderStrings, out info);
                    if (applied != ResponseHeadError.None)
                    {
                        pool.Close(connection);
                        context.Response.Clear();
                        return applied == ResponseHeadError.Unsendable
                            ? (Outcome.Done, Fail(context, ForwarderError.ResponseHeaders, new InvalidOperationException("the upstream's response has a header value the client cannot be sent"), StatusCodes.Status502BadGateway))
                            : (Outcome.Done, Fail(context, ForwarderError.Request, new HttpRequestException(HttpRequestError.InvalidResponse, "the upstream's response is not valid HTTP/1.1"), StatusCodes.Status502BadGateway));
                    }

                    connection.Start += end;
                    break;
                }
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException or HttpRequestException or IOException)
            {
                pool.Close(connection);
                if (aborted.IsCancellationRequested || token.IsCancellationRequested)
                {
                    return (Outcome.Done, Fail(context, ForwarderError.RequestCanceled, new OperationCanceledException("the request was canceled before response headers", e), aborted.IsCancellationRequested ? StatusCodes.Status400BadRequest : StatusCodes.Status502BadGateway));
                }

                if (connection.TimedOut)
                {
                    return (Outcome.Done, Fail(context, ForwarderError.RequestTimedOut, new TimeoutException("no upstream activity for the activity timeout", e), StatusCodes.Status504GatewayTimeout));
                }

                if (!received && !fresh && connection.Reused)
                {
                    return (Outcome.StaleConnection, ForwarderError.None);
                }

                return (Outcome.Done, Fail(context, ForwarderError.Request, e as HttpRequestException ?? new HttpRequestException(HttpRequestError.Unknown, "the upstream reset the connection before response headers", e), StatusCodes.Status502BadGateway));
            }

            // A status the retry policy retries is held back while attempts remain (ForwardingTransformer does the same
            // for YARP): nothing goes downstream, and the handler resets the response for the next try.
            if (transformer.HoldRetriable is { } policy && request.Bodies.RequestBody.CanReplay && UpstreamFailure.Retriable(policy, info.Status, info.GrpcStatus))
            {
                transformer.HoldForRetry(info.Status);
                Finish(pool, connection, info.Framing == ResponseFraming.None && info.KeepAlive && connection.Start == connection.End);
                return (Outcome.Done, ForwarderError.None);
            }

            transformer.ResponseArrived(context);
            var bodyError = await CopyBodyAsync(context, connection, info).ConfigureAwait(false);
            if (bodyError == ForwarderError.None)
            {
                Finish(pool, connection, info.KeepAlive && connection.Start == connection.End);
                return (Outcome.Done, ForwarderError.None);
            }

            pool.Close(connection);
            var canceled = aborted.IsCancellationRequested || token.IsCancellationRequested || connection.TimedOut;
            var error = bodyError == ForwarderError.ResponseBodyDestination && canceled ? ForwarderError.ResponseBodyCanceled : bodyError;
            SetError(context, error, new IOException("the response body could not be copied"));
            if (!context.Response.HasStarted)
            {
                context.Response.Clear();
                context.Response.StatusCode = StatusCodes.Status502BadGateway;
            }
            else
            {
                context.Abort(); // a truncated response must not look complete
            }

            return (Outcome.Done, error);
        }
        finally
        {
            onDeadline.Dispose();
            onAbort.Dispose();
        }
    }

    /// <summary>
    /// Copies the response body from the connection to Kestrel's writer, by its framing. Bytes already in the buffer are
    /// written first; Kestrel is flushed only before waiting on the upstream again, so a small response goes to the
    /// client with its headers in one write when the handler completes.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private static async ValueTask<ForwarderError> CopyBodyAsync(HttpContext context, Http1UpstreamConnection connection, Http1ResponseInfo info)
    {
        if (info.Framing == ResponseFraming.None)
        {
            return ForwarderError.None;
        }

        var writer = context.Response.BodyWriter;
        var remaining = info.Length;
        var chunks = default(ChunkedDecoder);
        while (true)
        {
            var available = connection.End - connection.Start;
            if (available > 0)
            {
                switch (info.Framing)
                {
                    case ResponseFraming.Length:
                        var take = (int)Math.Min(available, remaining);
                        Copy(writer, connection.Received.AsSpan(connection.Start, take));
                        connection.Start += take;
                        remaining -= take;
                        if (remaining == 0)
                        {
                            return ForwarderError.None;
                        }

                        break;
                    case ResponseFraming.Chunked:
                        while (connection.Start < connection.End)
                        {
                            var result = chunks.Read(connection.Received.AsSpan(connection.Start, connection.End - connection.Start), out var consumed, out var offset, out var count);
                            if (result == ChunkedResult.Data)
                            {
                                Copy(writer, connection.Received.AsSpan(connection.Start + offset, count));
                            }

                            connection.Start += consumed;
                            if (result == ChunkedResult.Done)
                            {
                                return ForwarderError.None;
                            }

                            if (result == ChunkedResult.Malformed)
                            {
                                return ForwarderError.ResponseBodyDestination;
                            }
                        }

                        break;
                    default:
                        Copy(writer, connection.Received.AsSpan(connection.Start, available));
                        connection.Start = connection.End;
                        break;
                }
            }

            try
            {
                var flushed = await writer.FlushAsync().ConfigureAwait(false);
                if (flushed.IsCompleted || flushed.IsCanceled)
                {
                    return ForwarderError.ResponseBodyClient;
                }
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException or OperationCanceledException)
            {
                return ForwarderError.ResponseBodyClient;
            }

            connection.Start = connection.End = 0;
            int read;
            try
            {
                read = await connection.ReceiveAsync(Http1ResponseHead.MaxHeadLength).ConfigureAwait(false);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException or IOException)
            {
                return ForwarderError.ResponseBodyDestination;
            }

            if (read == 0)
            {
                // The end of a body that runs until the close; for any other framing, a premature end.
                return info.Framing == ResponseFraming.UntilClose ? ForwarderError.None : ForwarderError.ResponseBodyDestination;
            }
        }
    }

    /// <summary>Copies into the writer's buffer, asking for room for all of it (Kestrel hands out what is asked for).</summary>
    private static void Copy(PipeWriter writer, ReadOnlySpan<byte> data)
    {
        while (data.Length > 0)
        {
            var span = writer.GetSpan(data.Length);
            var take = Math.Min(span.Length, data.Length);
            data[..take].CopyTo(span);
            writer.Advance(take);
            data = data[take..];
        }
    }

    private static void Finish(Http1ConnectionPool pool, Http1UpstreamConnection connection, bool reusable)
    {
        if (reusable)
        {
            pool.Return(connection);
        }
        else
        {
            pool.Close(connection);
        }
    }

    /// <summary>A connection could not be had: YARP's outcome for the same failure of its connect callback.</summary>
    private static ForwarderError ConnectFailed(HttpContext context, Exception e) => e switch
    {
        UpstreamOverflowException => Fail(context, ForwarderError.Request, e, StatusCodes.Status502BadGateway),
        TimeoutException => Fail(context, ForwarderError.RequestCanceled, new TaskCanceledException("the connect timeout passed", e), StatusCodes.Status502BadGateway),
        OperationCanceledException => Fail(context, ForwarderError.RequestCanceled, e, context.RequestAborted.IsCancellationRequested ? StatusCodes.Status400BadRequest : StatusCodes.Status502BadGateway),
        _ => Fail(context, ForwarderError.Request, new HttpRequestException(HttpRequestError.ConnectionError, e.Message, e), StatusCodes.Status502BadGateway),
    };

    private static ForwarderError Fail(HttpContext context, ForwarderError error, Exception exception, int status)
    {
        SetError(context, error, exception);
        if (!context.Response.HasStarted)
        {
            context.Response.StatusCode = status;
        }

        return error;
    }

    private static void SetError(HttpContext context, ForwarderError error, Exception exception) =>
        context.Features.Set<IForwarderErrorFeature>(new ForwardingError(error, exception));

    /// <summary>A path of only the characters YARP passes unescaped, and a query with no character <c>Uri</c> would change.</summary>
    private static bool PlainTarget(string? path, string? query) =>
        !string.IsNullOrEmpty(path)
        && !path.AsSpan().ContainsAnyExcept(PathCharacters)
        && (string.IsNullOrEmpty(query) || !query.AsSpan(1).ContainsAnyExcept(QueryCharacters));

    // YARP's RequestUtilities.s_validPathChars.
    private static readonly SearchValues<char> PathCharacters =
        SearchValues.Create("!$&'()*+,-./0123456789:;=@ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz~");

    // RFC 3986 query characters, without '%' (an escape Uri might re-case or re-escape goes to YARP).
    private static readonly SearchValues<char> QueryCharacters =
        SearchValues.Create("!$&'()*+,-./0123456789:;=?@ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz~");

    /// <summary>The error of a forwarding attempt, as YARP reports it.</summary>
    private sealed class ForwardingError(ForwarderError error, Exception exception) : IForwarderErrorFeature
    {
        public ForwarderError Error { get; } = error;

        public Exception? Exception { get; } = exception;
    }
}

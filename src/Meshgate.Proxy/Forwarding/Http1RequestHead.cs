using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace Meshgate.Proxy.Forwarding;

/// <summary>
/// Writes the request head a forwarded HTTP/1.1 request goes upstream with, as bytes, straight from Kestrel's request:
/// the request line, Host (the route's rewrite or the client's), the client's headers less YARP's hop-by-hop and proxy
/// list, and Envoy's own: <c>x-forwarded-for</c> with the client appended, <c>x-request-id</c> when absent,
/// <c>x-envoy-attempt-count</c>. The same headers, in the same form, as <see cref="ForwardingTransformer"/> gives YARP.
/// </summary>
internal static class Http1RequestHead
{
    private static readonly string[] AttemptCounts = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10"];

    /// <summary>
    /// Writes the head into <paramref name="buffer"/>; returns its length, or -1 when the buffer is too small (call again
    /// with a larger one). <paramref name="requestId"/> is the id generated for a request without one (kept across calls).
    /// </summary>
    public static int Write(Span<byte> buffer, HttpContext context, string host, string? client, int attempt, ref string? requestId)
    {
        var request = context.Request;
        var head = new Writer(buffer);
        head.Put(request.Method);
        head.Put(" "u8);
        head.Put(request.Path.Value.AsSpan());
        head.Put(request.QueryString.Value.AsSpan());
        head.Put(" HTTP/1.1\r\nHost: "u8);
        head.Put(host);
        head.Put("\r\n"u8);

        var hasRequestId = false;
        StringValues forwardedFor = default;
        foreach (var header in request.Headers)
        {
            var name = header.Key;
            switch (Classify(name))
            {
                case RequestHeader.Dropped:
                    continue;
                case RequestHeader.ForwardedFor:
                    forwardedFor = header.Value;
                    continue;
                case RequestHeader.RequestId:
                    hasRequestId = true;
                    break;
            }

            // Kestrel refuses a request whose header values hold a line break, so none can split a header here.
            var values = header.Value;
            if (values.Count == 0)
            {
                continue;
            }

            head.Put(name);
            head.Put(": "u8);
            head.Put(values, values.Count > 1 ? Separator(name) : default);
            head.Put("\r\n"u8);
        }

        if (client is not null)
        {
            // ForwardingTransformer's "{existing}, {client}", the existing values joined as StringValues.ToString does.
            head.Put("x-forwarded-for: "u8);
            if (forwardedFor.Count > 0)
            {
                head.Put(forwardedFor, ","u8);
                head.Put(", "u8);
            }

            head.Put(client);
            head.Put("\r\n"u8);
        }
        else if (forwardedFor.Count > 0)
        {
            head.Put("x-forwarded-for: "u8);
            head.Put(forwardedFor, ", "u8);
            head.Put("\r\n"u8);
        }

        if (!hasRequestId)
        {
            if (requestId is null)
            {
                requestId = RequestIds.NewV4();
                request.Headers["x-request-id"] = requestId; // for the access log
            }

            head.Put("x-request-id: "u8);
            head.Put(requestId);
            head.Put("\r\n"u8);
        }

        head.Put("x-envoy-attempt-count: "u8);
        head.Put(attempt < AttemptCounts.Length ? AttemptCounts[attempt] : attempt.ToString(CultureInfo.InvariantCulture));
        head.Put("\r\n\r\n"u8);
        return head.Length;
    }

    private enum RequestHeader
    {
        Passed,
        Dropped,
        ForwardedFor,
        RequestId,
    }

    // The hop-by-hop list and pseudo-headers, plus the ones this writer sets itself: Host, x-forwarded-for (rewritten),
    // x-envoy-attempt-count (Envoy's own, never the client's).
    private static RequestHeader Classify(string name) =>
        name.StartsWith(':') || HopByHopHeaders.Contains(name) || name.Equals("Host", StringComparison.OrdinalIgnoreCase)
            || name.Equals("x-envoy-attempt-count", StringComparison.OrdinalIgnoreCase) ? RequestHeader.Dropped
        : name.Equals("x-forwarded-for", StringComparison.OrdinalIgnoreCase) ? RequestHeader.ForwardedFor
        : name.Equals("x-request-id", StringComparison.OrdinalIgnoreCase) ? RequestHeader.RequestId
        : RequestHeader.Passed;

    // How HttpClient joins several values of one header on one line.
    private static ReadOnlySpan<byte> Separator(string name) =>
        name.Equals("Cookie", StringComparison.OrdinalIgnoreCase) ? "; "u8
        : name.Equals("User-Agent", StringComparison.OrdinalIgnoreCase) ? " "u8
        : ", "u8;

    /// <summary>Appends to a fixed buffer; once something does not fit, it writes nothing more and reports -1.</summary>
    private ref struct Writer(Span<byte> buffer)
    {
        private readonly Span<byte> _buffer = buffer;
        private int _length;
        private bool _overflow;

        public readonly int Length => _overflow ? -1 : _length;

        public void Put(ReadOnlySpan<byte> bytes)
        {
            if (_overflow || bytes.Length > _buffer.Length - _length)
            {
                _overflow = true;
                return;
            }

            bytes.CopyTo(_buffer[_length..]);
            _length += bytes.Length;
        }

        public void Put(ReadOnlySpan<char> text)
        {
            if (_overflow || text.Length > _buffer.Length - _length)
            {
                _overflow = true;
                return;
            }

            // Kestrel lets only ASCII into request heads (and the path is checked plain): one byte per character.
            _length += Encoding.Latin1.GetBytes(text, _buffer[_length..]);
        }

        public void Put(string? text) => Put(text.AsSpan());

        /// <summary>The values of one header on one line, <paramref name="separator"/> between them.</summary>
        public void Put(StringValues values, ReadOnlySpan<byte> separator)
        {
            for (var i = 0; i < values.Count; i++)
            {
                if (i > 0)
                {
                    Put(separator);
                }

                Put(values[i]);
            }
        }
    }
}

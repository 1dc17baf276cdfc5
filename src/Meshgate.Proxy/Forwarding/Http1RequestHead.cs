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
            switch (Skip(name))
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

            var values = header.Value;
            if (values.Count == 0 || HasNewLine(values))
            {
                continue; // YARP drops a value with a line break rather than send a split header
            }

            head.Put(name);
            head.Put(": "u8);
            var separator = Separator(name);
            for (var i = 0; i < values.Count; i++)
            {
                if (i > 0)
                {
                    head.Put(separator);
                }

                head.Put(values[i]);
            }

            head.Put("\r\n"u8);
        }

        if (client is not null)
        {
            head.Put("x-forwarded-for: "u8);
            for (var i = 0; i < forwardedFor.Count; i++)
            {
                head.Put(forwardedFor[i]);
                head.Put(i + 1 < forwardedFor.Count ? ","u8 : ", "u8); // StringValues.ToString joins with ","
            }

            head.Put(client);
            head.Put("\r\n"u8);
        }
        else if (forwardedFor.Count > 0 && !HasNewLine(forwardedFor))
        {
            head.Put("x-forwarded-for: "u8);
            for (var i = 0; i < forwardedFor.Count; i++)
            {
                head.Put(i > 0 ? ", "u8 : default);
                head.Put(forwardedFor[i]);
            }

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

    // YARP's RequestUtilities._headersToExclude and pseudo-headers, plus the ones this writer sets itself: Host,
    // x-forwarded-for (rewritten), x-envoy-attempt-count (Envoy's own, never the client's).
    private static RequestHeader Skip(string name) => name.Length switch
    {
        _ when name.StartsWith(':') => RequestHeader.Dropped,
        2 when name.Equals("TE", StringComparison.OrdinalIgnoreCase) => RequestHeader.Dropped,
        4 when name.Equals("Host", StringComparison.OrdinalIgnoreCase) || name.Equals("ALPN", StringComparison.OrdinalIgnoreCase) => RequestHeader.Dropped,
        5 when name.Equals("Close", StringComparison.OrdinalIgnoreCase) => RequestHeader.Dropped,
        7 when name.Equals("Upgrade", StringComparison.OrdinalIgnoreCase) || name.Equals("Alt-Svc", StringComparison.OrdinalIgnoreCase) => RequestHeader.Dropped,
        10 when name.Equals("Connection", StringComparison.OrdinalIgnoreCase) || name.Equals("Keep-Alive", StringComparison.OrdinalIgnoreCase) => RequestHeader.Dropped,
        12 when name.Equals("x-request-id", StringComparison.OrdinalIgnoreCase) => RequestHeader.RequestId,
        14 when name.Equals("Proxy-Features", StringComparison.OrdinalIgnoreCase) || name.Equals("HTTP2-Settings", StringComparison.OrdinalIgnoreCase) => RequestHeader.Dropped,
        15 when name.Equals("x-forwarded-for", StringComparison.OrdinalIgnoreCase) => RequestHeader.ForwardedFor,
        15 when name.Equals("Security-Scheme", StringComparison.OrdinalIgnoreCase) => RequestHeader.Dropped,
        16 when name.Equals("Proxy-Connection", StringComparison.OrdinalIgnoreCase) => RequestHeader.Dropped,
        17 when name.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase) || name.Equals("Proxy-Instruction", StringComparison.OrdinalIgnoreCase) => RequestHeader.Dropped,
        18 when name.Equals("Proxy-Authenticate", StringComparison.OrdinalIgnoreCase) => RequestHeader.Dropped,
        19 when name.Equals("Proxy-Authorization", StringComparison.OrdinalIgnoreCase) => RequestHeader.Dropped,
        21 when name.Equals("x-envoy-attempt-count", StringComparison.OrdinalIgnoreCase) => RequestHeader.Dropped,
        25 when name.Equals("Proxy-Authentication-Info", StringComparison.OrdinalIgnoreCase) || name.Equals("Upgrade-Insecure-Requests", StringComparison.OrdinalIgnoreCase) => RequestHeader.Dropped,
        _ => RequestHeader.Passed,
    };

    // How HttpClient joins several values of one header on one line.
    private static ReadOnlySpan<byte> Separator(string name) =>
        name.Equals("Cookie", StringComparison.OrdinalIgnoreCase) ? "; "u8
        : name.Equals("User-Agent", StringComparison.OrdinalIgnoreCase) ? " "u8
        : ", "u8;

    private static bool HasNewLine(StringValues values)
    {
        for (var i = 0; i < values.Count; i++)
        {
            if (values[i].AsSpan().ContainsAny('\r', '\n'))
            {
                return true;
            }
        }

        return false;
    }

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
    }
}

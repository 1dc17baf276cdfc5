using System.Text;
using Meshgate.Proxy.Upstream;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.WebUtilities;

namespace Meshgate.Proxy.Forwarding;

/// <summary>How an upstream response's body is delimited (RFC 9112 §6.3).</summary>
internal enum ResponseFraming
{
    /// <summary>No body: a HEAD request, 1xx, 204, 304, or Content-Length 0.</summary>
    None,

    /// <summary><c>Content-Length</c> bytes.</summary>
    Length,

    /// <summary><c>Transfer-Encoding: chunked</c>.</summary>
    Chunked,

    /// <summary>Neither: the body runs until the upstream closes the connection.</summary>
    UntilClose,
}

/// <summary>What was wrong with an upstream response head.</summary>
internal enum ResponseHeadError
{
    None,

    /// <summary>Not HTTP/1.x framing (bad status line, header syntax, a length that is no number): as a reset before headers.</summary>
    Malformed,

    /// <summary>
    /// Well framed, but headers the client cannot be sent (a control character or a byte beyond ASCII, which Kestrel
    /// refuses to write; two different Content-Lengths): YARP's <c>ResponseHeaders</c> error, 502.
    /// </summary>
    Unsendable,
}

/// <summary>
/// Reads an upstream's HTTP/1.x response head (RFC 9112 §4–§6) straight into the downstream response: status, reason
/// phrase when it is not the standard one (the downstream is HTTP/1.x, as YARP sets it only there), and the headers a
/// proxy passes on — exactly the ones YARP passes on (<see cref="HopByHopHeaders"/> are dropped), so both forwarding
/// paths answer alike.
/// Hand-written because nothing in the framework parses an HTTP/1.1 response outside SocketsHttpHandler, whose
/// request and response objects are the cost this path removes.
/// </summary>
internal static class Http1ResponseHead
{
    /// <summary>SocketsHttpHandler's default <c>MaxResponseHeadersLength</c>: 64 KiB.</summary>
    public const int MaxHeadLength = 64 * 1024;

    /// <summary>The offset just past the head's blank line in <paramref name="data"/>; -1 when the head is not all there yet.</summary>
    public static int FindEnd(ReadOnlySpan<byte> data)
    {
        var position = 0;
        while (true)
        {
            var newline = data[position..].IndexOf((byte)'\n');
            if (newline < 0)
            {
                return -1;
            }

            var lineLength = newline > 0 && data[position + newline - 1] == '\r' ? newline - 1 : newline;
            position += newline + 1;
            if (lineLength == 0)
            {
                return position;
            }
        }
    }

    /// <summary>The status code of a complete head, or -1 when its status line is malformed.</summary>
    public static int Status(ReadOnlySpan<byte> head)
    {
        // "HTTP/1.x SSS" at least.
        if (head.Length < 12 || !head.StartsWith("HTTP/1."u8) || !char.IsAsciiDigit((char)head[7]) || head[8] != ' ')
        {
            return -1;
        }

        var d0 = head[9] - '0';
        var d1 = head[10] - '0';
        var d2 = head[11] - '0';
        if ((uint)d0 > 9 || (uint)d1 > 9 || (uint)d2 > 9 || d0 == 0)
        {
            return -1;
        }

        return (d0 * 100) + (d1 * 10) + d2;
    }

    /// <summary>
    /// Applies a complete head (one <see cref="FindEnd"/> found, not interim 1xx) to the response of <paramref name="context"/>.
    /// </summary>
    public static ResponseHeadError Apply(
        ReadOnlySpan<byte> head,
        bool headRequest,
        HttpContext context,
        ResponseHeaderStrings strings,
        out Http1ResponseInfo info)
    {
        info = default;
        var status = Status(head);
        if (status < 0)
        {
            return ResponseHeadError.Malformed;
        }

        var response = context.Response;
        info.Status = status;
        info.KeepAlive = head[7] == '1'; // HTTP/1.0 responses close the connection
        var statusLineEnd = head.IndexOf((byte)'\n');
        var statusLine = Line(head[..statusLineEnd]);
        if (statusLine.Length > 12 && statusLine[12] != ' ')
        {
            return ResponseHeadError.Malformed;
        }

        response.StatusCode = status;
        var reason = statusLine.Length > 13 ? statusLine[13..] : [];
        if (!SameText(reason, ReasonPhrases.GetReasonPhrase(status)))
        {
            if (!Sendable(reason))
            {
                return ResponseHeadError.Unsendable;
            }

            context.Features.GetRequiredFeature<IHttpResponseFeature>().ReasonPhrase = Encoding.ASCII.GetString(reason);
        }

        long contentLength = -1;
        var chunked = false;
        var transferEncoding = false;
        var headers = response.Headers;
        var position = statusLineEnd + 1;
        var index = 0;
        while (position < head.Length)
        {
            var newline = head[position..].IndexOf((byte)'\n');
            var line = Line(head.Slice(position, newline));
            position += newline + 1;
            if (line.Length == 0)
            {
                break;
            }

            var colon = line.IndexOf((byte)':');
            if (colon <= 0 || !Token(line[..colon]))
            {
                return ResponseHeadError.Malformed; // also an obs-fold line, which starts with a space (RFC 9112 §5.2)
            }

            var valueStart = colon + 1;
            var valueEnd = line.Length;
            while (valueStart < valueEnd && line[valueStart] is (byte)' ' or (byte)'\t')
            {
                valueStart++;
            }

            while (valueEnd > valueStart && line[valueEnd - 1] is (byte)' ' or (byte)'\t')
            {
                valueEnd--;
            }

            var name = line[..colon];
            var value = line[valueStart..valueEnd];
            if (!Sendable(value))
            {
                return ResponseHeadError.Unsendable;
            }

            switch (Hop(name))
            {
                case HopHeader.ContentLength:
                    if (!TryLength(value, out var length))
                    {
                        return ResponseHeadError.Malformed;
                    }

                    if (contentLength >= 0 && contentLength != length)
                    {
                        return ResponseHeadError.Unsendable; // YARP passes both on and Kestrel refuses them: 502
                    }

                    contentLength = length;
                    continue;
                case HopHeader.TransferEncoding:
                    transferEncoding = true;
                    chunked = EndsWithChunked(value);
                    continue;
                case HopHeader.Connection:
                    if (HasToken(value, "close"u8))
                    {
                        info.KeepAlive = false;
                    }
                    else if (HasToken(value, "keep-alive"u8))
                    {
                        info.KeepAlive = true;
                    }

                    continue;
                case HopHeader.Dropped:
                    continue;
            }

            var (nameText, valueText) = strings.Get(index++, line, colon, valueStart, valueEnd);
            if (!headers.TryAdd(nameText, valueText))
            {
                headers.Append(nameText, valueText);
            }

            if (info.GrpcStatus is null && name.Length == 11 && Ascii.EqualsIgnoreCase(name, "grpc-status"u8))
            {
                info.GrpcStatus = valueText;
            }
        }

        // RFC 9112 §6.3: no body for HEAD, 1xx, 204 and 304; Transfer-Encoding overrides Content-Length (which is then not
        // passed on, as YARP does); a final coding other than chunked, or no length at all, reads until the close.
        var bodiless = headRequest || status is 204 or 304;
        if (transferEncoding)
        {
            info.Framing = bodiless ? ResponseFraming.None : chunked ? ResponseFraming.Chunked : ResponseFraming.UntilClose;
        }
        else if (contentLength >= 0)
        {
            if (!(contentLength == 0 && status is 204 or 304))
            {
                response.ContentLength = contentLength; // YARP drops only a "Content-Length: 0" of a bodiless status
            }

            info.Length = contentLength;
            info.Framing = bodiless || contentLength == 0 ? ResponseFraming.None : ResponseFraming.Length;
        }
        else
        {
            info.Framing = bodiless ? ResponseFraming.None : ResponseFraming.UntilClose;
        }

        if (info.Framing == ResponseFraming.UntilClose)
        {
            info.KeepAlive = false;
        }

        return ResponseHeadError.None;
    }

    private enum HopHeader
    {
        None,
        ContentLength,
        TransferEncoding,
        Connection,
        Dropped,
    }

    // The framing headers this parser reads itself, then the hop-by-hop list (dropped, as YARP drops it).
    private static HopHeader Hop(ReadOnlySpan<byte> name) =>
        Ascii.EqualsIgnoreCase(name, "Content-Length"u8) ? HopHeader.ContentLength
        : Ascii.EqualsIgnoreCase(name, "Transfer-Encoding"u8) ? HopHeader.TransferEncoding
        : Ascii.EqualsIgnoreCase(name, "Connection"u8) ? HopHeader.Connection
        : HopByHopHeaders.Contains(name) ? HopHeader.Dropped
        : HopHeader.None;

    private static ReadOnlySpan<byte> Line(ReadOnlySpan<byte> line) => line.Length > 0 && line[^1] == '\r' ? line[..^1] : line;

    private static bool SameText(ReadOnlySpan<byte> bytes, string text)
    {
        if (bytes.Length != text.Length)
        {
            return false;
        }

        for (var i = 0; i < bytes.Length; i++)
        {
            if (bytes[i] != text[i])
            {
                return false;
            }
        }

        return true;
    }

    // RFC 9110 §5.6.2 token characters.
    private static bool Token(ReadOnlySpan<byte> name)
    {
        foreach (var b in name)
        {
            if (b <= 32 || b >= 127 || b is (byte)'(' or (byte)')' or (byte)',' or (byte)'/' or (byte)':' or (byte)';' or (byte)'<' or (byte)'='
                or (byte)'>' or (byte)'?' or (byte)'@' or (byte)'[' or (byte)'\\' or (byte)']' or (byte)'{' or (byte)'}' or (byte)'"')
            {
                return false;
            }
        }

        return true;
    }

    // What Kestrel writes in a header value: visible ASCII, space and tab.
    private static bool Sendable(ReadOnlySpan<byte> value)
    {
        foreach (var b in value)
        {
            if ((b < 32 && b != '\t') || b >= 127)
            {
                return false;
            }
        }

        return true;
    }

    private static bool TryLength(ReadOnlySpan<byte> value, out long length)
    {
        length = 0;
        if (value.Length is 0 or > 18)
        {
            return false;
        }

        foreach (var b in value)
        {
            if (b is < (byte)'0' or > (byte)'9')
            {
                return false;
            }

            length = (length * 10) + (b - '0');
        }

        return true;
    }

    private static bool EndsWithChunked(ReadOnlySpan<byte> value)
    {
        var comma = value.LastIndexOf((byte)',');
        var last = value[(comma + 1)..].Trim(" \t"u8);
        return Ascii.EqualsIgnoreCase(last, "chunked"u8);
    }

    private static bool HasToken(ReadOnlySpan<byte> value, ReadOnlySpan<byte> token)
    {
        foreach (var range in value.Split((byte)','))
        {
            if (Ascii.EqualsIgnoreCase(value[range].Trim(" \t"u8), token))
            {
                return true;
            }
        }

        return false;
    }
}

/// <summary>What the forwarder needs from a response head once it is applied.</summary>
internal struct Http1ResponseInfo
{
    public int Status;

    public ResponseFraming Framing;

    /// <summary>The Content-Length, when <see cref="Framing"/> is <see cref="ResponseFraming.Length"/>.</summary>
    public long Length;

    /// <summary>False when the upstream will close the connection after this response (or its framing needs the close).</summary>
    public bool KeepAlive;

    /// <summary>The <c>grpc-status</c> header, for the retry policy's gRPC conditions.</summary>
    public string? GrpcStatus;
}

using System.Globalization;
using System.Text;

namespace Meshgate.Tests.Listeners;

/// <summary>
/// HTTP/1.1 message parsing for the smuggling tests. Requests are read as RFC 9112 demands of a strict recipient and
/// none of its MAYs: what the proxy forwards must pass this. Responses are read only far enough to count them.
/// </summary>
internal static class SmugglingHttp1
{
    public enum Result
    {
        Incomplete,
        Complete,
        Malformed,
    }

    private const int MaxHead = 256 * 1024;

    /// <summary>
    /// One request from the start of <paramref name="data"/>. Complete: <paramref name="length"/> bytes and
    /// <paramref name="request"/> as <c>METHOD target host=H body=B</c>; Malformed: <paramref name="request"/> says why.
    /// </summary>
    public static Result TryParseRequest(ReadOnlySpan<byte> data, out int length, out string request)
    {
        length = 0;
        request = "";
        var headEnd = data.IndexOf("\r\n\r\n"u8);
        var head = headEnd < 0 ? data : data[..(headEnd + 2)];
        if (Bare(head) is { } bare)
        {
            request = bare + " in the head";
            return Result.Malformed;
        }

        if (headEnd < 0)
        {
            request = "head too long";
            return data.Length > MaxHead ? Result.Malformed : Result.Incomplete;
        }

        var lines = Encoding.Latin1.GetString(data[..headEnd]).Split("\r\n");
        var parts = lines[0].Split(' ');
        if (parts.Length != 3 || !IsToken(parts[0]) || parts[1].Length == 0 || parts[1].Any(c => c <= ' ' || c >= 0x7f) || parts[2] != "HTTP/1.1")
        {
            request = "bad request line \"" + lines[0] + "\"";
            return Result.Malformed;
        }

        var hosts = new List<string>();
        var probe = "";
        var lengths = new List<string>();
        var codings = new List<string>();
        foreach (var line in lines.Skip(1))
        {
            if (!TryField(line, out var name, out var value))
            {
                request = "bad field line \"" + line + "\"";
                return Result.Malformed;
            }

            switch (name.ToLowerInvariant())
            {
                case "host":
                    hosts.Add(value);
                    break;
                case "content-length":
                    lengths.Add(value);
                    break;
                case "transfer-encoding":
                    codings.Add(value);
                    break;
                case "x-probe":
                    probe = " x-probe=" + Escape(Encoding.Latin1.GetBytes(value));
                    break;
            }
        }

        if (hosts.Count != 1)
        {
            request = $"{hosts.Count} Host fields";
            return Result.Malformed;
        }

        if (lengths.Count + codings.Count > 1)
        {
            request = $"framing by {lengths.Count} Content-Length and {codings.Count} Transfer-Encoding fields";
            return Result.Malformed;
        }

        var bodyStart = headEnd + 4;
        string body;
        if (lengths.Count == 1)
        {
            if (lengths[0].Length is 0 or > 12 || !lengths[0].All(char.IsAsciiDigit))
            {
                request = "Content-Length \"" + lengths[0] + "\"";
                return Result.Malformed;
            }

            var size = int.Parse(lengths[0], CultureInfo.InvariantCulture);
            if (data.Length < bodyStart + size)
            {
                return Result.Incomplete;
            }

            body = Escape(data.Slice(bodyStart, size));
            length = bodyStart + size;
        }
        else if (codings.Count == 1)
        {
            if (!codings[0].Equals("chunked", StringComparison.OrdinalIgnoreCase))
            {
                request = "Transfer-Encoding \"" + codings[0] + "\"";
                return Result.Malformed;
            }

            var chunked = TryChunked(data[bodyStart..], out var used, out body, out var why);
            if (chunked != Result.Complete)
            {
                request = why;
                return chunked;
            }

            length = bodyStart + used;
        }
        else
        {
            body = "";
            length = bodyStart;
        }

        request = $"{parts[0]} {parts[1]} host={hosts[0]}{probe} body={body}";
        return Result.Complete;
    }

    /// <summary>
    /// One response from the start of <paramref name="data"/>: its status and length, or false while incomplete (a
    /// response framed by the end of the connection is complete once <paramref name="ended"/>) or not HTTP/1.x.
    /// </summary>
    public static bool TryParseResponse(ReadOnlySpan<byte> data, bool ended, out int length, out int status)
    {
        length = 0;
        status = 0;
        var headEnd = data.IndexOf("\r\n\r\n"u8);
        if (headEnd < 0 || !data.StartsWith("HTTP/1."u8) || data.Length < 12
            || !int.TryParse(data.Slice(9, 3), NumberStyles.None, CultureInfo.InvariantCulture, out status))
        {
            return false;
        }

        var lines = Encoding.Latin1.GetString(data[..headEnd]).Split("\r\n");
        var contentLength = -1;
        var chunked = false;
        foreach (var line in lines.Skip(1))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            var name = colon < 0 ? line : line[..colon];
            var value = colon < 0 ? "" : line[(colon + 1)..].Trim();
            if (name.Equals("content-length", StringComparison.OrdinalIgnoreCase))
            {
                contentLength = int.Parse(value, CultureInfo.InvariantCulture);
            }
            else if (name.Equals("transfer-encoding", StringComparison.OrdinalIgnoreCase))
            {
                chunked = value.EndsWith("chunked", StringComparison.OrdinalIgnoreCase);
            }
        }

        var bodyStart = headEnd + 4;
        if (status is (>= 100 and < 200) or 204 or 304)
        {
            length = bodyStart;
            return true;
        }

        if (chunked)
        {
            var complete = TryChunked(data[bodyStart..], out var used, out _, out _) == Result.Complete;
            length = bodyStart + used;
            return complete;
        }

        if (contentLength >= 0)
        {
            length = bodyStart + contentLength;
            return data.Length >= length;
        }

        length = data.Length;
        return ended;
    }

    public static string Escape(ReadOnlySpan<byte> bytes)
    {
        var text = new StringBuilder();
        foreach (var b in bytes)
        {
            text.Append(b switch
            {
                (byte)'\r' => "\\r",
                (byte)'\n' => "\\n",
                (byte)'\t' => "\\t",
                (byte)'\\' => "\\\\",
                < 0x20 or >= 0x7f => $"\\x{b:x2}",
                _ => ((char)b).ToString(),
            });
        }

        return text.ToString();
    }

    /// <summary>RFC 9112 §7.1 chunked body: <c>1*HEXDIG CRLF data CRLF</c> ... <c>0 CRLF *(field CRLF) CRLF</c>, no extensions.</summary>
    private static Result TryChunked(ReadOnlySpan<byte> data, out int used, out string body, out string why)
    {
        used = 0;
        body = "";
        why = "";
        var decoded = new List<byte>();
        var at = 0;
        while (true)
        {
            var end = data[at..].IndexOf("\r\n"u8);
            if (Bare(end < 0 ? data[at..] : data.Slice(at, end + 2)) is { } bare)
            {
                why = bare + " in a chunk-size line";
                return Result.Malformed;
            }

            if (end < 0)
            {
                return Result.Incomplete;
            }

            var sizeLine = data.Slice(at, end);
            if (sizeLine.Length is 0 or > 8 || sizeLine.ContainsAnyExcept("0123456789abcdefABCDEF"u8))
            {
                why = "chunk-size line \"" + Escape(sizeLine) + "\"";
                return Result.Malformed;
            }

            var size = int.Parse(sizeLine, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
            at += end + 2;
            if (size == 0)
            {
                break;
            }

            if (data.Length < at + size + 2)
            {
                return Result.Incomplete;
            }

            if (!data.Slice(at + size, 2).SequenceEqual("\r\n"u8))
            {
                why = "chunk data not followed by CRLF";
                return Result.Malformed;
            }

            decoded.AddRange(data.Slice(at, size));
            at += size + 2;
        }

        while (true)
        {
            // Trailer section: fields until an empty line.
            var end = data[at..].IndexOf("\r\n"u8);
            if (Bare(end < 0 ? data[at..] : data.Slice(at, end + 2)) is { } bare)
            {
                why = bare + " in the trailer section";
                return Result.Malformed;
            }

            if (end < 0)
            {
                return Result.Incomplete;
            }

            var line = Encoding.Latin1.GetString(data.Slice(at, end));
            at += end + 2;
            if (line.Length == 0)
            {
                break;
            }

            if (!TryField(line, out _, out _))
            {
                why = "bad trailer line \"" + line + "\"";
                return Result.Malformed;
            }
        }

        used = at;
        body = Escape([.. decoded]);
        return Result.Complete;
    }

    /// <summary>
    /// RFC 9112 §5: <c>field-name ":" OWS field-value OWS</c>, a token name, no obs-fold. In the value NUL, CR and LF are
    /// refused (RFC 9110 §5.5: a recipient MUST reject or replace them); other CTLs a recipient MAY pass on, so they pass.
    /// </summary>
    private static bool TryField(string line, out string name, out string value)
    {
        var colon = line.IndexOf(':', StringComparison.Ordinal);
        name = colon < 0 ? "" : line[..colon];
        value = colon < 0 ? "" : line[(colon + 1)..].Trim(' ', '\t');
        return colon > 0 && IsToken(name) && !value.Any(c => c is '\0' or '\r' or '\n');
    }

    private static bool IsToken(string text) =>
        text.Length > 0 && text.All(c => char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c, StringComparison.Ordinal));

    /// <summary>A CR not followed by LF or an LF not preceded by CR (RFC 9112 §2.2), or null.</summary>
    private static string? Bare(ReadOnlySpan<byte> text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == '\n' && (i == 0 || text[i - 1] != '\r'))
            {
                return "a bare LF";
            }

            if (text[i] == '\r' && i + 1 < text.Length && text[i + 1] != '\n')
            {
                return "a bare CR";
            }
        }

        return null;
    }
}

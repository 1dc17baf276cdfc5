using System.Buffers;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Meshgate.Proxy.Observability;

/// <summary>Field encodings shared by the TEXT and JSON formatters, written as UTF-8 straight into spans.</summary>
internal static class AccessLogFields
{
    /// <summary><c>2019-09-03T20:57:49.103Z</c>.</summary>
    public const int TimestampLength = 24;

    /// <summary>Longest <c>[ipv6%scope]:port</c>, with room to spare.</summary>
    public const int MaxEndPointLength = 128;

    /// <summary>Longest decimal long.</summary>
    public const int MaxInt64Length = 20;

    // Envoy's StringUtil::WhitespaceChars, which replaceAllEmptySpace turns into '_'.
    private static readonly SearchValues<char> s_whitespace = SearchValues.Create(" \t\f\v\n\r");

    public static bool IsAbsent(string? value) => string.IsNullOrEmpty(value);

    /// <summary>
    /// Envoy prints %START_TIME% with its default <c>%Y-%m-%dT%H:%M:%E3SZ</c> in UTC; milliseconds are truncated.
    /// </summary>
    public static int WriteTimestamp(DateTimeOffset time, Span<byte> destination)
    {
        var utc = time.UtcDateTime;
        WriteDigits(destination[..4], utc.Year);
        destination[4] = (byte)'-';
        WriteDigits(destination.Slice(5, 2), utc.Month);
        destination[7] = (byte)'-';
        WriteDigits(destination.Slice(8, 2), utc.Day);
        destination[10] = (byte)'T';
        WriteDigits(destination.Slice(11, 2), utc.Hour);
        destination[13] = (byte)':';
        WriteDigits(destination.Slice(14, 2), utc.Minute);
        destination[16] = (byte)':';
        WriteDigits(destination.Slice(17, 2), utc.Second);
        destination[19] = (byte)'.';
        WriteDigits(destination.Slice(20, 3), utc.Millisecond);
        destination[23] = (byte)'Z';
        return TimestampLength;
    }

    /// <summary><c>ip:port</c>, IPv6 in brackets as Envoy prints it; IPv4-mapped IPv6 (dual-mode sockets) as plain IPv4.</summary>
    public static int WriteEndPoint(IPEndPoint endPoint, Span<byte> destination)
    {
        var address = endPoint.Address.IsIPv4MappedToIPv6 ? endPoint.Address.MapToIPv4() : endPoint.Address;
        var bracket = address.AddressFamily == AddressFamily.InterNetworkV6;
        var written = 0;
        if (bracket)
        {
            destination[written++] = (byte)'[';
        }

        if (!address.TryFormat(destination[written..], out var length))
        {
            return 0;
        }

        written += length;
        if (bracket)
        {
            destination[written++] = (byte)']';
        }

        destination[written++] = (byte)':';
        endPoint.Port.TryFormat(destination[written..], out length, default, CultureInfo.InvariantCulture);
        return written + length;
    }

    /// <summary>Whole milliseconds, truncated as Envoy's duration_cast does; never negative.</summary>
    public static long Milliseconds(TimeSpan duration) => Math.Max(0L, duration.Ticks / TimeSpan.TicksPerMillisecond);

    /// <summary>
    /// Details fields are single tokens in the TEXT line: Envoy replaces whitespace with '_'
    /// (StringUtil::replaceAllEmptySpace). Allocates only when there is whitespace to replace.
    /// </summary>
    public static string? Sanitize(string? value)
    {
        if (value is null || value.AsSpan().IndexOfAny(s_whitespace) < 0)
        {
            return value;
        }

        return string.Create(value.Length, value, static (span, source) =>
        {
            source.AsSpan().CopyTo(span);
            int index;
            while ((index = span.IndexOfAny(s_whitespace)) >= 0)
            {
                span[index] = '_';
                span = span[(index + 1)..];
            }
        });
    }

    public static ReadOnlySpan<byte> ProtocolName(AccessLogProtocol protocol) => protocol switch
    {
        AccessLogProtocol.Http10 => "HTTP/1.0"u8,
        AccessLogProtocol.Http11 => "HTTP/1.1"u8,
        AccessLogProtocol.Http2 => "HTTP/2"u8,
        AccessLogProtocol.Http3 => "HTTP/3"u8,
        _ => default,
    };

    private static void WriteDigits(Span<byte> destination, int value)
    {
        for (var i = destination.Length - 1; i >= 0; i--)
        {
            destination[i] = (byte)('0' + (value % 10));
            value /= 10;
        }
    }
}

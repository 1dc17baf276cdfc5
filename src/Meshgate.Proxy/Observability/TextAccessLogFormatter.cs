using System.Buffers;
using System.Globalization;
using System.Net;
using System.Text;

namespace Meshgate.Proxy.Observability;

/// <summary>
/// Istio's default TEXT format (pilot/pkg/model/telemetry_logging.go EnvoyTextLogFormat, "Istio 1.9 onwards"):
/// <code>
/// [%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE% %RESPONSE_FLAGS%
/// %RESPONSE_CODE_DETAILS% %CONNECTION_TERMINATION_DETAILS% "%UPSTREAM_TRANSPORT_FAILURE_REASON%" %BYTES_RECEIVED%
/// %BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%"
/// "%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%" %UPSTREAM_CLUSTER% %UPSTREAM_LOCAL_ADDRESS%
/// %DOWNSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_REMOTE_ADDRESS% %REQUESTED_SERVER_NAME% %ROUTE_NAME%\n
/// </code>
/// on one line. Absent values print '-' (Envoy's placeholder), inside the quotes for quoted fields.
/// Like Envoy, quoted values are written as they are, without escaping.
/// </summary>
public sealed class TextAccessLogFormatter : AccessLogFormatter
{
    public override void Write(in AccessLogEntry entry, IBufferWriter<byte> output)
    {
        // [timestamp] "
        var span = output.GetSpan(AccessLogFields.TimestampLength + 4);
        span[0] = (byte)'[';
        var written = 1 + AccessLogFields.WriteTimestamp(entry.StartTime, span[1..]);
        "] \""u8.CopyTo(span[written..]);
        output.Advance(written + 3);

        WriteString(output, entry.Method);
        WriteByte(output, (byte)' ');
        WriteString(output, entry.Path);
        WriteByte(output, (byte)' ');
        var protocol = AccessLogFields.ProtocolName(entry.Protocol);
        WriteBytes(output, protocol.IsEmpty ? "-"u8 : protocol);
        WriteBytes(output, "\" "u8);

        WriteInt64(output, entry.ResponseCode);
        WriteByte(output, (byte)' ');
        span = output.GetSpan(ResponseFlagsFormat.MaxLength);
        output.Advance(ResponseFlagsFormat.Write(entry.ResponseFlags, span));
        WriteByte(output, (byte)' ');
        WriteString(output, AccessLogFields.Sanitize(entry.ResponseCodeDetails));
        WriteByte(output, (byte)' ');
        WriteString(output, AccessLogFields.Sanitize(entry.ConnectionTerminationDetails));
        WriteBytes(output, " \""u8);
        WriteString(output, entry.UpstreamTransportFailureReason);
        WriteBytes(output, "\" "u8);

        WriteInt64(output, entry.BytesReceived);
        WriteByte(output, (byte)' ');
        WriteInt64(output, entry.BytesSent);
        WriteByte(output, (byte)' ');
        WriteInt64(output, AccessLogFields.Milliseconds(entry.Duration));
        WriteByte(output, (byte)' ');
        if (entry.UpstreamServiceTime is { } serviceTime)
        {
            WriteInt64(output, AccessLogFields.Milliseconds(serviceTime));
        }
        else
        {
            WriteByte(output, (byte)'-');
        }

        WriteBytes(output, " \""u8);
        WriteString(output, entry.ForwardedFor);
        WriteBytes(output, "\" \""u8);
        WriteString(output, entry.UserAgent);
        WriteBytes(output, "\" \""u8);
        WriteString(output, entry.RequestId);
        WriteBytes(output, "\" \""u8);
        WriteString(output, entry.Authority);
        WriteBytes(output, "\" \""u8);
        WriteEndPoint(output, entry.UpstreamHost);
        WriteBytes(output, "\" "u8);

        WriteString(output, entry.UpstreamCluster);
        WriteByte(output, (byte)' ');
        WriteEndPoint(output, entry.UpstreamLocalAddress);
        WriteByte(output, (byte)' ');
        WriteEndPoint(output, entry.DownstreamLocalAddress);
        WriteByte(output, (byte)' ');
        WriteEndPoint(output, entry.DownstreamRemoteAddress);
        WriteByte(output, (byte)' ');
        WriteString(output, entry.RequestedServerName);
        WriteByte(output, (byte)' ');
        WriteString(output, entry.RouteName);
        WriteByte(output, (byte)'\n');
    }

    private static void WriteByte(IBufferWriter<byte> output, byte value)
    {
        output.GetSpan(1)[0] = value;
        output.Advance(1);
    }

    private static void WriteBytes(IBufferWriter<byte> output, ReadOnlySpan<byte> value)
    {
        value.CopyTo(output.GetSpan(value.Length));
        output.Advance(value.Length);
    }

    private static void WriteString(IBufferWriter<byte> output, string? value)
    {
        if (AccessLogFields.IsAbsent(value))
        {
            WriteByte(output, (byte)'-');
            return;
        }

        var span = output.GetSpan(Encoding.UTF8.GetMaxByteCount(value!.Length));
        output.Advance(Encoding.UTF8.GetBytes(value, span));
    }

    private static void WriteInt64(IBufferWriter<byte> output, long value)
    {
        var span = output.GetSpan(AccessLogFields.MaxInt64Length);
        value.TryFormat(span, out var written, default, CultureInfo.InvariantCulture);
        output.Advance(written);
    }

    private static void WriteEndPoint(IBufferWriter<byte> output, IPEndPoint? endPoint)
    {
        if (endPoint is null)
        {
            WriteByte(output, (byte)'-');
            return;
        }

        var span = output.GetSpan(AccessLogFields.MaxEndPointLength);
        var written = AccessLogFields.WriteEndPoint(endPoint, span);
        if (written == 0)
        {
            span[0] = (byte)'-';
            written = 1;
        }

        output.Advance(written);
    }
}

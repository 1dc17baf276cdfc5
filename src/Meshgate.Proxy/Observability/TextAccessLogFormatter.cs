using System.Buffers;

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

        TextOutput.WriteString(output, entry.Method);
        TextOutput.WriteByte(output, (byte)' ');
        TextOutput.WriteString(output, entry.Path);
        TextOutput.WriteByte(output, (byte)' ');
        var protocol = AccessLogFields.ProtocolName(entry.Protocol);
        TextOutput.WriteBytes(output, protocol.IsEmpty ? "-"u8 : protocol);
        TextOutput.WriteBytes(output, "\" "u8);

        TextOutput.WriteInt64(output, entry.ResponseCode);
        TextOutput.WriteByte(output, (byte)' ');
        span = output.GetSpan(ResponseFlagsFormat.MaxLength);
        output.Advance(ResponseFlagsFormat.Write(entry.ResponseFlags, span));
        TextOutput.WriteByte(output, (byte)' ');
        TextOutput.WriteString(output, AccessLogFields.Sanitize(entry.ResponseCodeDetails));
        TextOutput.WriteByte(output, (byte)' ');
        TextOutput.WriteString(output, AccessLogFields.Sanitize(entry.ConnectionTerminationDetails));
        TextOutput.WriteBytes(output, " \""u8);
        TextOutput.WriteString(output, entry.UpstreamTransportFailureReason);
        TextOutput.WriteBytes(output, "\" "u8);

        TextOutput.WriteInt64(output, entry.BytesReceived);
        TextOutput.WriteByte(output, (byte)' ');
        TextOutput.WriteInt64(output, entry.BytesSent);
        TextOutput.WriteByte(output, (byte)' ');
        TextOutput.WriteInt64(output, AccessLogFields.Milliseconds(entry.Duration));
        TextOutput.WriteByte(output, (byte)' ');
        if (entry.UpstreamServiceTime is { } serviceTime)
        {
            TextOutput.WriteInt64(output, AccessLogFields.Milliseconds(serviceTime));
        }
        else
        {
            TextOutput.WriteByte(output, (byte)'-');
        }

        TextOutput.WriteBytes(output, " \""u8);
        TextOutput.WriteString(output, entry.ForwardedFor);
        TextOutput.WriteBytes(output, "\" \""u8);
        TextOutput.WriteString(output, entry.UserAgent);
        TextOutput.WriteBytes(output, "\" \""u8);
        TextOutput.WriteString(output, entry.RequestId);
        TextOutput.WriteBytes(output, "\" \""u8);
        TextOutput.WriteString(output, entry.Authority);
        TextOutput.WriteBytes(output, "\" \""u8);
        TextOutput.WriteEndPoint(output, entry.UpstreamHost);
        TextOutput.WriteBytes(output, "\" "u8);

        TextOutput.WriteString(output, entry.UpstreamCluster);
        TextOutput.WriteByte(output, (byte)' ');
        TextOutput.WriteEndPoint(output, entry.UpstreamLocalAddress);
        TextOutput.WriteByte(output, (byte)' ');
        TextOutput.WriteEndPoint(output, entry.DownstreamLocalAddress);
        TextOutput.WriteByte(output, (byte)' ');
        TextOutput.WriteEndPoint(output, entry.DownstreamRemoteAddress);
        TextOutput.WriteByte(output, (byte)' ');
        TextOutput.WriteString(output, entry.RequestedServerName);
        TextOutput.WriteByte(output, (byte)' ');
        TextOutput.WriteString(output, entry.RouteName);
        TextOutput.WriteByte(output, (byte)'\n');
    }
}

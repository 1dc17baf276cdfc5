using System.Buffers;
using System.Text;
using Meshgate.Core.ProxyConfiguration;

namespace Meshgate.Proxy.Observability;

/// <summary>
/// A TEXT line in a custom format (<c>meshConfig.accessLogFormat</c>): the format is compiled once, when the snapshot's
/// access log is opened, into literal bytes and operators (<see cref="AccessLogFormat"/>); a line walks them, each
/// operator printing its field exactly as Istio's default format does (<see cref="TextAccessLogFormatter"/>): absent
/// values as '-', details with whitespace as '_', times in UTC with milliseconds, durations in whole milliseconds.
/// </summary>
public sealed class CustomTextAccessLogFormatter : AccessLogFormatter
{
    private readonly Segment[] _segments;

    // For %REQ(...):N%: the value is written here first, then at most N bytes of it copied (Envoy truncates bytes too).
    private readonly ArrayBufferWriter<byte> _truncating = new(256);

    public CustomTextAccessLogFormatter(AccessLogFormat format)
    {
        ArgumentNullException.ThrowIfNull(format);
        var segments = format.Segments;
        _segments = new Segment[segments.Count];
        for (var i = 0; i < _segments.Length; i++)
        {
            var segment = segments[i];
            _segments[i] = new Segment(
                segment.Operator,
                segment.Text is null ? null : Encoding.UTF8.GetBytes(segment.Text),
                segment.Fallback,
                segment.MaxLength);
        }
    }

    /// <summary>Compiles <paramref name="format"/>; throws <see cref="FormatException"/> naming what cannot be printed.</summary>
    public static CustomTextAccessLogFormatter Compile(string format) => new(AccessLogFormat.Parse(format));

    public override void Write(in AccessLogEntry entry, IBufferWriter<byte> output)
    {
        foreach (var segment in _segments)
        {
            if (segment.Literal is { } literal)
            {
                TextOutput.WriteBytes(output, literal);
                continue;
            }

            var field = segment.Fallback != AccessLogOperator.Literal && AccessLogFields.IsAbsent(RequestHeader(entry, segment.Operator))
                ? segment.Fallback
                : segment.Operator;
            if (segment.MaxLength == 0)
            {
                WriteField(entry, field, output);
                continue;
            }

            _truncating.ResetWrittenCount();
            WriteField(entry, field, _truncating);
            var value = _truncating.WrittenSpan;
            TextOutput.WriteBytes(output, value.Length > segment.MaxLength ? value[..segment.MaxLength] : value);
        }
    }

    private static string? RequestHeader(in AccessLogEntry entry, AccessLogOperator field) => field switch
    {
        AccessLogOperator.Method => entry.Method,
        AccessLogOperator.Path => entry.Path,
        AccessLogOperator.Authority => entry.Authority,
        AccessLogOperator.UserAgent => entry.UserAgent,
        AccessLogOperator.ForwardedFor => entry.ForwardedFor,
        AccessLogOperator.RequestId => entry.RequestId,
        _ => null,
    };

    private static void WriteField(in AccessLogEntry entry, AccessLogOperator field, IBufferWriter<byte> output)
    {
        switch (field)
        {
            case AccessLogOperator.StartTime:
                output.Advance(AccessLogFields.WriteTimestamp(entry.StartTime, output.GetSpan(AccessLogFields.TimestampLength)));
                break;
            case AccessLogOperator.Method or AccessLogOperator.Path or AccessLogOperator.Authority
                or AccessLogOperator.UserAgent or AccessLogOperator.ForwardedFor or AccessLogOperator.RequestId:
                TextOutput.WriteString(output, RequestHeader(entry, field));
                break;
            case AccessLogOperator.Protocol:
                var protocol = AccessLogFields.ProtocolName(entry.Protocol);
                TextOutput.WriteBytes(output, protocol.IsEmpty ? "-"u8 : protocol);
                break;
            case AccessLogOperator.ResponseCode:
                TextOutput.WriteInt64(output, entry.ResponseCode);
                break;
            case AccessLogOperator.ResponseFlags:
                output.Advance(ResponseFlagsFormat.Write(entry.ResponseFlags, output.GetSpan(ResponseFlagsFormat.MaxLength)));
                break;
            case AccessLogOperator.ResponseCodeDetails:
                TextOutput.WriteString(output, AccessLogFields.Sanitize(entry.ResponseCodeDetails));
                break;
            case AccessLogOperator.ConnectionTerminationDetails:
                TextOutput.WriteString(output, AccessLogFields.Sanitize(entry.ConnectionTerminationDetails));
                break;
            case AccessLogOperator.UpstreamTransportFailureReason:
                TextOutput.WriteString(output, entry.UpstreamTransportFailureReason);
                break;
            case AccessLogOperator.BytesReceived:
                TextOutput.WriteInt64(output, entry.BytesReceived);
                break;
            case AccessLogOperator.BytesSent:
                TextOutput.WriteInt64(output, entry.BytesSent);
                break;
            case AccessLogOperator.Duration:
                TextOutput.WriteInt64(output, AccessLogFields.Milliseconds(entry.Duration));
                break;
            case AccessLogOperator.UpstreamServiceTime:
                if (entry.UpstreamServiceTime is { } serviceTime)
                {
                    TextOutput.WriteInt64(output, AccessLogFields.Milliseconds(serviceTime));
                }
                else
                {
                    TextOutput.WriteByte(output, (byte)'-');
                }

                break;
            case AccessLogOperator.UpstreamHost:
                TextOutput.WriteEndPoint(output, entry.UpstreamHost);
                break;
            case AccessLogOperator.UpstreamCluster:
                TextOutput.WriteString(output, entry.UpstreamCluster);
                break;
            case AccessLogOperator.UpstreamLocalAddress:
                TextOutput.WriteEndPoint(output, entry.UpstreamLocalAddress);
                break;
            case AccessLogOperator.DownstreamLocalAddress:
                TextOutput.WriteEndPoint(output, entry.DownstreamLocalAddress);
                break;
            case AccessLogOperator.DownstreamRemoteAddress:
                TextOutput.WriteEndPoint(output, entry.DownstreamRemoteAddress);
                break;
            case AccessLogOperator.RequestedServerName:
                TextOutput.WriteString(output, entry.RequestedServerName);
                break;
            case AccessLogOperator.RouteName:
                TextOutput.WriteString(output, entry.RouteName);
                break;
            case AccessLogOperator.DownstreamPeerUriSan:
                TextOutput.WriteString(output, entry.DownstreamPeerUriSan);
                break;
            case AccessLogOperator.DownstreamLocalUriSan:
                TextOutput.WriteString(output, entry.DownstreamLocalUriSan);
                break;
            case AccessLogOperator.UpstreamPeerUriSan:
                TextOutput.WriteString(output, entry.UpstreamPeerUriSan);
                break;
            default:
                TextOutput.WriteByte(output, (byte)'-'); // AccessLogFormat compiles no other operator
                break;
        }
    }

    /// <summary>A compiled segment: literal UTF-8 bytes, or the field to print.</summary>
    private readonly record struct Segment(AccessLogOperator Operator, byte[]? Literal, AccessLogOperator Fallback, int MaxLength);
}

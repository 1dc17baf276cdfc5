using System.Buffers;
using System.Globalization;
using System.Net;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Meshgate.Proxy.Observability;

/// <summary>
/// meshConfig.accessLogEncoding=JSON: one object per line with Istio's keys (EnvoyJSONLogFormatIstio in
/// pilot/pkg/model/telemetry_logging.go). Types follow Envoy's typed JSON formatter: response_code, bytes_received,
/// bytes_sent and duration are numbers; upstream_service_time is a string because it comes from a response header;
/// response_flags is "-" when none (Envoy's toShortString); absent values are null. A line with a TLS peer identity
/// (%DOWNSTREAM_PEER_URI_SAN%, %DOWNSTREAM_LOCAL_URI_SAN%, %UPSTREAM_PEER_URI_SAN%) adds downstream_peer_uri_san,
/// downstream_local_uri_san and upstream_peer_uri_san, null for those it lacks.
/// </summary>
public sealed class JsonAccessLogFormatter : AccessLogFormatter
{
    private static readonly JsonWriterOptions s_options = new()
    {
        // A log, not HTML: escape what JSON requires, keep '+', '&', '<' and non-ASCII readable as Envoy does.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        SkipValidation = true,
    };

    private static readonly JsonEncodedText s_startTime = JsonEncodedText.Encode("start_time");
    private static readonly JsonEncodedText s_method = JsonEncodedText.Encode("method");
    private static readonly JsonEncodedText s_path = JsonEncodedText.Encode("path");
    private static readonly JsonEncodedText s_protocol = JsonEncodedText.Encode("protocol");
    private static readonly JsonEncodedText s_responseCode = JsonEncodedText.Encode("response_code");
    private static readonly JsonEncodedText s_responseFlags = JsonEncodedText.Encode("response_flags");
    private static readonly JsonEncodedText s_responseCodeDetails = JsonEncodedText.Encode("response_code_details");
    private static readonly JsonEncodedText s_connectionTerminationDetails = JsonEncodedText.Encode("connection_termination_details");
    private static readonly JsonEncodedText s_upstreamTransportFailureReason = JsonEncodedText.Encode("upstream_transport_failure_reason");
    private static readonly JsonEncodedText s_bytesReceived = JsonEncodedText.Encode("bytes_received");
    private static readonly JsonEncodedText s_bytesSent = JsonEncodedText.Encode("bytes_sent");
    private static readonly JsonEncodedText s_duration = JsonEncodedText.Encode("duration");
    private static readonly JsonEncodedText s_upstreamServiceTime = JsonEncodedText.Encode("upstream_service_time");
    private static readonly JsonEncodedText s_forwardedFor = JsonEncodedText.Encode("x_forwarded_for");
    private static readonly JsonEncodedText s_userAgent = JsonEncodedText.Encode("user_agent");
    private static readonly JsonEncodedText s_requestId = JsonEncodedText.Encode("request_id");
    private static readonly JsonEncodedText s_authority = JsonEncodedText.Encode("authority");
    private static readonly JsonEncodedText s_upstreamHost = JsonEncodedText.Encode("upstream_host");
    private static readonly JsonEncodedText s_upstreamCluster = JsonEncodedText.Encode("upstream_cluster");
    private static readonly JsonEncodedText s_upstreamLocalAddress = JsonEncodedText.Encode("upstream_local_address");
    private static readonly JsonEncodedText s_downstreamLocalAddress = JsonEncodedText.Encode("downstream_local_address");
    private static readonly JsonEncodedText s_downstreamRemoteAddress = JsonEncodedText.Encode("downstream_remote_address");
    private static readonly JsonEncodedText s_requestedServerName = JsonEncodedText.Encode("requested_server_name");
    private static readonly JsonEncodedText s_routeName = JsonEncodedText.Encode("route_name");
    private static readonly JsonEncodedText s_downstreamPeerUriSan = JsonEncodedText.Encode("downstream_peer_uri_san");
    private static readonly JsonEncodedText s_downstreamLocalUriSan = JsonEncodedText.Encode("downstream_local_uri_san");
    private static readonly JsonEncodedText s_upstreamPeerUriSan = JsonEncodedText.Encode("upstream_peer_uri_san");

    private Utf8JsonWriter? _json;

    public override void Write(in AccessLogEntry entry, IBufferWriter<byte> output)
    {
        var json = _json;
        if (json is null)
        {
            json = _json = new Utf8JsonWriter(output, s_options);
        }
        else
        {
            json.Reset(output);
        }

        json.WriteStartObject();

        Span<byte> scratch = stackalloc byte[ResponseFlagsFormat.MaxLength];
        json.WriteString(s_startTime, scratch[..AccessLogFields.WriteTimestamp(entry.StartTime, scratch)]);
        WriteString(json, s_method, entry.Method);
        WriteString(json, s_path, entry.Path);
        var protocol = AccessLogFields.ProtocolName(entry.Protocol);
        if (protocol.IsEmpty)
        {
            json.WriteNull(s_protocol);
        }
        else
        {
            json.WriteString(s_protocol, protocol);
        }

        json.WriteNumber(s_responseCode, entry.ResponseCode);
        json.WriteString(s_responseFlags, scratch[..ResponseFlagsFormat.Write(entry.ResponseFlags, scratch)]);
        WriteString(json, s_responseCodeDetails, AccessLogFields.Sanitize(entry.ResponseCodeDetails));
        WriteString(json, s_connectionTerminationDetails, AccessLogFields.Sanitize(entry.ConnectionTerminationDetails));
        WriteString(json, s_upstreamTransportFailureReason, entry.UpstreamTransportFailureReason);
        json.WriteNumber(s_bytesReceived, entry.BytesReceived);
        json.WriteNumber(s_bytesSent, entry.BytesSent);
        json.WriteNumber(s_duration, AccessLogFields.Milliseconds(entry.Duration));
        if (entry.UpstreamServiceTime is { } serviceTime)
        {
            AccessLogFields.Milliseconds(serviceTime).TryFormat(scratch, out var length, default, CultureInfo.InvariantCulture);
            json.WriteString(s_upstreamServiceTime, scratch[..length]);
        }
        else
        {
            json.WriteNull(s_upstreamServiceTime);
        }

        WriteString(json, s_forwardedFor, entry.ForwardedFor);
        WriteString(json, s_userAgent, entry.UserAgent);
        WriteString(json, s_requestId, entry.RequestId);
        WriteString(json, s_authority, entry.Authority);
        WriteEndPoint(json, s_upstreamHost, entry.UpstreamHost, scratch);
        WriteString(json, s_upstreamCluster, entry.UpstreamCluster);
        WriteEndPoint(json, s_upstreamLocalAddress, entry.UpstreamLocalAddress, scratch);
        WriteEndPoint(json, s_downstreamLocalAddress, entry.DownstreamLocalAddress, scratch);
        WriteEndPoint(json, s_downstreamRemoteAddress, entry.DownstreamRemoteAddress, scratch);
        WriteString(json, s_requestedServerName, entry.RequestedServerName);
        WriteString(json, s_routeName, entry.RouteName);
        if (!AccessLogFields.IsAbsent(entry.DownstreamPeerUriSan) || !AccessLogFields.IsAbsent(entry.DownstreamLocalUriSan)
            || !AccessLogFields.IsAbsent(entry.UpstreamPeerUriSan))
        {
            // Traffic with TLS identities carries all three keys (null for the absent ones); plaintext lines keep
            // exactly Istio's default keys.
            WriteString(json, s_downstreamPeerUriSan, entry.DownstreamPeerUriSan);
            WriteString(json, s_downstreamLocalUriSan, entry.DownstreamLocalUriSan);
            WriteString(json, s_upstreamPeerUriSan, entry.UpstreamPeerUriSan);
        }

        json.WriteEndObject();
        json.Flush();

        output.GetSpan(1)[0] = (byte)'\n';
        output.Advance(1);
    }

    private static void WriteString(Utf8JsonWriter json, JsonEncodedText key, string? value)
    {
        if (AccessLogFields.IsAbsent(value))
        {
            json.WriteNull(key);
        }
        else
        {
            json.WriteString(key, value);
        }
    }

    private static void WriteEndPoint(Utf8JsonWriter json, JsonEncodedText key, IPEndPoint? endPoint, Span<byte> scratch)
    {
        var length = endPoint is null ? 0 : AccessLogFields.WriteEndPoint(endPoint, scratch);
        if (length == 0)
        {
            json.WriteNull(key);
        }
        else
        {
            json.WriteString(key, scratch[..length]);
        }
    }
}

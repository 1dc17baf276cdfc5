using System.Buffers;
using System.Text;
using System.Text.Json;

using Meshgate.Proxy.Observability;

using Xunit;

namespace Meshgate.Tests.Observability;

public sealed class JsonAccessLogFormatterTests
{
    // Istio's JSON keys (EnvoyJSONLogFormatIstio), in the order the TEXT format prints the same fields.
    private static readonly string[] s_istioKeys =
    [
        "start_time", "method", "path", "protocol", "response_code", "response_flags", "response_code_details",
        "connection_termination_details", "upstream_transport_failure_reason", "bytes_received", "bytes_sent",
        "duration", "upstream_service_time", "x_forwarded_for", "user_agent", "request_id", "authority",
        "upstream_host", "upstream_cluster", "upstream_local_address", "downstream_local_address",
        "downstream_remote_address", "requested_server_name", "route_name",
    ];

    private readonly AccessLogFormatter _formatter = AccessLogFormatter.Create(AccessLogEncoding.Json);

    [Fact]
    public void Format_HttpSample_WritesIstioKeysAndTypedValues()
    {
        var line = _formatter.Format(AccessLogSamples.Http);

        Assert.EndsWith("}\n", line, StringComparison.Ordinal);
        Assert.Single(line.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        using var document = JsonDocument.Parse(line);
        var root = document.RootElement;
        Assert.Equal(s_istioKeys, root.EnumerateObject().Select(static property => property.Name));
        AssertString(root, "start_time", "2024-01-09T15:35:47.283Z");
        AssertString(root, "method", "GET");
        AssertString(root, "path", "/politics");
        AssertString(root, "protocol", "HTTP/1.1");
        AssertNumber(root, "response_code", 301);
        AssertString(root, "response_flags", "-");
        AssertString(root, "response_code_details", "via_upstream");
        AssertNull(root, "connection_termination_details");
        AssertNull(root, "upstream_transport_failure_reason");
        AssertNumber(root, "bytes_received", 0);
        AssertNumber(root, "bytes_sent", 0);
        AssertNumber(root, "duration", 2);
        AssertString(root, "upstream_service_time", "2");
        AssertString(root, "x_forwarded_for", "172.30.239.55");
        AssertString(root, "user_agent", "curl/7.87.0-DEV");
        AssertString(root, "request_id", "6c01d65f-a157-97cd-8782-320a40026901");
        AssertString(root, "authority", "edition.cnn.com");
        AssertString(root, "upstream_host", "151.101.195.5:80");
        AssertString(root, "upstream_cluster", "outbound|80||edition.cnn.com");
        AssertString(root, "upstream_local_address", "172.30.239.16:55636");
        AssertString(root, "downstream_local_address", "172.30.239.16:80");
        AssertString(root, "downstream_remote_address", "172.30.239.55:59224");
        AssertNull(root, "requested_server_name");
        AssertString(root, "route_name", "default.forward-cnn-from-egress-gateway.0");
    }

    [Fact]
    public void Format_TlsSample_WritesNullRequestFieldsAndZeroCode()
    {
        using var document = JsonDocument.Parse(_formatter.Format(AccessLogSamples.Tls));
        var root = document.RootElement;

        Assert.Equal(s_istioKeys, root.EnumerateObject().Select(static property => property.Name));
        AssertNull(root, "method");
        AssertNull(root, "path");
        AssertNull(root, "protocol");
        AssertNumber(root, "response_code", 0);
        AssertString(root, "response_flags", "-");
        AssertNull(root, "response_code_details");
        AssertNumber(root, "bytes_received", 839);
        AssertNumber(root, "bytes_sent", 2504306);
        AssertNumber(root, "duration", 231);
        AssertNull(root, "upstream_service_time");
        AssertNull(root, "x_forwarded_for");
        AssertNull(root, "user_agent");
        AssertNull(root, "request_id");
        AssertNull(root, "authority");
        AssertString(root, "upstream_host", "151.101.195.5:443");
        AssertString(root, "upstream_cluster", "outbound|443||edition.cnn.com");
        AssertString(root, "requested_server_name", "edition.cnn.com");
        AssertNull(root, "route_name");
    }

    [Fact]
    public void Format_FlagsDetailsAndEmptyValues_WritesEnvoyStringsAndNulls()
    {
        var entry = AccessLogSamples.Http;
        entry.ResponseCode = 503;
        entry.ResponseFlags = ResponseFlags.UpstreamRetryLimitExceeded | ResponseFlags.UpstreamConnectionFailure;
        entry.ResponseCodeDetails = "upstream_reset_before_response_started{connection failure}";
        entry.UserAgent = "";
        entry.UpstreamHost = null;

        using var document = JsonDocument.Parse(_formatter.Format(entry));
        var root = document.RootElement;

        AssertString(root, "response_flags", "UF,URX");
        AssertString(root, "response_code_details", "upstream_reset_before_response_started{connection_failure}");
        AssertNull(root, "user_agent");
        AssertNull(root, "upstream_host");
    }

    [Fact]
    public void Format_ValuesNeedingEscapes_RoundTripOnOneLine()
    {
        var entry = AccessLogSamples.Http;
        entry.UserAgent = "naïve \"client\" \\ a+b <x>\nnext";
        entry.Path = "/search?q=a&b=c+d";

        var line = _formatter.Format(entry);

        Assert.Single(line.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("\"path\":\"/search?q=a&b=c+d\"", line, StringComparison.Ordinal);
        using var document = JsonDocument.Parse(line);
        AssertString(document.RootElement, "user_agent", entry.UserAgent);
        AssertString(document.RootElement, "path", entry.Path);
    }

    [Fact]
    public void Write_SeveralEntries_AppendsOneObjectPerLine()
    {
        var buffer = new ArrayBufferWriter<byte>(8);

        _formatter.Write(AccessLogSamples.Http, buffer);
        _formatter.Write(AccessLogSamples.Tls, buffer);
        _formatter.Write(AccessLogSamples.Http, buffer);

        var lines = Encoding.UTF8.GetString(buffer.WrittenSpan).Split('\n');
        Assert.Equal(4, lines.Length);
        Assert.Equal("", lines[3]);
        Assert.Equal(lines[0], lines[2]);
        using var tls = JsonDocument.Parse(lines[1]);
        AssertNumber(tls.RootElement, "bytes_received", 839);
    }

    private static void AssertString(JsonElement root, string key, string expected)
    {
        var value = root.GetProperty(key);
        Assert.Equal(JsonValueKind.String, value.ValueKind);
        Assert.Equal(expected, value.GetString());
    }

    private static void AssertNumber(JsonElement root, string key, long expected)
    {
        var value = root.GetProperty(key);
        Assert.Equal(JsonValueKind.Number, value.ValueKind);
        Assert.Equal(expected, value.GetInt64());
    }

    private static void AssertNull(JsonElement root, string key)
    {
        Assert.Equal(JsonValueKind.Null, root.GetProperty(key).ValueKind);
    }
}

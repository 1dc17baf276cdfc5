using System.Buffers;

using Meshgate.Core.ProxyConfiguration;
using Meshgate.Proxy.Observability;

using Xunit;

using AccessLogEncoding = Meshgate.Proxy.Observability.AccessLogEncoding;

namespace Meshgate.Tests.Observability;

/// <summary>meshConfig.accessLogFormat: the format compiled once into segments, and lines printed from them.</summary>
public sealed class CustomTextAccessLogFormatterTests
{
    /// <summary>Istio's default TEXT format (pilot/pkg/model/telemetry_logging.go EnvoyTextLogFormat), as a custom format.</summary>
    private const string IstioDefault =
        "[%START_TIME%] \"%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%\" %RESPONSE_CODE% %RESPONSE_FLAGS% "
        + "%RESPONSE_CODE_DETAILS% %CONNECTION_TERMINATION_DETAILS% \"%UPSTREAM_TRANSPORT_FAILURE_REASON%\" %BYTES_RECEIVED% "
        + "%BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% \"%REQ(X-FORWARDED-FOR)%\" \"%REQ(USER-AGENT)%\" "
        + "\"%REQ(X-REQUEST-ID)%\" \"%REQ(:AUTHORITY)%\" \"%UPSTREAM_HOST%\" %UPSTREAM_CLUSTER% %UPSTREAM_LOCAL_ADDRESS% "
        + "%DOWNSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_REMOTE_ADDRESS% %REQUESTED_SERVER_NAME% %ROUTE_NAME%\n";

    private const string Sleep = "spiffe://cluster.local/ns/default/sa/sleep";

    public static TheoryData<string> Entries => new() { "http", "tls", "failure", "default" };

    [Theory]
    [MemberData(nameof(Entries))]
    public void Format_IstioDefaultFormatWrittenOut_SameBytesAsTheBuiltInFormatter(string name)
    {
        var entry = Entry(name);

        var custom = CustomTextAccessLogFormatter.Compile(IstioDefault).Format(entry);

        Assert.Equal(new TextAccessLogFormatter().Format(entry), custom);
    }

    [Fact]
    public void Format_IstioDefaultFormat_MatchesTheSampleLinesExactly()
    {
        var formatter = CustomTextAccessLogFormatter.Compile(IstioDefault);

        Assert.Equal(AccessLogSamples.HttpLine, formatter.Format(AccessLogSamples.Http));
        Assert.Equal(AccessLogSamples.TlsLine, formatter.Format(AccessLogSamples.Tls));
    }

    [Fact]
    public void Format_PeerIdentities_PrintedOrDash()
    {
        var formatter = CustomTextAccessLogFormatter.Compile(
            "%DOWNSTREAM_PEER_URI_SAN% %DOWNSTREAM_LOCAL_URI_SAN% %UPSTREAM_PEER_URI_SAN% %REQUESTED_SERVER_NAME%");
        var entry = AccessLogSamples.Http;
        entry.DownstreamPeerUriSan = Sleep;
        entry.DownstreamLocalUriSan = "spiffe://cluster.local/ns/istio-system/sa/gw";

        Assert.Equal(Sleep + " spiffe://cluster.local/ns/istio-system/sa/gw - -\n", formatter.Format(entry));
        Assert.Equal("- - - -\n", formatter.Format(default(AccessLogEntry)));
    }

    [Fact]
    public void Format_TheBriefsExample_OneLine()
    {
        var formatter = AccessLogFormatter.Create(
            AccessLogEncoding.Text,
            "[%START_TIME%] \"%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%\" %RESPONSE_CODE% %DOWNSTREAM_PEER_URI_SAN%\n");
        var entry = AccessLogSamples.Http;
        entry.DownstreamPeerUriSan = Sleep;

        Assert.IsType<CustomTextAccessLogFormatter>(formatter);
        Assert.Equal($"[2024-01-09T15:35:47.283Z] \"GET /politics HTTP/1.1\" 301 {Sleep}\n", formatter.Format(entry));
    }

    [Fact]
    public void Format_LiteralsPercentEscapeAndMissingNewline_PrintedAsWrittenWithANewline()
    {
        var formatter = CustomTextAccessLogFormatter.Compile("code=%RESPONSE_CODE% 100%% done; naïve");

        Assert.Equal("code=301 100% done; naïve\n", formatter.Format(AccessLogSamples.Http));
    }

    [Fact]
    public void Format_RequestHeadersByAnyNameCaseAndFallbackAndLength()
    {
        var formatter = CustomTextAccessLogFormatter.Compile(
            "%REQ(user-agent)% %REQ(Host)% %REQ(:PATH)% %REQ(X-REQUEST-ID):8% %REQ(USER-AGENT?X-FORWARDED-FOR)% %REQ(:METHOD):100%");
        var entry = AccessLogSamples.Http;

        Assert.Equal("curl/7.87.0-DEV edition.cnn.com /politics 6c01d65f curl/7.87.0-DEV GET\n", formatter.Format(entry));

        entry.UserAgent = null;
        Assert.Equal("- edition.cnn.com /politics 6c01d65f 172.30.239.55 GET\n", formatter.Format(entry));
    }

    [Fact]
    public void Format_DetailsWithWhitespace_UnderscoresAsInTheDefaultFormat()
    {
        var formatter = CustomTextAccessLogFormatter.Compile("%RESPONSE_CODE_DETAILS%|%CONNECTION_TERMINATION_DETAILS%|%UPSTREAM_TRANSPORT_FAILURE_REASON%");
        var entry = AccessLogSamples.Http;
        entry.ResponseCodeDetails = "a b";
        entry.ConnectionTerminationDetails = "c\td";
        entry.UpstreamTransportFailureReason = "e f";

        Assert.Equal("a_b|c_d|e f\n", formatter.Format(entry));
    }

    [Fact]
    public void Parse_Segments_LiteralsAndOperatorsInOrder()
    {
        var format = AccessLogFormat.Parse("[%START_TIME%] %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %REQ(USER-AGENT?X-REQUEST-ID):10%");

        Assert.Equal<AccessLogSegment>(
            [
                new AccessLogSegment(AccessLogOperator.Literal, "["),
                new AccessLogSegment(AccessLogOperator.StartTime),
                new AccessLogSegment(AccessLogOperator.Literal, "] "),
                new AccessLogSegment(AccessLogOperator.Path),
                new AccessLogSegment(AccessLogOperator.Literal, " "),
                new AccessLogSegment(AccessLogOperator.UserAgent, Fallback: AccessLogOperator.RequestId, MaxLength: 10),
                new AccessLogSegment(AccessLogOperator.Literal, "\n"),
            ],
            format.Segments);
    }

    [Fact]
    public void Parse_UnknownOperator_NamesItAndListsTheSupportedOnes()
    {
        Assert.False(AccessLogFormat.TryParse("[%START_TIME%] %UPSTREAM_PEER_SUBJECT%", out _, out var error));

        Assert.StartsWith("unknown command operator %UPSTREAM_PEER_SUBJECT%; supported: %START_TIME%,", error, StringComparison.Ordinal);
        Assert.Contains("%DOWNSTREAM_PEER_URI_SAN%", error, StringComparison.Ordinal);
        Assert.Contains("%REQ(H)%", error, StringComparison.Ordinal);
        Assert.Throws<FormatException>(() => CustomTextAccessLogFormatter.Compile("%UPSTREAM_PEER_SUBJECT%"));
    }

    [Theory]
    [InlineData("%REQ(X-B3-TRACEID)%", "does not record the request header \"X-B3-TRACEID\"")]
    [InlineData("%REQ(:PATH?X-B3-TRACEID)%", "does not record the request header \"X-B3-TRACEID\"")]
    [InlineData("%REQ%", "%REQ% needs a header")]
    [InlineData("%RESP(CONTENT-TYPE)%", "only the response header X-ENVOY-UPSTREAM-SERVICE-TIME")]
    [InlineData("%START_TIME(x", "%START_TIME( at position 0 has no closing ')'")]
    [InlineData("%START_TIME(x)%", "%START_TIME% takes no argument")]
    [InlineData("%DURATION:5%", "%DURATION% takes no argument and no length")]
    [InlineData("%REQ(:PATH):0%", "N must be a positive whole number")]
    [InlineData("%REQ(:PATH):x%", "N must be a positive whole number")]
    [InlineData("100% sure", "'%' at position 3 does not start a command operator")]
    [InlineData("%protocol%", "'%' at position 0 does not start a command operator")]
    [InlineData("%PROTOCOL", "%PROTOCOL... at position 0 is not closed with '%'")]
    [InlineData("trailing %", "'%' at position 9 does not start a command operator")]
    public void Parse_Malformed_ErrorSaysWhatAndWhere(string text, string expected)
    {
        Assert.False(AccessLogFormat.TryParse(text, out var format, out var error));

        Assert.Null(format);
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_JsonEncodingWithAFormat_IstioJsonKeys()
    {
        Assert.IsType<JsonAccessLogFormatter>(AccessLogFormatter.Create(AccessLogEncoding.Json, "%START_TIME%"));
        Assert.IsType<TextAccessLogFormatter>(AccessLogFormatter.Create(AccessLogEncoding.Text, null));
        Assert.IsType<TextAccessLogFormatter>(AccessLogFormatter.Create(AccessLogEncoding.Text, ""));
    }

    [Fact]
    public void Write_WarmCustomFormatter_AllocatesNothing()
    {
        var formatter = CustomTextAccessLogFormatter.Compile(IstioDefault.TrimEnd('\n') + " %DOWNSTREAM_PEER_URI_SAN% %REQ(USER-AGENT):4%");
        var http = AccessLogSamples.Http;
        http.DownstreamPeerUriSan = Sleep;
        var tls = AccessLogSamples.Tls;
        var buffer = new ArrayBufferWriter<byte>(64 * 1024);
        for (var i = 0; i < 100; i++)
        {
            buffer.ResetWrittenCount();
            formatter.Write(http, buffer);
            formatter.Write(tls, buffer);
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 100; i++)
        {
            buffer.ResetWrittenCount();
            formatter.Write(http, buffer);
            formatter.Write(tls, buffer);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    private static AccessLogEntry Entry(string name)
    {
        switch (name)
        {
            case "http":
                return AccessLogSamples.Http;
            case "tls":
                return AccessLogSamples.Tls;
            case "failure":
                var entry = AccessLogSamples.Http;
                entry.ResponseCode = 503;
                entry.ResponseFlags = ResponseFlags.UpstreamRetryLimitExceeded | ResponseFlags.UpstreamConnectionFailure;
                entry.ResponseCodeDetails = "upstream_reset_before_response_started{connection_failure,delayed connect error: 111}";
                entry.ConnectionTerminationDetails = "TLS_error:|HANDSHAKE_FAILURE:TLS_error_end";
                entry.UpstreamTransportFailureReason = "delayed connect error: 111";
                entry.Protocol = AccessLogProtocol.Http2;
                entry.UpstreamServiceTime = null;
                entry.UpstreamLocalAddress = null;
                entry.DownstreamRemoteAddress = System.Net.IPEndPoint.Parse("[2001:db8::1]:443");
                entry.UserAgent = "";
                return entry;
            default:
                return default;
        }
    }
}

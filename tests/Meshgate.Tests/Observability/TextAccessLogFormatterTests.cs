using System.Buffers;
using System.Net;
using System.Text;

using Meshgate.Proxy.Observability;

using Xunit;

namespace Meshgate.Tests.Observability;

public sealed class TextAccessLogFormatterTests
{
    private readonly AccessLogFormatter _formatter = AccessLogFormatter.Create(AccessLogEncoding.Text);

    [Fact]
    public void Format_GatewayApiHttpSample_MatchesIstioLineExactly()
    {
        Assert.Equal(AccessLogSamples.HttpLine, _formatter.Format(AccessLogSamples.Http));
    }

    [Fact]
    public void Format_TlsPassthroughSample_MatchesIstioLineExactly()
    {
        Assert.Equal(AccessLogSamples.TlsLine, _formatter.Format(AccessLogSamples.Tls));
    }

    [Fact]
    public void Format_UpstreamConnectionFailure_PrintsFlagsDetailsAndQuotedReason()
    {
        var entry = AccessLogSamples.Http;
        entry.ResponseCode = 503;
        entry.ResponseFlags = ResponseFlags.UpstreamRetryLimitExceeded | ResponseFlags.UpstreamConnectionFailure;
        entry.ResponseCodeDetails = "upstream_reset_before_response_started{connection_failure,delayed connect error: 111}";
        entry.UpstreamTransportFailureReason = "delayed connect error: 111";
        entry.BytesSent = 91;
        entry.UpstreamServiceTime = null;
        entry.UpstreamLocalAddress = null;

        Assert.Equal(
            "[2024-01-09T15:35:47.283Z] \"GET /politics HTTP/1.1\" 503 UF,URX "
            + "upstream_reset_before_response_started{connection_failure,delayed_connect_error:_111} - "
            + "\"delayed connect error: 111\" 0 91 2 - \"172.30.239.55\" \"curl/7.87.0-DEV\" "
            + "\"6c01d65f-a157-97cd-8782-320a40026901\" \"edition.cnn.com\" \"151.101.195.5:80\" "
            + "outbound|80||edition.cnn.com - 172.30.239.16:80 172.30.239.55:59224 - "
            + "default.forward-cnn-from-egress-gateway.0\n",
            _formatter.Format(entry));
    }

    [Fact]
    public void Format_DefaultEntry_PrintsConnectionPlaceholders()
    {
        Assert.Equal(
            "[0001-01-01T00:00:00.000Z] \"- - -\" 0 - - - \"-\" 0 0 0 - \"-\" \"-\" \"-\" \"-\" \"-\" - - - - - -\n",
            _formatter.Format(default(AccessLogEntry)));
    }

    [Fact]
    public void Format_EmptyStrings_PrintDashLikeAbsentValues()
    {
        var entry = AccessLogSamples.Tls;
        entry.Method = "";
        entry.UserAgent = "";
        entry.RouteName = "";
        entry.RequestedServerName = "";

        Assert.Equal(
            AccessLogSamples.TlsLine.Replace(" edition.cnn.com -\n", " - -\n", StringComparison.Ordinal),
            _formatter.Format(entry));
    }

    [Theory]
    [InlineData(AccessLogProtocol.Http10, "HTTP/1.0")]
    [InlineData(AccessLogProtocol.Http11, "HTTP/1.1")]
    [InlineData(AccessLogProtocol.Http2, "HTTP/2")]
    [InlineData(AccessLogProtocol.Http3, "HTTP/3")]
    [InlineData(AccessLogProtocol.None, "-")]
    public void Format_Protocol_PrintsEnvoyName(AccessLogProtocol protocol, string expected)
    {
        var entry = AccessLogSamples.Http;
        entry.Protocol = protocol;

        Assert.StartsWith($"[2024-01-09T15:35:47.283Z] \"GET /politics {expected}\" 301 ", _formatter.Format(entry), StringComparison.Ordinal);
    }

    [Fact]
    public void Format_StartTimeWithOffset_PrintsUtcWithTruncatedMilliseconds()
    {
        var entry = AccessLogSamples.Tls;
        entry.StartTime = new DateTimeOffset(2019, 9, 3, 22, 57, 49, TimeSpan.FromHours(2)).AddTicks(1_039_999);

        Assert.StartsWith("[2019-09-03T20:57:49.103Z] ", _formatter.Format(entry), StringComparison.Ordinal);
    }

    [Fact]
    public void Format_FractionalDurations_PrintsWholeMillisecondsTruncated()
    {
        var entry = AccessLogSamples.Http;
        entry.Duration = TimeSpan.FromMilliseconds(90.99);
        entry.UpstreamServiceTime = TimeSpan.FromMilliseconds(89.5);

        Assert.Contains(" 0 0 90 89 \"172.30.239.55\"", _formatter.Format(entry), StringComparison.Ordinal);
    }

    [Fact]
    public void Format_WhitespaceInDetails_ReplacedWithUnderscore()
    {
        var entry = AccessLogSamples.Http;
        entry.ResponseCodeDetails = "filter chain\tnot\r\nfound";
        entry.ConnectionTerminationDetails = "rbac access denied";

        Assert.Contains(" 301 - filter_chain_not__found rbac_access_denied \"-\" ", _formatter.Format(entry), StringComparison.Ordinal);
    }

    [Fact]
    public void Format_Ipv6AndMappedAddresses_PrintsBracketsAndPlainIpv4()
    {
        var entry = AccessLogSamples.Tls;
        entry.UpstreamHost = new IPEndPoint(IPAddress.Parse("2001:db8::1"), 443);
        entry.DownstreamLocalAddress = new IPEndPoint(IPAddress.Parse("::ffff:10.0.0.1"), 18443);
        entry.DownstreamRemoteAddress = new IPEndPoint(IPAddress.IPv6Loopback, 50000);

        Assert.Contains(
            "\"[2001:db8::1]:443\" outbound|443||edition.cnn.com 172.30.239.8:34470 10.0.0.1:18443 [::1]:50000 ",
            _formatter.Format(entry),
            StringComparison.Ordinal);
    }

    [Fact]
    public void Format_NonAsciiAndQuotesInHeaders_WrittenAsUtf8Unescaped()
    {
        var entry = AccessLogSamples.Http;
        entry.UserAgent = "naïve \"client\"";

        Assert.Contains(" \"naïve \"client\"\" ", _formatter.Format(entry), StringComparison.Ordinal);
    }

    [Fact]
    public void Write_SeveralEntries_AppendsOneLineEach()
    {
        var buffer = new ArrayBufferWriter<byte>(16);

        _formatter.Write(AccessLogSamples.Http, buffer);
        _formatter.Write(AccessLogSamples.Tls, buffer);

        Assert.Equal(AccessLogSamples.HttpLine + AccessLogSamples.TlsLine, Encoding.UTF8.GetString(buffer.WrittenSpan));
    }

    [Fact]
    public void Write_LongHeaderValue_GrowsOutputAndKeepsLineIntact()
    {
        var entry = AccessLogSamples.Http;
        entry.UserAgent = new string('a', 20_000);
        var buffer = new ArrayBufferWriter<byte>(1);

        _formatter.Write(entry, buffer);

        var line = Encoding.UTF8.GetString(buffer.WrittenSpan);
        Assert.Equal(AccessLogSamples.HttpLine.Replace("curl/7.87.0-DEV", entry.UserAgent, StringComparison.Ordinal), line);
    }
}

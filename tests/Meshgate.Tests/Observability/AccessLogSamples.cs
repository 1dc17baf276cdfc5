using System.Net;

using Meshgate.Proxy.Observability;

namespace Meshgate.Tests.Observability;

/// <summary>
/// The access-log lines of Istio's egress-gateway pages (reference/istio-egress.md 1c), as entries and as the exact
/// lines Envoy printed for them.
/// </summary>
internal static class AccessLogSamples
{
    /// <summary>EGW HTTP through a Gateway-API egress gateway (2024, current format).</summary>
    public const string HttpLine =
        "[2024-01-09T15:35:47.283Z] \"GET /politics HTTP/1.1\" 301 - via_upstream - \"-\" 0 0 2 2 \"172.30.239.55\" "
        + "\"curl/7.87.0-DEV\" \"6c01d65f-a157-97cd-8782-320a40026901\" \"edition.cnn.com\" \"151.101.195.5:80\" "
        + "outbound|80||edition.cnn.com 172.30.239.16:55636 172.30.239.16:80 172.30.239.55:59224 - "
        + "default.forward-cnn-from-egress-gateway.0\n";

    /// <summary>Gateway-API HTTPS passthrough (2024): a TLS connection, logged once with its SNI.</summary>
    public const string TlsLine =
        "[2024-01-11T21:09:42.835Z] \"- - -\" 0 - - - \"-\" 839 2504306 231 - \"-\" \"-\" \"-\" \"-\" "
        + "\"151.101.195.5:443\" outbound|443||edition.cnn.com 172.30.239.8:34470 172.30.239.8:443 "
        + "172.30.239.15:43956 edition.cnn.com -\n";

    public static AccessLogEntry Http => new()
    {
        StartTime = Time("2024-01-09T15:35:47.283Z"),
        Method = "GET",
        Path = "/politics",
        Protocol = AccessLogProtocol.Http11,
        ResponseCode = 301,
        ResponseCodeDetails = "via_upstream",
        BytesReceived = 0,
        BytesSent = 0,
        Duration = TimeSpan.FromMilliseconds(2),
        UpstreamServiceTime = TimeSpan.FromMilliseconds(2),
        ForwardedFor = "172.30.239.55",
        UserAgent = "curl/7.87.0-DEV",
        RequestId = "6c01d65f-a157-97cd-8782-320a40026901",
        Authority = "edition.cnn.com",
        UpstreamHost = IPEndPoint.Parse("151.101.195.5:80"),
        UpstreamCluster = "outbound|80||edition.cnn.com",
        UpstreamLocalAddress = IPEndPoint.Parse("172.30.239.16:55636"),
        DownstreamLocalAddress = IPEndPoint.Parse("172.30.239.16:80"),
        DownstreamRemoteAddress = IPEndPoint.Parse("172.30.239.55:59224"),
        RouteName = "default.forward-cnn-from-egress-gateway.0",
    };

    public static AccessLogEntry Tls => new()
    {
        StartTime = Time("2024-01-11T21:09:42.835Z"),
        BytesReceived = 839,
        BytesSent = 2504306,
        Duration = TimeSpan.FromMilliseconds(231),
        UpstreamHost = IPEndPoint.Parse("151.101.195.5:443"),
        UpstreamCluster = "outbound|443||edition.cnn.com",
        UpstreamLocalAddress = IPEndPoint.Parse("172.30.239.8:34470"),
        DownstreamLocalAddress = IPEndPoint.Parse("172.30.239.8:443"),
        DownstreamRemoteAddress = IPEndPoint.Parse("172.30.239.15:43956"),
        RequestedServerName = "edition.cnn.com",
    };

    /// <summary>An HTTP request with a distinguishable request id, for counting lines.</summary>
    public static AccessLogEntry Numbered(int number)
    {
        var entry = Http;
        entry.RequestId = "request-" + number.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return entry;
    }

    public static DateTimeOffset Time(string utc) =>
        DateTimeOffset.Parse(utc, System.Globalization.CultureInfo.InvariantCulture);
}

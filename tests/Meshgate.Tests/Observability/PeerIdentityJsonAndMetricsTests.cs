using System.Globalization;
using System.Text.Json;

using Meshgate.Proxy.Observability;

using Xunit;

namespace Meshgate.Tests.Observability;

/// <summary>The peer identities in JSON lines, and Istio's <c>source_principal</c> label on the request and TCP metrics.</summary>
public sealed class PeerIdentityJsonAndMetricsTests
{
    private const string Sleep = "spiffe://cluster.local/ns/default/sa/sleep";
    private const string Other = "spiffe://cluster.local/ns/prod/sa/billing";
    private const string Gateway = "spiffe://cluster.local/ns/istio-system/sa/istio-egressgateway-service-account";

    private static readonly ServerStats Server = new(new SourceLabels("istio-egressgateway", "istio-system"), TimeSpan.FromSeconds(1), true, 1);

    [Fact]
    public void Json_TerminatedMutualTls_ThreeIdentityKeysAfterIstiosNullForTheAbsentOne()
    {
        var entry = AccessLogSamples.Http;
        entry.DownstreamPeerUriSan = Sleep;
        entry.DownstreamLocalUriSan = Gateway;

        using var document = JsonDocument.Parse(AccessLogFormatter.Create(AccessLogEncoding.Json).Format(entry));
        var root = document.RootElement;

        var keys = root.EnumerateObject().Select(static p => p.Name).ToArray();
        Assert.Equal(["route_name", "downstream_peer_uri_san", "downstream_local_uri_san", "upstream_peer_uri_san"], keys[^4..]);
        Assert.Equal(Sleep, root.GetProperty("downstream_peer_uri_san").GetString());
        Assert.Equal(Gateway, root.GetProperty("downstream_local_uri_san").GetString());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("upstream_peer_uri_san").ValueKind);
    }

    [Fact]
    public void Json_OriginatedTlsOnly_UpstreamIdentityAndNullDownstreamOnes()
    {
        var entry = AccessLogSamples.Tls;
        entry.UpstreamPeerUriSan = Other;

        using var document = JsonDocument.Parse(AccessLogFormatter.Create(AccessLogEncoding.Json).Format(entry));
        var root = document.RootElement;

        Assert.Equal(JsonValueKind.Null, root.GetProperty("downstream_peer_uri_san").ValueKind);
        Assert.Equal(JsonValueKind.Null, root.GetProperty("downstream_local_uri_san").ValueKind);
        Assert.Equal(Other, root.GetProperty("upstream_peer_uri_san").GetString());
    }

    [Fact]
    public void Json_Plaintext_ExactlyTheDefaultLine()
    {
        var line = AccessLogFormatter.Create(AccessLogEncoding.Json).Format(AccessLogSamples.Http);

        Assert.DoesNotContain("uri_san", line, StringComparison.Ordinal);
    }

    [Fact]
    public void Prometheus_SourcePrincipal_PeerIdentityOrUnknownAndPeersCountedApart()
    {
        var metrics = new ProxyMetrics();
        for (var i = 0; i < 3; i++)
        {
            metrics.Request(Key(Sleep)).Record(TimeSpan.FromMilliseconds(1));
        }

        metrics.Request(Key(Other)).Record(TimeSpan.FromMilliseconds(1));
        metrics.Request(new RequestKey("edition.cnn.com", "outbound|80||edition.cnn.com", 200, ResponseFlags.None)).Record(TimeSpan.FromMilliseconds(1));
        var tcp = metrics.Tcp(new TcpKey("edition.cnn.com", "outbound|443||edition.cnn.com", Sleep));
        tcp.ConnectionOpened();
        metrics.Tcp(new TcpKey("edition.cnn.com", "outbound|443||edition.cnn.com")).ConnectionOpened();

        var samples = PrometheusText.Parse(Prometheus(metrics));

        Assert.Equal(3, Assert.Single(samples.Where("istio_requests_total", ("source_principal", Sleep))).Value);
        Assert.Equal(1, Assert.Single(samples.Where("istio_requests_total", ("source_principal", Other))).Value);
        Assert.Equal(1, Assert.Single(samples.Where("istio_requests_total", ("source_principal", "unknown"))).Value);
        Assert.Equal(3, Assert.Single(samples.Where("istio_request_duration_milliseconds_count", ("source_principal", Sleep))).Value);
        Assert.Equal(1, Assert.Single(samples.Where("istio_tcp_connections_opened_total", ("source_principal", Sleep))).Value);
        Assert.Equal(1, Assert.Single(samples.Where("istio_tcp_connections_opened_total", ("source_principal", "unknown"))).Value);
        Assert.All(samples.Where(s => s.Name.StartsWith("istio_", StringComparison.Ordinal)), s => Assert.True(s.Labels.ContainsKey("source_principal"), s.Name));
    }

    [Fact]
    public void Stats_SourcePrincipalLabel()
    {
        var metrics = new ProxyMetrics();
        metrics.Request(Key(Sleep)).Record(TimeSpan.FromMilliseconds(1));
        using var text = new StringWriter(CultureInfo.InvariantCulture);

        MetricsExposition.WriteStats(text, metrics, Server);

        Assert.Contains($"source_principal=\"{Sleep}\",destination_service=\"edition.cnn.com\"", text.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Request_EqualPrincipalsInDifferentStrings_OneSeriesAndNoAllocation()
    {
        var metrics = new ProxyMetrics();
        var connection1 = string.Concat("spiffe://cluster.local/ns/default/sa/", "sleep"); // each connection has its own string
        var connection2 = string.Concat("spiffe://cluster.local/ns/default/", "sa/sleep");
        var first = metrics.Request(Key(connection1));
        for (var i = 0; i < 100; i++)
        {
            metrics.Request(Key(connection2)).Record(TimeSpan.FromMilliseconds(1));
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 100; i++)
        {
            metrics.Request(Key(connection2)).Record(TimeSpan.FromMilliseconds(1));
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Same(first, metrics.Request(Key(connection2)));
        Assert.Single(metrics.Requests());
    }

    private static RequestKey Key(string principal) =>
        new("edition.cnn.com", "outbound|80||edition.cnn.com", 200, ResponseFlags.None, principal);

    private static string Prometheus(ProxyMetrics metrics)
    {
        using var text = new StringWriter(CultureInfo.InvariantCulture);
        MetricsExposition.WritePrometheus(text, metrics, Server);
        return text.ToString();
    }
}

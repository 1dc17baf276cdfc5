using System.Globalization;
using Meshgate.Core.ProxyConfiguration;
using Meshgate.Proxy.Observability;
using Xunit;

namespace Meshgate.Tests.Observability;

public sealed class ProxyMetricsTests
{
    private static readonly RequestKey Ok = new("edition.cnn.com", "outbound|80||edition.cnn.com", 200, ResponseFlags.None);
    private static readonly ServerStats Server = new(new SourceLabels("istio-egressgateway", "istio-system"), TimeSpan.FromSeconds(42), true, 2);

    [Fact]
    public void Request_SameKeyRepeatedly_SameCountersAndNoAllocation()
    {
        var metrics = new ProxyMetrics();
        var first = metrics.Request(Ok);
        for (var i = 0; i < 100; i++)
        {
            LookUpAndCount(metrics);
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 100; i++)
        {
            LookUpAndCount(metrics);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Same(first, metrics.Request(Ok));
        Assert.Equal(200, first.Count);
        Assert.Equal(2000, metrics.Tcp(new TcpKey("edition.cnn.com", "outbound|443||edition.cnn.com")).SentBytes);
    }

    private static void LookUpAndCount(ProxyMetrics metrics)
    {
        metrics.Request(new RequestKey("edition.cnn.com", "outbound|80||edition.cnn.com", 200, ResponseFlags.None)).Record(TimeSpan.FromMilliseconds(3));
        metrics.Tcp(new TcpKey("edition.cnn.com", "outbound|443||edition.cnn.com")).AddSent(10);
    }

    [Fact]
    public void Record_DurationsOnBucketBounds_CountedInTheBucketTheyBound()
    {
        var metrics = new ProxyMetrics();
        var request = metrics.Request(Ok);
        foreach (var ms in new[] { 0.5, 1, 1.5, 10, 3_600_000, 3_600_001 })
        {
            request.Record(TimeSpan.FromMilliseconds(ms));
        }

        Span<long> buckets = stackalloc long[RequestMetrics.DurationBuckets.Length + 1];
        request.CopyBuckets(buckets);
        Assert.Equal(2, buckets[0]); // le=1: 0.5 and 1 (upper bounds are inclusive)
        Assert.Equal(1, buckets[1]); // le=5: 1.5
        Assert.Equal(1, buckets[2]); // le=10
        Assert.Equal(1, buckets[^2]); // le=3600000
        Assert.Equal(1, buckets[^1]); // +Inf
        Assert.Equal(6, request.Count);
        Assert.Equal(7_200_014, request.SumMilliseconds, 3);
    }

    [Fact]
    public void WritePrometheus_RequestsAndConnections_ParseableWithIstioNamesAndLabels()
    {
        var metrics = new ProxyMetrics();
        metrics.Request(Ok).Record(TimeSpan.FromMilliseconds(7));
        metrics.Request(Ok).Record(TimeSpan.FromMilliseconds(70));
        metrics.Request(new RequestKey(SourceLabels.Unknown, SourceLabels.Unknown, 404, ResponseFlags.NoRouteFound)).Record(TimeSpan.FromMilliseconds(1));
        var tcp = metrics.Tcp(new TcpKey("edition.cnn.com", "outbound|443||edition.cnn.com"));
        tcp.ConnectionOpened();
        tcp.AddReceived(517);
        tcp.AddSent(4096);
        tcp.ConnectionClosed();
        metrics.UpdateApplied();

        var samples = PrometheusText.Parse(Prometheus(metrics));

        var ok = Assert.Single(samples.Where("istio_requests_total", ("response_code", "200")));
        Assert.Equal(2, ok.Value);
        Assert.Equal(new Dictionary<string, string>
        {
            ["reporter"] = "source",
            ["source_workload"] = "istio-egressgateway",
            ["source_workload_namespace"] = "istio-system",
            ["source_principal"] = "unknown",
            ["destination_service"] = "edition.cnn.com",
            ["destination_service_name"] = "edition.cnn.com",
            ["destination_service_namespace"] = "unknown",
            ["upstream_cluster"] = "outbound|80||edition.cnn.com",
            ["request_protocol"] = "http",
            ["response_code"] = "200",
            ["response_flags"] = "-",
        }, ok.Labels);
        Assert.Equal(1, Assert.Single(samples.Where("istio_requests_total", ("response_code", "404"), ("response_flags", "NR"))).Value);
        Assert.Equal(1, Assert.Single(samples.Where("istio_request_duration_milliseconds_bucket", ("response_code", "200"), ("le", "10"))).Value);
        Assert.Equal(2, Assert.Single(samples.Where("istio_request_duration_milliseconds_bucket", ("response_code", "200"), ("le", "100"))).Value);
        Assert.Equal(77, Assert.Single(samples.Where("istio_request_duration_milliseconds_sum", ("response_code", "200"))).Value);
        Assert.Equal(19, samples.Where("istio_request_duration_milliseconds_bucket", ("response_code", "200")).Count());
        var tcpLabels = ("destination_service", "edition.cnn.com");
        Assert.Equal(1, Assert.Single(samples.Where("istio_tcp_connections_opened_total", tcpLabels)).Value);
        Assert.Equal(1, Assert.Single(samples.Where("istio_tcp_connections_closed_total", tcpLabels)).Value);
        Assert.Equal(517, Assert.Single(samples.Where("istio_tcp_received_bytes_total", tcpLabels)).Value);
        Assert.Equal(4096, Assert.Single(samples.Where("istio_tcp_sent_bytes_total", tcpLabels)).Value);
        Assert.Equal(1, Assert.Single(samples.Where("envoy_listener_manager_lds_update_success")).Value);
        Assert.Equal(42, Assert.Single(samples.Where("envoy_server_uptime")).Value);
    }

    [Fact]
    public void WritePrometheus_QuoteBackslashAndNewlineInAClusterName_Escaped()
    {
        var metrics = new ProxyMetrics();
        metrics.Request(new RequestKey("x", "odd\"name\\with\nnewline", 200, ResponseFlags.None)).Record(TimeSpan.FromMilliseconds(1));

        var text = Prometheus(metrics);

        Assert.Contains("upstream_cluster=\"odd\\\"name\\\\with\\nnewline\"", text, StringComparison.Ordinal);
        Assert.Equal("odd\"name\\with\nnewline", Assert.Single(PrometheusText.Parse(text).Where("istio_requests_total")).Labels["upstream_cluster"]);
    }

    [Fact]
    public void WriteStats_EnvoyStyleLines()
    {
        var metrics = new ProxyMetrics();
        metrics.Request(Ok).Record(TimeSpan.FromMilliseconds(2.5));
        metrics.UpdateRejected();
        using var text = new StringWriter(CultureInfo.InvariantCulture);

        MetricsExposition.WriteStats(text, metrics, Server);

        var lines = text.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.All(lines, l => Assert.Matches(@"^[a-z_.]+(\{[^}]*\})?: [0-9.]+$", l));
        Assert.Contains("listener_manager.lds.update_rejected: 1", lines);
        Assert.Contains("server.live: 1", lines);
        Assert.Contains(lines, l => l.StartsWith("istio_requests_total{reporter=\"source\",", StringComparison.Ordinal) && l.EndsWith("response_code=\"200\",response_flags=\"-\"}: 1", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("istio_request_duration_milliseconds_sum{", StringComparison.Ordinal) && l.EndsWith("}: 2.5", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("istio-egressgateway.istio-system.svc.cluster.local", "istio-egressgateway", "istio-system")]
    [InlineData("reviews.bookinfo.svc.example.org", "reviews", "bookinfo")]
    [InlineData("edition.cnn.com", "edition.cnn.com", "unknown")]
    [InlineData("*.wikipedia.org", "*.wikipedia.org", "unknown")]
    [InlineData("BlackHoleCluster", "BlackHoleCluster", "unknown")]
    public void ServiceNameAndNamespace_IstioRules(string host, string name, string ns) =>
        Assert.Equal((name, ns), MetricsExposition.ServiceNameAndNamespace(host));

    [Theory]
    [InlineData("router~127.0.0.1~istio-egressgateway-5d9f.istio-system~istio-system.svc.cluster.local", "istio-system", "istio-egressgateway-5d9f", "istio-system")]
    [InlineData("sidecar~127.0.0.1~sleep.default~default.svc.cluster.local", "default", "sleep", "default")]
    [InlineData("not-an-istio-id", null, "unknown", "unknown")]
    [InlineData(null, null, "unknown", "unknown")]
    public void SourceLabels_FromNode(string? id, string? ns, string workload, string workloadNamespace) =>
        Assert.Equal(new SourceLabels(workload, workloadNamespace), SourceLabels.From(id is null && ns is null ? null : new Node { Id = id, Namespace = ns }));

    private static string Prometheus(ProxyMetrics metrics)
    {
        using var text = new StringWriter(CultureInfo.InvariantCulture);
        MetricsExposition.WritePrometheus(text, metrics, Server);
        return text.ToString();
    }
}

using System.Globalization;
using Meshgate.Proxy.Upstream;

namespace Meshgate.Proxy.Observability;

/// <summary>The server-wide values printed beside the Istio metrics (Envoy's <c>server.*</c> and <c>listener_manager.*</c>).</summary>
public readonly record struct ServerStats(SourceLabels Source, TimeSpan Uptime, bool Live, int ActiveListeners);

/// <summary>
/// Prints <see cref="ProxyMetrics"/> in two forms: Prometheus text exposition 0.0.4 (<c>/stats/prometheus</c>), and
/// Envoy-style <c>name{labels}: value</c> lines (<c>/stats</c>). Labels follow Istio's standard metrics; where Istio
/// has <c>destination_cluster</c> (the mesh's cluster id) the proxy's own cluster is <c>upstream_cluster</c>;
/// <c>source_principal</c> is the peer's SPIFFE identity when the proxy terminated mutual TLS, else <c>unknown</c>.
/// </summary>
public static class MetricsExposition
{
    public const string PrometheusContentType = "text/plain; version=0.0.4; charset=utf-8";

    private const string RequestsTotal = "istio_requests_total";
    private const string RequestDuration = "istio_request_duration_milliseconds";
    private const string TcpOpened = "istio_tcp_connections_opened_total";
    private const string TcpClosed = "istio_tcp_connections_closed_total";
    private const string TcpReceived = "istio_tcp_received_bytes_total";
    private const string TcpSent = "istio_tcp_sent_bytes_total";
    private const string EgressBlocked = "meshgate_egress_blocked_total";
    private const string FrontingRefused = "meshgate_domain_fronting_refused_total";
    private const string DownstreamRefused = "meshgate_downstream_connections_refused_total";

    // The classes the egress guard refuses (all but public and operator-declared addresses), in the enum's order.
    private static readonly AddressClass[] RefusedClasses =
        [.. Enum.GetValues<AddressClass>().Where(c => c is not AddressClass.Public and not AddressClass.Declared)];

    private static readonly string[] s_bucketBounds =
        [.. RequestMetrics.DurationBuckets.Select(b => b.ToString("0.###", CultureInfo.InvariantCulture)), "+Inf"];

    public static void WritePrometheus(TextWriter output, ProxyMetrics metrics, in ServerStats server)
    {
        var requests = metrics.Requests();
        var connections = metrics.Connections();
        var source = server.Source;

        Family(output, RequestsTotal, "counter", "Requests handled, by destination service, upstream cluster, response code and response flags.");
        foreach (var request in requests)
        {
            Sample(output, RequestsTotal, RequestLabels(source, request.Key), null, request.Count);
        }

        Family(output, RequestDuration, "histogram", "Request duration, from the first byte received to the last byte sent, in milliseconds.");
        Span<long> buckets = stackalloc long[RequestMetrics.DurationBuckets.Length + 1];
        foreach (var request in requests)
        {
            var labels = RequestLabels(source, request.Key);
            request.CopyBuckets(buckets);
            long cumulative = 0;
            for (var i = 0; i < buckets.Length; i++)
            {
                cumulative += buckets[i];
                Sample(output, RequestDuration + "_bucket", labels, $"le=\"{s_bucketBounds[i]}\"", cumulative);
            }

            output.Write($"{RequestDuration}_sum{{{labels}}} {Number(request.SumMilliseconds)}\n");
            Sample(output, RequestDuration + "_count", labels, null, cumulative);
        }

        TcpFamily(output, TcpOpened, "TCP connections opened.", connections, source, static m => m.Opened);
        TcpFamily(output, TcpClosed, "TCP connections closed.", connections, source, static m => m.Closed);
        TcpFamily(output, TcpReceived, "Bytes received from downstream on TCP connections.", connections, source, static m => m.ReceivedBytes);
        TcpFamily(output, TcpSent, "Bytes sent to downstream on TCP connections.", connections, source, static m => m.SentBytes);

        Family(output, EgressBlocked, "counter", "Upstream destinations the egress guard refused, by address class.");
        foreach (var blocked in RefusedClasses)
        {
            output.Write($"{EgressBlocked}{{class=\"{EgressGuard.Name(blocked)}\"}} {metrics.EgressBlockedCount(blocked)}\n");
        }

        Family(output, FrontingRefused, "counter", "Requests (SNI against Host) and CONNECT tunnels (target against SNI) refused as domain fronting.");
        output.Write($"{FrontingRefused}{{check=\"sni_host\"}} {metrics.DomainFrontingRefusedCount(DomainFrontingCheck.SniHost)}\n");
        output.Write($"{FrontingRefused}{{check=\"connect_sni\"}} {metrics.DomainFrontingRefusedCount(DomainFrontingCheck.ConnectSni)}\n");
        Family(output, DownstreamRefused, "counter", "Downstream connections closed at once because their listener was at its connection limit.");
        output.Write($"{DownstreamRefused} {metrics.DownstreamConnectionsRefused}\n");

        Family(output, "envoy_server_live", "gauge", "1 once the listeners are open.");
        output.Write($"envoy_server_live {(server.Live ? 1 : 0)}\n");
        Family(output, "envoy_server_uptime", "gauge", "Seconds since the proxy started.");
        output.Write($"envoy_server_uptime {(long)server.Uptime.TotalSeconds}\n");
        Family(output, "envoy_listener_manager_total_listeners_active", "gauge", "Listeners open.");
        output.Write($"envoy_listener_manager_total_listeners_active {server.ActiveListeners}\n");
        Family(output, "envoy_listener_manager_lds_update_success", "counter", "Configuration updates applied.");
        output.Write($"envoy_listener_manager_lds_update_success {metrics.UpdatesApplied}\n");
        Family(output, "envoy_listener_manager_lds_update_rejected", "counter", "Configuration updates rejected; the last good one was kept.");
        output.Write($"envoy_listener_manager_lds_update_rejected {metrics.UpdatesRejected}\n");
    }

    public static void WriteStats(TextWriter output, ProxyMetrics metrics, in ServerStats server)
    {
        output.Write($"listener_manager.lds.update_rejected: {metrics.UpdatesRejected}\n");
        output.Write($"listener_manager.lds.update_success: {metrics.UpdatesApplied}\n");
        output.Write($"listener_manager.total_listeners_active: {server.ActiveListeners}\n");
        output.Write($"server.live: {(server.Live ? 1 : 0)}\n");
        output.Write($"server.uptime: {(long)server.Uptime.TotalSeconds}\n");
        foreach (var blocked in RefusedClasses)
        {
            output.Write($"meshgate.egress_blocked.{EgressGuard.Name(blocked)}: {metrics.EgressBlockedCount(blocked)}\n");
        }

        output.Write($"meshgate.domain_fronting_refused.sni_host: {metrics.DomainFrontingRefusedCount(DomainFrontingCheck.SniHost)}\n");
        output.Write($"meshgate.domain_fronting_refused.connect_sni: {metrics.DomainFrontingRefusedCount(DomainFrontingCheck.ConnectSni)}\n");
        output.Write($"meshgate.downstream_connections_refused: {metrics.DownstreamConnectionsRefused}\n");

        var source = server.Source;
        foreach (var request in metrics.Requests())
        {
            var labels = RequestLabels(source, request.Key);
            output.Write($"{RequestsTotal}{{{labels}}}: {request.Count}\n");
            output.Write($"{RequestDuration}_count{{{labels}}}: {request.Count}\n");
            output.Write($"{RequestDuration}_sum{{{labels}}}: {Number(request.SumMilliseconds)}\n");
        }

        foreach (var connection in metrics.Connections())
        {
            var labels = TcpLabels(source, connection.Key);
            output.Write($"{TcpOpened}{{{labels}}}: {connection.Opened}\n");
            output.Write($"{TcpClosed}{{{labels}}}: {connection.Closed}\n");
            output.Write($"{TcpReceived}{{{labels}}}: {connection.ReceivedBytes}\n");
            output.Write($"{TcpSent}{{{labels}}}: {connection.SentBytes}\n");
        }
    }

    /// <summary>
    /// Istio's <c>destination_service_name</c> and <c>destination_service_namespace</c> for a service host:
    /// <c>name.namespace.svc.cluster.local</c> splits into its parts; any other host (a ServiceEntry's external name)
    /// is its own name, in no known namespace.
    /// </summary>
    public static (string Name, string Namespace) ServiceNameAndNamespace(string host)
    {
        var parts = host.Split('.');
        return parts.Length >= 4 && parts[2] == "svc" && parts[0].Length > 0 && parts[1].Length > 0
            ? (parts[0], parts[1])
            : (host, SourceLabels.Unknown);
    }

    private static void TcpFamily(TextWriter output, string name, string help, IReadOnlyList<TcpMetrics> connections, SourceLabels source, Func<TcpMetrics, long> value)
    {
        Family(output, name, "counter", help);
        foreach (var connection in connections)
        {
            Sample(output, name, TcpLabels(source, connection.Key), null, value(connection));
        }
    }

    private static string RequestLabels(SourceLabels source, RequestKey key)
    {
        var (name, ns) = ServiceNameAndNamespace(key.DestinationService);
        return string.Create(CultureInfo.InvariantCulture,
            $"reporter=\"source\",source_workload=\"{Escape(source.Workload)}\",source_workload_namespace=\"{Escape(source.WorkloadNamespace)}\","
            + $"source_principal=\"{Escape(key.SourcePrincipal)}\","
            + $"destination_service=\"{Escape(key.DestinationService)}\",destination_service_name=\"{Escape(name)}\",destination_service_namespace=\"{Escape(ns)}\","
            + $"upstream_cluster=\"{Escape(key.UpstreamCluster)}\",request_protocol=\"http\",response_code=\"{key.ResponseCode}\",response_flags=\"{key.ResponseFlags.ToShortString()}\"");
    }

    private static string TcpLabels(SourceLabels source, TcpKey key)
    {
        var (name, ns) = ServiceNameAndNamespace(key.DestinationService);
        return $"reporter=\"source\",source_workload=\"{Escape(source.Workload)}\",source_workload_namespace=\"{Escape(source.WorkloadNamespace)}\","
            + $"source_principal=\"{Escape(key.SourcePrincipal)}\","
            + $"destination_service=\"{Escape(key.DestinationService)}\",destination_service_name=\"{Escape(name)}\",destination_service_namespace=\"{Escape(ns)}\","
            + $"upstream_cluster=\"{Escape(key.UpstreamCluster)}\",request_protocol=\"tcp\"";
    }

    private static void Family(TextWriter output, string name, string type, string help)
    {
        output.Write($"# HELP {name} {help}\n# TYPE {name} {type}\n");
    }

    private static void Sample(TextWriter output, string name, string labels, string? extra, long value)
    {
        output.Write(name);
        output.Write('{');
        output.Write(labels);
        if (extra is not null)
        {
            output.Write(',');
            output.Write(extra);
        }

        output.Write("} ");
        output.Write(value.ToString(CultureInfo.InvariantCulture));
        output.Write('\n');
    }

    private static string Number(double value) => value.ToString("0.###", CultureInfo.InvariantCulture);

    /// <summary>Label values as the exposition format requires: backslash, double quote and line feed escaped.</summary>
    internal static string Escape(string value) =>
        value.AsSpan().IndexOfAny('\\', '"', '\n') < 0 ? value : value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);
}

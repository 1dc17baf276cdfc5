using System.Globalization;
using System.Net;
using System.Reflection;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using Meshgate.Core.ProxyConfiguration;
using Meshgate.Proxy.Observability;
using Microsoft.AspNetCore.Http;

namespace Meshgate.Proxy.Admin;

/// <summary>
/// The admin pages, after Envoy's admin interface (read-only, so GET only): <c>/config_dump</c>, <c>/clusters</c>,
/// <c>/stats</c>, <c>/stats/prometheus</c>, <c>/server_info</c> and <c>/ready</c>. Every page reads the current
/// snapshot once.
/// </summary>
internal sealed partial class AdminEndpoints(ProxyServer proxy, Func<AdminServer?> server)
{
    /// <summary>
    /// The pages' JSON, as ResourceJson writes resources (camelCase, enums by their API names, nulls omitted, indented),
    /// from source-generated metadata: no reflection, so the admin pages work in a trimmed or Native AOT proxy.
    /// </summary>
    private static readonly AdminJson Json = new(new JsonSerializerOptions(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        WriteIndented = true,
        IndentSize = 4,
        Converters = { new JsonStringEnumConverter<ClusterDiscovery>(), new JsonStringEnumConverter<ListenerProtocol>(), new JsonStringEnumConverter<ProxyRole>() },
    });

    /// <summary>How long <c>/clusters</c> waits for a name to resolve.</summary>
    private static readonly TimeSpan ResolveTimeout = TimeSpan.FromSeconds(5);

    private static readonly string Version =
        typeof(ProxyServer).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    private const string Index = """
        meshgate proxy admin
          /config_dump         the current configuration (JSON; meshgate proxy --config reads it back)
          /clusters            each cluster, its endpoints and the addresses they resolve to now (?format=json)
          /stats               counters as name{labels}: value
          /stats/prometheus    the same in Prometheus text format 0.0.4
          /server_info         version, state, uptime, configuration version, listeners
          /ready               200 LIVE once the listeners are open

        """;

    public Task HandleAsync(HttpContext context)
    {
        if (!HttpMethods.IsGet(context.Request.Method) && !HttpMethods.IsHead(context.Request.Method))
        {
            context.Response.Headers.Allow = "GET, HEAD";
            return TextAsync(context, StatusCodes.Status405MethodNotAllowed, "the admin pages are read-only: use GET\n");
        }

        return context.Request.Path.Value switch
        {
            "/" => TextAsync(context, StatusCodes.Status200OK, Index),
            "/config_dump" => ConfigDumpAsync(context),
            "/clusters" => ClustersAsync(context),
            "/stats" => StatsAsync(context, prometheus: false),
            "/stats/prometheus" => StatsAsync(context, prometheus: true),
            "/server_info" => ServerInfoAsync(context),
            "/ready" => proxy.IsReady
                ? TextAsync(context, StatusCodes.Status200OK, "LIVE\n")
                : TextAsync(context, StatusCodes.Status503ServiceUnavailable, "PRE_INITIALIZING\n"),
            _ => TextAsync(context, StatusCodes.Status404NotFound, $"no admin page {context.Request.Path.Value}\n\n{Index}"),
        };
    }

    /// <summary>What Envoy's admin prints in place of a private key.</summary>
    private const string RedactedKey = "[redacted]";

    private Task ConfigDumpAsync(HttpContext context)
    {
        var snapshot = proxy.Snapshots.Current;
        var config = snapshot.Config;
        if (snapshot.Workload is { } workload)
        {
            // The workload's own secrets as Envoy's config dump shows SDS secrets: the chain and root, the key redacted.
            config = config with
            {
                Secrets =
                [
                    workload.Certificate with { PrivateKey = RedactedKey },
                    workload.RootCa,
                    .. config.Secrets.Where(s => s.Name is not (Secret.Default or Secret.RootCa)),
                ],
            };
        }

        context.Response.Headers["x-meshgate-config-version"] = config.Version;
        return WriteAsync(context, StatusCodes.Status200OK, "application/json", ProxyConfigLoader.ToJson(config, indented: true) + "\n");
    }

    private async Task ClustersAsync(HttpContext context)
    {
        var snapshot = proxy.Snapshots.Current;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        timeout.CancelAfter(ResolveTimeout);
        var clusters = new List<ClusterStatus>();
        foreach (var cluster in snapshot.Clusters.OrderBy(c => c.Name, StringComparer.Ordinal))
        {
            var endpoints = new List<EndpointStatus>();
            for (var i = 0; i < cluster.Cluster.Endpoints.Count; i++)
            {
                var endpoint = cluster.Cluster.Endpoints[i];
                IPAddress[] addresses;
                try
                {
                    addresses = await cluster.ResolveAsync(endpoint, timeout.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!context.RequestAborted.IsCancellationRequested)
                {
                    addresses = [];
                }

                endpoints.Add(new EndpointStatus(endpoint.Address, endpoint.Port, endpoint.Weight, [.. addresses.Select(a => a.ToString())]));
            }

            clusters.Add(new ClusterStatus(cluster.Name, cluster.Cluster.Discovery, endpoints));
        }

        if (context.Request.Query["format"] == "json")
        {
            await WriteAsync(context, StatusCodes.Status200OK, "application/json",
                JsonSerializer.Serialize(new ClustersPage(snapshot.Config.Version, clusters), Json.ClustersPage) + "\n").ConfigureAwait(false);
            return;
        }

        // Envoy's text form: cluster::host::field::value, one host per resolved address.
        var text = new StringBuilder();
        foreach (var cluster in clusters)
        {
            text.Append(CultureInfo.InvariantCulture, $"{cluster.Name}::discovery::{JsonNamingOf(cluster.Discovery)}\n");
            foreach (var endpoint in cluster.Endpoints)
            {
                if (endpoint.Resolved.Count == 0)
                {
                    text.Append(CultureInfo.InvariantCulture, $"{cluster.Name}::{endpoint.Address}:{endpoint.Port}::health_flags::/failed_dns\n");
                    continue;
                }

                foreach (var address in endpoint.Resolved)
                {
                    var host = new IPEndPoint(IPAddress.Parse(address), endpoint.Port);
                    text.Append(CultureInfo.InvariantCulture, $"{cluster.Name}::{host}::hostname::{endpoint.Address}\n");
                    text.Append(CultureInfo.InvariantCulture, $"{cluster.Name}::{host}::health_flags::healthy\n");
                    text.Append(CultureInfo.InvariantCulture, $"{cluster.Name}::{host}::weight::{endpoint.Weight}\n");
                }
            }
        }

        await TextAsync(context, StatusCodes.Status200OK, text.ToString()).ConfigureAwait(false);
    }

    private Task StatsAsync(HttpContext context, bool prometheus)
    {
        var stats = new ServerStats(
            SourceLabels.From(proxy.Snapshots.Current.Config.Node),
            proxy.Time.GetUtcNow() - proxy.StartedAt,
            proxy.IsReady,
            proxy.Listening.Count);
        using var text = new StringWriter(CultureInfo.InvariantCulture);
        if (prometheus)
        {
            MetricsExposition.WritePrometheus(text, proxy.Metrics, stats);
            return WriteAsync(context, StatusCodes.Status200OK, MetricsExposition.PrometheusContentType, text.ToString());
        }

        MetricsExposition.WriteStats(text, proxy.Metrics, stats);
        return TextAsync(context, StatusCodes.Status200OK, text.ToString());
    }

    private Task ServerInfoAsync(HttpContext context)
    {
        var config = proxy.Snapshots.Current.Config;
        var admin = server();
        var info = new ServerInfo(
            Version,
            proxy.IsReady ? "LIVE" : "PRE_INITIALIZING",
            $"{(long)(proxy.Time.GetUtcNow() - proxy.StartedAt).TotalSeconds}s",
            config.Version,
            config.Node,
            [.. proxy.Listening.Select(l => new ListenerStatus(l.Listener.Name, l.Listener.Protocol, l.Bound?.ToString() ?? l.Listener.Endpoint))],
            admin?.AdminEndPoint?.ToString(),
            admin?.StatusEndPoint?.ToString());
        return WriteAsync(context, StatusCodes.Status200OK, "application/json", JsonSerializer.Serialize(info, Json.ServerInfo) + "\n");
    }

    private static string JsonNamingOf(ClusterDiscovery discovery) => JsonSerializer.Serialize(discovery, Json.ClusterDiscovery).Trim('"');

    internal static Task TextAsync(HttpContext context, int status, string text) =>
        WriteAsync(context, status, "text/plain; charset=utf-8", text);

    private static Task WriteAsync(HttpContext context, int status, string contentType, string body)
    {
        var bytes = Encoding.UTF8.GetBytes(body);
        context.Response.StatusCode = status;
        context.Response.ContentType = contentType;
        context.Response.ContentLength = bytes.Length;
        context.Response.Headers.CacheControl = "no-cache";
        return HttpMethods.IsHead(context.Request.Method) ? Task.CompletedTask : context.Response.Body.WriteAsync(bytes).AsTask();
    }

    private sealed record ClustersPage(string ConfigVersion, IReadOnlyList<ClusterStatus> Clusters);

    private sealed record ClusterStatus(string Name, ClusterDiscovery Discovery, IReadOnlyList<EndpointStatus> Endpoints);

    private sealed record EndpointStatus(string Address, int Port, int Weight, IReadOnlyList<string> Resolved);

    private sealed record ServerInfo(string Version, string State, string UptimeCurrentEpoch, string ConfigVersion, Node? Node,
        IReadOnlyList<ListenerStatus> Listeners, string? Admin, string? Status);

    private sealed record ListenerStatus(string Name, ListenerProtocol Protocol, string Address);

    [JsonSerializable(typeof(ClustersPage))]
    [JsonSerializable(typeof(ServerInfo))]
    [JsonSerializable(typeof(ClusterDiscovery))]
    private sealed partial class AdminJson : JsonSerializerContext;
}

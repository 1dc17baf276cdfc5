using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using Meshgate.Core.ProxyConfiguration;

namespace Meshgate.Writers;

/// <summary>The tables of <c>meshgate proxy-config</c>, in istioctl's columns (simplified where ours has less to say).</summary>
public static class ProxyConfigTables
{
    /// <summary>ADDRESS PORT MATCH DESTINATION: one row per filter chain (istioctl proxy-config listeners).</summary>
    public static string Listeners(ProxyConfig config)
    {
        var rows = new List<IReadOnlyList<string>>();
        foreach (var listener in config.Listeners.OrderBy(l => l.Port).ThenBy(l => l.Address, StringComparer.Ordinal))
        {
            var port = listener.Port.ToString(CultureInfo.InvariantCulture);
            foreach (var chain in listener.FilterChains)
            {
                rows.Add([listener.Address, port, Match(listener, chain), Destination(chain)]);
            }

            if (listener.DefaultFilterChain is { } fallback)
            {
                rows.Add([listener.Address, port, "ALL", Destination(fallback)]);
            }

            if (listener.FilterChains.Count == 0 && listener.DefaultFilterChain is null)
            {
                rows.Add([listener.Address, port, "ALL", "-"]);
            }
        }

        return TableWriter.Write(["ADDRESS", "PORT", "MATCH", "DESTINATION"], rows);
    }

    /// <summary>NAME DOMAINS MATCH VIRTUAL SERVICE: one row per route.</summary>
    public static string Routes(ProxyConfig config)
    {
        var rows = new List<IReadOnlyList<string>>();
        foreach (var table in config.RouteTables.OrderBy(t => t.Name, StringComparer.Ordinal))
        {
            foreach (var host in table.VirtualHosts)
            {
                var domains = host.Domains.Count switch
                {
                    0 => "-",
                    1 => host.Domains[0],
                    _ => $"{host.Domains[0]} +{host.Domains.Count - 1} more",
                };
                foreach (var route in host.Routes)
                {
                    rows.Add([table.Name, domains, PathMatch(route.Match), route.Name ?? "-"]);
                }

                if (host.Routes.Count == 0)
                {
                    rows.Add([table.Name, domains, "-", "-"]);
                }
            }
        }

        return TableWriter.Write(["NAME", "DOMAINS", "MATCH", "VIRTUAL SERVICE"], rows);
    }

    /// <summary>SERVICE FQDN PORT SUBSET DIRECTION TYPE DESTINATION RULE (the last: the upstream TLS mode).</summary>
    public static string Clusters(ProxyConfig config)
    {
        var rows = new List<IReadOnlyList<string>>();
        // istioctl's order: by host, then port as a number; names that are not Istio's (BlackHoleCluster...) last.
        var ordered = config.Clusters
            .Select(c => (Cluster: c, Parsed: ClusterName.TryParse(c.Name, out var n) ? n : (ClusterName?)null))
            .OrderBy(c => c.Parsed is null)
            .ThenBy(c => c.Parsed?.Host ?? c.Cluster.Name, StringComparer.Ordinal)
            .ThenBy(c => c.Parsed?.Port ?? 0)
            .ThenBy(c => c.Parsed?.Subset ?? "", StringComparer.Ordinal)
            .Select(c => c.Cluster);
        foreach (var cluster in ordered)
        {
            var type = Discovery(cluster.Discovery);
            var tls = cluster.Tls is { } t ? t.Mode.ToString().ToUpperInvariant() : "-";
            rows.Add(ClusterName.TryParse(cluster.Name, out var name)
                ? [name.Host, name.Port.ToString(CultureInfo.InvariantCulture), name.Subset.Length == 0 ? "-" : name.Subset, name.Direction == TrafficDirection.Outbound ? "outbound" : "inbound", type, tls]
                : [cluster.Name, "-", "-", "-", type, tls]);
        }

        return TableWriter.Write(["SERVICE FQDN", "PORT", "SUBSET", "DIRECTION", "TYPE", "DESTINATION RULE"], rows);
    }

    /// <summary>ENDPOINT STATUS OUTLIER CHECK CLUSTER, from the admin's <c>/clusters?format=json</c>.</summary>
    public static string Endpoints(JsonNode? clusters)
    {
        var rows = new List<IReadOnlyList<string>>();
        foreach (var cluster in (clusters?["clusters"] as JsonArray ?? []).OfType<JsonObject>())
        {
            var name = cluster["name"]?.GetValue<string>() ?? "-";
            foreach (var endpoint in (cluster["endpoints"] as JsonArray ?? []).OfType<JsonObject>())
            {
                var port = endpoint["port"]?.GetValue<int>() ?? 0;
                var resolved = (endpoint["resolved"] as JsonArray ?? []).Select(a => a?.GetValue<string>()).OfType<string>().ToList();
                if (resolved.Count == 0)
                {
                    rows.Add([$"{endpoint["address"]}:{port}", "UNHEALTHY", "OK", name]);
                }

                foreach (var address in resolved)
                {
                    var host = address.Contains(':', StringComparison.Ordinal) ? $"[{address}]" : address;
                    rows.Add([$"{host}:{port}", "HEALTHY", "OK", name]);
                }
            }
        }

        return TableWriter.Write(["ENDPOINT", "STATUS", "OUTLIER CHECK", "CLUSTER"], rows);
    }

    /// <summary>RESOURCE NAME TYPE STATUS VALID CERT SERIAL NUMBER NOT AFTER NOT BEFORE, as of now.</summary>
    public static string Secrets(ProxyConfig config) => Secrets(config.Secrets, DateTimeOffset.UtcNow);

    /// <summary>
    /// RESOURCE NAME TYPE STATUS VALID CERT SERIAL NUMBER NOT AFTER NOT BEFORE (istioctl proxy-config secret): one row
    /// per SDS resource of <see cref="SecretsConfigDump.Resources"/>, its first certificate described; serial in
    /// lower-case hex without leading zeros and times in RFC 3339, as istioctl prints Go's big.Int and time.Time.
    /// </summary>
    public static string Secrets(IEnumerable<Secret> secrets, DateTimeOffset now)
    {
        var rows = new List<IReadOnlyList<string>>();
        foreach (var resource in SecretsConfigDump.Resources(secrets))
        {
            X509Certificate2? certificate = null;
            try
            {
                // The first CERTIFICATE block: the leaf of a chain, the first root of a bundle.
                certificate = X509Certificate2.CreateFromPem(resource.Pem);
            }
            catch (CryptographicException)
            {
            }

            using (certificate)
            {
                rows.Add(certificate is null
                    ? [resource.Name, resource.Type, "ACTIVE", "false", "-", "-", "-"]
                    :
                    [
                        resource.Name, resource.Type, "ACTIVE",
                        (certificate.NotBefore.ToUniversalTime() <= now.UtcDateTime && now.UtcDateTime <= certificate.NotAfter.ToUniversalTime()) ? "true" : "false",
                        Serial(certificate),
                        Rfc3339(certificate.NotAfter),
                        Rfc3339(certificate.NotBefore),
                    ]);
            }
        }

        return TableWriter.Write(["RESOURCE NAME", "TYPE", "STATUS", "VALID CERT", "SERIAL NUMBER", "NOT AFTER", "NOT BEFORE"], rows);
    }

    // DER keeps a leading zero byte for a serial whose high bit is set; big.Int.Text(16) shows none.
    private static string Serial(X509Certificate2 certificate) =>
        certificate.SerialNumber.TrimStart('0').ToLowerInvariant() is { Length: > 0 } hex ? hex : "0";

    private static string Rfc3339(DateTime time) =>
        time.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static string Match(Listener listener, FilterChain chain)
    {
        if (chain.ServerNames.Count > 0)
        {
            return "SNI: " + string.Join(',', chain.ServerNames);
        }

        return listener.Protocol switch
        {
            ListenerProtocol.Http => listener.ExplicitHttpProxy ? "HTTP proxy (explicit)" : "Trans: raw_buffer; App: http/1.1,h2c",
            ListenerProtocol.Tls => "Trans: tls",
            _ => listener.UseOriginalDestination ? "ALL (original destination)" : "ALL",
        };
    }

    private static string Destination(FilterChain chain) =>
        chain.RouteTable is { } table ? $"Route: {table}" : chain.Cluster is { } cluster ? $"Cluster: {cluster}" : "-";

    private static string PathMatch(RouteMatch? match) => match switch
    {
        null => "/*",
        { Exact: { } exact } => exact,
        { Prefix: { } prefix } => prefix + "*",
        { Regex: { } regex } => "~" + regex,
        _ => "/*",
    };

    private static string Discovery(ClusterDiscovery discovery) => discovery switch
    {
        ClusterDiscovery.Static => "STATIC",
        ClusterDiscovery.OriginalDestination => "ORIGINAL_DST",
        _ => System.Text.Json.JsonSerializer.Serialize(discovery, Meshgate.Core.Resources.ResourceJson.Options).Trim('"').ToUpperInvariant(),
    };
}

using System.CommandLine;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Meshgate.Core.ProxyConfiguration;
using Meshgate.Writers;

namespace Meshgate.Commands;

/// <summary>
/// <c>meshgate proxy-config (pc) listeners|routes|clusters|endpoints|secret|all POD[.NS]</c>: what one proxy runs
/// (istioctl proxy-config), read from its admin <c>/config_dump</c> and <c>/clusters</c>; the proxy is found through
/// its Pod's <c>meshgate.io/admin-port</c> annotation. <c>secret -o json</c> is Envoy's SecretsConfigDump, as istioctl
/// prints it; no output ever holds a private key.
/// </summary>
public static class ProxyConfigCommand
{
    // Stands in for every private key the admin page shows (see Read).
    private const string KeyPlaceholder = "-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----\n";

    private static readonly string[] Sections = ["listeners", "routes", "clusters", "endpoints", "secret", "all"];

    public static Command Create(CliContext cli)
    {
        var section = new Argument<string>("type") { Description = string.Join('|', Sections) };
        section.AcceptOnlyFromAmong([.. Sections, "listener", "route", "cluster", "endpoint", "secrets"]);
        var pod = new Argument<string>("pod") { Description = "The proxy's workload: POD or POD.NAMESPACE (meshgate proxy-status lists them)" };
        var ns = CommonOptions.Namespace();
        var output = new Option<string?>("--output", "-o") { Description = "json (for secret: Envoy's SecretsConfigDump), or tables by default" };
        output.AcceptOnlyFromAmong("json");
        var command = new Command("proxy-config", "Show a proxy's listeners, routes, clusters, endpoints or secrets") { section, pod, ns, output };
        command.Aliases.Add("pc");
        command.SetAction(async (parse, cancellationToken) =>
        {
            var (name, namespaceName) = SplitPod(parse.GetValue(pod)!, parse.GetValue(ns));
            using var api = new ApiClient(ApiTarget.Resolve(parse));
            JsonNode? found;
            try
            {
                found = await api.GetAsync($"/api/v1/namespaces/{Uri.EscapeDataString(namespaceName)}/pods/{Uri.EscapeDataString(name)}", cancellationToken);
            }
            catch (CliException e) when (e.Message.Contains("(NotFound)", StringComparison.Ordinal))
            {
                throw new CliException($"error: pod \"{name}\" not found in namespace \"{namespaceName}\"; 'meshgate proxy-status' lists the proxies");
            }

            var annotation = found?["metadata"]?["annotations"]?["meshgate.io/admin-port"]?.GetValue<string>();
            if (!int.TryParse(annotation, NumberStyles.None, CultureInfo.InvariantCulture, out var adminPort) || adminPort is < 1 or > 65535)
            {
                throw new CliException($"error: pod {name}.{namespaceName} has no proxy admin port (annotation meshgate.io/admin-port); was it registered by a proxy?");
            }

            var admin = new Uri($"http://127.0.0.1:{adminPort}");
            using var http = AdminClient(admin, found?["metadata"]?["annotations"]?[LocalCluster.Kubelet.NetnsAnnotation]?.GetValue<string>());
            var dump = await FetchAsync(http, "/config_dump", name, namespaceName, cancellationToken);
            var loaded = Read(dump, $"{admin}config_dump");
            if (loaded.Config is not { } config)
            {
                throw new CliException($"error: the proxy of {name}.{namespaceName} answered a configuration this CLI cannot read: {loaded.Errors[0]}");
            }

            var which = Normalize(parse.GetValue(section)!);
            JsonNode? clusters = null;
            if (which is "endpoints" or "all")
            {
                clusters = JsonNode.Parse(await FetchAsync(http, "/clusters?format=json", name, namespaceName, cancellationToken));
            }

            if (parse.GetValue(output) == "json")
            {
                // Envoy's lastUpdated is when the proxy took the secret; the admin page does not say, so: when it was read.
                await cli.Out.WriteLineAsync(Json(which, config, clusters, DateTimeOffset.UtcNow));
                return 0;
            }

            var text = which switch
            {
                "listeners" => ProxyConfigTables.Listeners(config),
                "routes" => ProxyConfigTables.Routes(config),
                "clusters" => ProxyConfigTables.Clusters(config),
                "endpoints" => ProxyConfigTables.Endpoints(clusters),
                "secret" => ProxyConfigTables.Secrets(config),
                _ => string.Join('\n', ProxyConfigTables.Listeners(config), ProxyConfigTables.Routes(config), ProxyConfigTables.Clusters(config),
                    ProxyConfigTables.Endpoints(clusters), ProxyConfigTables.Secrets(config)),
            };
            await cli.Out.WriteAsync(text);
            return 0;
        });
        return command;
    }

    private static (string Name, string Namespace) SplitPod(string text, string? option)
    {
        var dot = text.IndexOf('.', StringComparison.Ordinal);
        return dot > 0 ? (text[..dot], text[(dot + 1)..]) : (text, option ?? "default");
    }

    private static string Normalize(string section) => section switch
    {
        "listener" => "listeners",
        "route" => "routes",
        "cluster" => "clusters",
        "endpoint" => "endpoints",
        "secrets" => "secret",
        _ => section,
    };

    /// <summary>
    /// The proxy's admin pages listen on its own loopback: on this machine's for a proxy of <c>meshgate up</c>, in its
    /// pod's network namespace for one of the local cluster (entered for the connection, as root).
    /// </summary>
    private static HttpClient AdminClient(Uri admin, string? networkNamespace)
    {
        if (networkNamespace is null)
        {
            return new HttpClient { BaseAddress = admin, Timeout = TimeSpan.FromSeconds(15) };
        }

        if (!Environment.IsPrivilegedProcess)
        {
            throw new CliException($"error: the proxy's admin port is in its pod's network namespace {networkNamespace}; reading it needs root (run it with sudo)");
        }

        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (context, cancellationToken) =>
            {
                var socket = LocalCluster.NamespaceSockets.Create(networkNamespace, System.Net.Sockets.AddressFamily.InterNetwork);
                try
                {
                    await socket.ConnectAsync(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, context.DnsEndPoint.Port), cancellationToken);
                    return new System.Net.Sockets.NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        return new HttpClient(handler) { BaseAddress = admin, Timeout = TimeSpan.FromSeconds(15) };
    }

    private static async Task<string> FetchAsync(HttpClient http, string path, string name, string ns, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await http.GetAsync(path, cancellationToken);
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            return response.IsSuccessStatusCode
                ? body
                : throw new CliException($"error: the proxy admin of {name}.{ns} at {http.BaseAddress} answered {(int)response.StatusCode} for {path}");
        }
        catch (HttpRequestException e)
        {
            var why = e.InnerException is SocketException s ? s.SocketErrorCode == SocketError.ConnectionRefused ? "connection refused" : s.SocketErrorCode.ToString() : e.Message;
            throw new CliException($"error: cannot reach the proxy admin of {name}.{ns} at {http.BaseAddress} ({why}); is the proxy running? ('meshgate proxy-status' shows it)");
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new CliException($"error: the proxy admin of {name}.{ns} at {http.BaseAddress} did not answer within 15s");
        }
    }

    /// <summary>
    /// The admin's <c>/config_dump</c> with every private key dropped on arrival: nothing downstream can print one.
    /// The validator wants PEM text where a key is, so a key (or the proxy's own <c>[redacted]</c>) becomes an empty block.
    /// </summary>
    private static ProxyConfigLoadResult Read(string dump, string source)
    {
        byte[] keyless;
        try
        {
            var root = JsonNode.Parse(dump);
            foreach (var secret in (root?["secrets"] as JsonArray ?? []).OfType<JsonObject>())
            {
                if (secret["privateKey"] is JsonValue)
                {
                    secret["privateKey"] = KeyPlaceholder;
                }
            }

            keyless = Encoding.UTF8.GetBytes(root?.ToJsonString() ?? "null");
        }
        catch (Exception e) when (e is JsonException or ArgumentException or InvalidOperationException)
        {
            // Not JSON as expected: the loader says exactly what is wrong with it.
            return ProxyConfigLoader.Load(dump, source);
        }

        return ProxyConfigLoader.LoadJson(keyless, source);
    }

    private static string Json(string which, ProxyConfig config, JsonNode? clusters, DateTimeOffset now)
    {
        if (which == "secret")
        {
            return SecretsConfigDump.ToJson(config.Secrets, config.Version, now);
        }

        var all = JsonNode.Parse(ProxyConfigLoader.ToJson(config))!.AsObject();
        JsonNode? result = which switch
        {
            "listeners" => all["listeners"],
            "routes" => all["routeTables"],
            "clusters" => all["clusters"],
            "endpoints" => clusters?["clusters"],
            _ => all,
        };
        if (which == "all")
        {
            all["secrets"] = Redacted(all["secrets"]?.DeepClone());
        }

        return (result ?? new JsonArray()).ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    /// <summary>Private keys never leave the proxy through the CLI.</summary>
    private static JsonNode? Redacted(JsonNode? secrets)
    {
        foreach (var secret in (secrets as JsonArray ?? []).OfType<JsonObject>())
        {
            if (secret.ContainsKey("privateKey"))
            {
                secret["privateKey"] = "[redacted]";
            }
        }

        return secrets;
    }
}

using System.CommandLine;
using System.Net;
using Meshgate.ControlPlane;
using Meshgate.Install;
using Meshgate.Proxy.Upstream;

namespace Meshgate.Commands;

/// <summary>
/// <c>meshgate up</c>: the control plane, the egress gateway and one local sidecar (workload <c>sleep</c>, explicit
/// mode on 127.0.0.1:15001), supervised in the foreground until Ctrl-C or SIGTERM, as a demo cluster would run them.
/// </summary>
public static class UpCommand
{
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(60);

    public static Command Create(CliContext cli)
    {
        var data = new Option<string>("--data") { Description = "Data directory (store, keys, proxy logs)", DefaultValueFactory = _ => ".meshgate" };
        var listen = new Option<string>("--listen") { Description = "Address of the resource API", DefaultValueFactory = _ => $"127.0.0.1:{ControlPlaneOptions.DefaultApiPort}" };
        var discovery = new Option<int>("--discovery-port")
        {
            Description = "Port of the discovery stream and the CA (gRPC over TLS, Istio's 15012) for proxies, on the --listen address; 0 picks a free one",
            DefaultValueFactory = _ => ControlPlaneOptions.DefaultDiscoveryPort,
        };
        var profile = new Option<string>("--profile") { Description = "demo (egress gateway, access logs; the default) or minimal (no gateway)", DefaultValueFactory = _ => "demo" };
        var set = new Option<string[]>("--set")
        {
            Description = "An istioctl setting, PATH=VALUE (repeatable): " + string.Join(", ", InstallSettings.SupportedPaths),
            HelpName = "PATH=VALUE",
            Arity = ArgumentArity.OneOrMore,
            AllowMultipleArgumentsPerToken = false,
        };
        var dnsServers = new Option<string[]>("--dns-server")
        {
            Description = $"Make every proxy resolve with this DNS server (IP:PORT; repeatable); default ${DnsServerList.EnvironmentVariable}, else the system resolver",
            HelpName = "IP:PORT",
            Arity = ArgumentArity.OneOrMore,
        };
        var proxyAddress = ProxyAddressOption();
        var certificateLifetime = new Option<string?>("--workload-cert-ttl")
        {
            Description = "Lifetime of the proxies' workload certificates, e.g. 24h (the default) or 30s to watch them rotate (Istio's SECRET_TTL)",
            HelpName = "DURATION",
        };
        var cluster = new Option<bool>("--cluster")
        {
            Description = "Run a local cluster in network namespaces (root): pods, Services, kube-dns, sidecar injection, NetworkPolicy, and an internet namespace serving --site hosts (docs/cluster.md)",
        };
        var sites = new Option<string[]>("--site")
        {
            Description = "With --cluster: a host the internet namespace serves (HTTP 301 to HTTPS, HTTPS 200), repeatable; default edition.cnn.com",
            HelpName = "HOST",
            Arity = ArgumentArity.OneOrMore,
        };
        var command = new Command("up", "Run Meshgate on this machine: control plane, egress gateway and a local sidecar, in the foreground (Ctrl-C stops all)")
        {
            data, listen, discovery, profile, set, dnsServers, proxyAddress, certificateLifetime, cluster, sites,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            InstallSettings settings;
            try
            {
                settings = InstallSettings.Parse(parse.GetValue(profile)!, parse.GetValue(set) ?? []);
            }
            catch (InstallSettingsException e)
            {
                throw new CliException("error: " + e.Message);
            }

            var listenText = parse.GetValue(listen)!;
            if (!IPEndPoint.TryParse(listenText, out var endpoint))
            {
                throw new CliException($"error: --listen \"{listenText}\" is not IP:PORT, for example 127.0.0.1:15014");
            }

            var dns = parse.GetValue(dnsServers) ?? [];
            if (dns.Length > 0 && !DnsServerList.TryParse(dns, out _, out var dnsError))
            {
                throw new CliException($"error: --dns-server: {dnsError}");
            }

            TimeSpan? lifetime = null;
            if (parse.GetValue(certificateLifetime) is { } lifetimeText)
            {
                lifetime = Core.Validation.Durations.TryParse(lifetimeText, out var parsed) && parsed >= TimeSpan.FromSeconds(2)
                    ? parsed
                    : throw new CliException($"error: --workload-cert-ttl \"{lifetimeText}\" is not a duration of at least 2s, e.g. 24h or 30s");
            }

            if (parse.GetValue(cluster))
            {
                if (!IPAddress.IsLoopback(endpoint.Address))
                {
                    // The API runs pods' commands as root on this machine: whoever holds the token is root here, so this machine only.
                    throw new CliException($"error: --listen {endpoint} with --cluster: the local cluster's API runs pods' commands as root on this machine, so it listens on a loopback address only (e.g. 127.0.0.1:15014)");
                }

                var hosts = parse.GetValue(sites) is { Length: > 0 } given ? given : ["edition.cnn.com"];
                foreach (var host in hosts)
                {
                    if (Uri.CheckHostName(host) != UriHostNameType.Dns)
                    {
                        throw new CliException($"error: --site \"{host}\" is not a host name, for example edition.cnn.com");
                    }
                }

                return await ClusterUp.RunAsync(cli, new LocalCluster.ClusterOptions
                {
                    DataDirectory = parse.GetValue(data)!,
                    ApiEndpoint = endpoint,
                    Settings = settings,
                    Sites = hosts,
                    WorkloadCertificateLifetime = lifetime,
                }, cancellationToken);
            }

            var options = new LocalMeshOptions
            {
                WorkloadCertificateLifetime = lifetime,
                DataDirectory = parse.GetValue(data)!,
                ApiEndpoint = endpoint,
                DiscoveryPort = parse.GetValue(discovery),
                Settings = settings,
                DnsServers = dns,
                WorkloadAddress = ParseProxyAddress(parse.GetValue(proxyAddress)!),
            };
            return await RunAsync(cli, options, cancellationToken);
        });
        return command;
    }

    /// <summary>
    /// <c>--proxy-address</c>: the loopback address the proxies take as their pod IP and listen on (sidecar 15001,
    /// gateway 8080 and 8443), so that two local meshes (or a test beside a running one) do not collide.
    /// </summary>
    internal static Option<string> ProxyAddressOption() => new("--proxy-address")
    {
        Description = "Address the proxies take as their pod IP and listen on (the sidecar's 15001, the gateway's 8080 and 8443)",
        DefaultValueFactory = _ => "127.0.0.1",
        HelpName = "IP",
    };

    internal static string ParseProxyAddress(string text) =>
        IPAddress.TryParse(text, out var ip) && !text.Contains('/', StringComparison.Ordinal)
            ? ip.ToString()
            : throw new CliException($"error: --proxy-address \"{text}\" is not an IP address, for example 127.0.0.1");

    private static async Task<int> RunAsync(CliContext cli, LocalMeshOptions options, CancellationToken cancellationToken)
    {
        void Report(string line)
        {
            lock (cli.Out)
            {
                cli.Out.WriteLine("meshgate up: " + line);
                cli.Out.Flush();
            }
        }

        using var loggerFactory = Logging.CreateFactory();
        LocalMesh mesh;
        try
        {
            mesh = await LocalMesh.StartAsync(options, loggerFactory, Report, cancellationToken);
        }
        catch (IOException e) when (e.InnerException is Microsoft.AspNetCore.Connections.AddressInUseException)
        {
            throw new CliException($"error: cannot listen on {options.ApiEndpoint} or discovery port {options.DiscoveryPort}: address already in use; is another Meshgate running? (stop it, or use --listen and --discovery-port)");
        }
        catch (ControlPlane.Api.Access.AdminTokenException e)
        {
            throw new CliException($"error: the API's admin token: {e.Message}");
        }
        catch (InvalidDataException e)
        {
            throw new CliException($"error: the mesh CA: {e.Message}");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or Microsoft.Data.Sqlite.SqliteException)
        {
            throw new CliException($"error: cannot open the store in {Path.GetFullPath(options.DataDirectory)}: {e.Message}");
        }

        await using (mesh)
        {
            Report($"control plane ready, resource API on {mesh.Server.ApiAddress} (export KUBECONFIG={mesh.Server.KubeconfigPath}), discovery and CA (gRPC over TLS) on {mesh.Server.SecureDiscoveryEndPoint} (data in {Path.GetFullPath(options.DataDirectory)})");
            await Foreground.RunUntilStoppedAsync(
                token => mesh.WaitReadyAsync(ReadyTimeout, token),
                $"ready; send traffic through the sidecar with: curl -x http://{options.WorkloadAddress}:{LocalMesh.SidecarPort} http://edition.cnn.com/politics; for meshgate and kubectl: export KUBECONFIG={mesh.Server.KubeconfigPath}; Ctrl-C to stop",
                "stopping",
                Report,
                cancellationToken);
        }

        Report("stopped");
        return 0;
    }
}

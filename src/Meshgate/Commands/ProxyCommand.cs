using System.CommandLine;
using System.Net;
using Meshgate.Core.ProxyConfiguration;
using Meshgate.Proxy;
using Meshgate.Proxy.Identity;
using Meshgate.Proxy.Sync;
using Meshgate.Proxy.Upstream;
using Meshgate.Supervision;

namespace Meshgate.Commands;

/// <summary>
/// <c>meshgate proxy</c>: the data plane, either from the control plane's discovery stream
/// (<c>--discovery-address</c>, as pilot-agent) or from a static configuration (<c>--config</c>, as <c>envoy -c</c>).
/// </summary>
public static class ProxyCommand
{
    public static Command Create(CliContext cli)
    {
        var config = new Option<string>("--config", "-c") { Description = "Static proxy configuration (YAML or JSON), e.g. samples/proxy/egress-gateway.yaml" };
        var role = new Option<string>("--role") { Description = "sidecar or gateway (informational for a static configuration)", DefaultValueFactory = _ => "gateway" };
        role.AcceptOnlyFromAmong("sidecar", "gateway");
        var discovery = new DiscoveryOptions();
        var dnsServers = new Option<string[]>("--dns-server")
        {
            Description = $"Resolve host names with this DNS server (IP:PORT; repeatable or comma-separated), after /etc/hosts; default: ${DnsServerList.EnvironmentVariable}, else the system resolver",
            HelpName = "IP:PORT",
            Arity = ArgumentArity.OneOrMore,
        };
        var inlineIo = new Option<bool>("--inline-io")
        {
            Description = $"Run handlers on the socket I/O threads (fewer thread switches; default on, or ${InlineIo.EnvironmentVariable}=0 to turn off)",
            DefaultValueFactory = _ => InlineIo.EnabledByEnvironment(),
        };
        var delta = new Option<bool>("--delta")
        {
            Description = "Take configuration changes from the control plane as deltas (default on; --delta false asks for every snapshot whole)",
            DefaultValueFactory = _ => true,
        };
        var command = new Command("proxy", "Run a proxy (sidecar or egress gateway), configured by the control plane (--discovery-address) or a file (--config)") { config, role, dnsServers, inlineIo, delta };
        discovery.AddTo(command);
        var (adminPort, statusPort) = AdminOptions.Create();
        command.Options.Add(adminPort);
        command.Options.Add(statusPort);
        var capture = new CaptureOptions();
        capture.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            // Under 'meshgate up', stop when the supervisor is gone, even if it was killed without stopping us.
            cancellationToken = ParentWatch.Start(cancellationToken);

            // First, before any socket exists: the runtime reads its switch once.
            var inline = parse.GetValue(inlineIo) && InlineIo.EnableForProcess();
            var path = parse.GetValue(config);
            var address = parse.GetValue(discovery.Address);
            if ((path is null) == (address is null))
            {
                throw new CliException("error: give either --discovery-address HOST:PORT (configuration from the control plane) or --config FILE (a static configuration)");
            }

            if (address is not null)
            {
                var node = discovery.Node(parse, parse.GetValue(role)!, capture);
                var options = capture.Options(parse) with { InlineScheduling = inline, AcceptsDelta = parse.GetValue(delta) };

                // The sidecar's capture listener is virtualOutbound on 15001, as the control plane writes it.
                await using var captureRules = node.Role == ProxyRole.Sidecar ? await capture.InstallAsync(parse, 15001, includeIpv6: false, cancellationToken) : null;
                var uri = DiscoveryOptions.ParseAddress(address, parse.GetValue(discovery.Plaintext));
                var identity = new IdentitySettings(discovery.RootBundle(parse, uri), parse.GetValue(discovery.TokenFile), parse.GetValue(discovery.TrustDomain)!, discovery.RequestedLifetime(parse));
                if (identity.TokenFile is { } tokenFile && uri.Scheme == "http")
                {
                    throw new CliException($"error: --token-file {tokenFile}: certificates are only asked for over TLS; drop --discovery-plaintext");
                }

                return await RunDynamicAsync(cli, uri, node, identity, DnsServers(parse.GetValue(dnsServers)),
                    parse.GetValue(adminPort), parse.GetValue(statusPort), options, cancellationToken);
            }

            if (!File.Exists(path))
            {
                throw new CliException($"error: the configuration file \"{path}\" does not exist");
            }

            var servers = DnsServers(parse.GetValue(dnsServers));
            var loaded = ProxyConfigLoader.Load(await File.ReadAllTextAsync(path, cancellationToken), path);
            if (loaded.Config is null)
            {
                throw new CliException(string.Join('\n', loaded.Errors.Select(e => "error: " + e)));
            }

            using var loggerFactory = Logging.CreateFactory();
            await using var server = ProxyServer.Create(loaded.Config, loggerFactory, servers, options: capture.Options(parse) with { InlineScheduling = inline });
            await using var admin = await AdminOptions.StartAsync(server, parse.GetValue(adminPort), parse.GetValue(statusPort), cancellationToken);
            try
            {
                await server.StartAsync(cancellationToken);
            }
            catch (IOException e)
            {
                var why = e.InnerException is Microsoft.AspNetCore.Connections.AddressInUseException ? "address already in use" : e.Message;
                throw new CliException($"error: cannot open the listeners of {path}: {why}");
            }

            await using var rules = await capture.InstallAsync(parse, loaded.Config, cancellationToken);
            await using var watcher = Meshgate.Proxy.Sync.ConfigFileWatcher.Start(path, server);
            await cli.Error.WriteLineAsync($"meshgate proxy: ready ({parse.GetValue(role)}, configuration {loaded.Config.Version}, {loaded.Config.Listeners.Count} listeners{(inline ? ", inline I/O" : "")}); Ctrl-C to stop");
            try
            {
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }
            catch (OperationCanceledException)
            {
            }

            await server.StopAsync(CancellationToken.None);
            await cli.Error.WriteLineAsync("meshgate proxy: stopped");
            return 0;
        });
        return command;
    }

    /// <summary>How the proxy trusts the control plane and gets its own certificate.</summary>
    private sealed record IdentitySettings(string? RootBundle, string? TokenFile, string TrustDomain, TimeSpan RequestedLifetime);

    private static async Task<int> RunDynamicAsync(CliContext cli, Uri address, Meshgate.Core.Translation.ProxyNode node, IdentitySettings identity, IReadOnlyList<IPEndPoint> servers,
        int adminPort, int statusPort, ProxyOptions options, CancellationToken cancellationToken)
    {
        using var loggerFactory = Logging.CreateFactory();
        await using var server = ProxyServer.Create(DiscoveryClient.Bootstrap, loggerFactory, servers, options: options);
        await using var admin = await AdminOptions.StartAsync(server, adminPort, statusPort, cancellationToken);
        var boundAdmin = (admin.AdminEndPoint as IPEndPoint)?.Port ?? adminPort;
        var trust = identity.RootBundle is { } roots ? new MeshTrust(roots) : null;
        using var channel = ControlPlaneChannel.Create(address, trust);

        // As istio-agent: the workload certificate first, so ISTIO_MUTUAL works from the first snapshot on.
        await using var rotator = identity.TokenFile is { } tokenFile
            ? CertificateRotator.Start(server, new WorkloadCertificateClient(channel,
                Meshgate.Core.Translation.MeshSettings.SpiffeIdentity(identity.TrustDomain, node.Namespace, node.ServiceAccount), tokenFile, trust, identity.RequestedLifetime), trust)
            : null;

        // The mesh's roots as the control plane changes them (a plug-in CA, another root): only with TLS and a certificate.
        await using var trustWatcher = rotator is not null && trust is not null && address.Scheme == Uri.UriSchemeHttps
            ? TrustWatcher.Start(server, channel, trust, rotator, node.Name, node.Namespace)
            : null;
        if (rotator is not null)
        {
            try
            {
                await rotator.FirstIssued.WaitAsync(cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return 0;
            }
        }

        await using (var client = DiscoveryClient.Start(server, address, node, boundAdmin, options.AcceptsDelta, channel))
        {
            await cli.Error.WriteLineAsync($"meshgate proxy: {node.Name}.{node.Namespace} ({(node.Role == ProxyRole.Gateway ? "gateway" : "sidecar")}) following {address}, admin on 127.0.0.1:{boundAdmin}, readiness on {admin.StatusEndPoint}; Ctrl-C to stop");
            try
            {
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }
            catch (OperationCanceledException)
            {
            }
        }

        await server.StopAsync(CancellationToken.None);
        await cli.Error.WriteLineAsync("meshgate proxy: stopped");
        return 0;
    }

    /// <summary>--dns-server when given, otherwise MESHGATE_DNS_SERVERS, otherwise none (the system resolver).</summary>
    private static IReadOnlyList<IPEndPoint> DnsServers(string[]? fromOption)
    {
        var (values, source) = fromOption is { Length: > 0 }
            ? (fromOption, "--dns-server")
            : ([Environment.GetEnvironmentVariable(DnsServerList.EnvironmentVariable) ?? ""], DnsServerList.EnvironmentVariable);
        return DnsServerList.TryParse(values, out var servers, out var error)
            ? servers
            : throw new CliException($"error: {source}: {error}");
    }
}

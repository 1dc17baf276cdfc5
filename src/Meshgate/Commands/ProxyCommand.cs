using System.CommandLine;
using System.Net;
using Meshgate.Core.ProxyConfiguration;
using Meshgate.Proxy;
using Meshgate.Proxy.Upstream;

namespace Meshgate.Commands;

/// <summary><c>meshgate proxy --config FILE</c>: the data plane from a static configuration, as <c>envoy -c</c>.</summary>
public static class ProxyCommand
{
    public static Command Create(CliContext cli)
    {
        var config = new Option<string>("--config", "-c") { Description = "Static proxy configuration (YAML or JSON), e.g. samples/proxy/egress-gateway.yaml", Required = true };
        var role = new Option<string>("--role") { Description = "sidecar or gateway (informational for a static configuration)", DefaultValueFactory = _ => "gateway" };
        role.AcceptOnlyFromAmong("sidecar", "gateway");
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
        var command = new Command("proxy", "Run a proxy (sidecar or egress gateway)") { config, role, dnsServers, inlineIo };
        var (adminPort, statusPort) = AdminOptions.Create();
        command.Options.Add(adminPort);
        command.Options.Add(statusPort);
        var capture = new CaptureOptions();
        capture.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            // First, before any socket exists: the runtime reads its switch once.
            var inline = parse.GetValue(inlineIo) && InlineIo.EnableForProcess();
            var path = parse.GetValue(config)!;
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

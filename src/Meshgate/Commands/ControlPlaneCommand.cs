using System.CommandLine;
using System.Net;
using System.Runtime;
using Meshgate.ControlPlane;

namespace Meshgate.Commands;

/// <summary><c>meshgate controlplane</c>: the control plane alone (<c>meshgate up</c> adds the proxies).</summary>
public static class ControlPlaneCommand
{
    public static Command Create(CliContext cli)
    {
        var (data, listen) = Options();
        var discovery = DiscoveryPort();
        var plaintext = PlaintextDiscoveryPort();
        var command = new Command("controlplane", "Run the control plane: configuration store, resource API, discovery and the mesh CA") { data, listen, discovery, plaintext };
        command.SetAction((parse, cancellationToken) => RunAsync(cli, parse.GetValue(data)!, parse.GetValue(listen)!, parse.GetValue(discovery), parse.GetValue(plaintext), "controlplane", cancellationToken));
        return command;
    }

    private static (Option<string> Data, Option<string> Listen) Options()
    {
        var data = new Option<string>("--data") { Description = "Data directory (store, keys, logs)", DefaultValueFactory = _ => ".meshgate" };
        var listen = new Option<string>("--listen") { Description = "Address of the resource API", DefaultValueFactory = _ => $"127.0.0.1:{ControlPlaneOptions.DefaultApiPort}" };
        return (data, listen);
    }

    private static Option<int> DiscoveryPort() =>
        Validated(new Option<int>("--discovery-port")
        {
            Description = "Port of the discovery stream and the CA (gRPC over TLS, Istio's 15012) for proxies, on the --listen address; 0 picks a free one",
            DefaultValueFactory = _ => ControlPlaneOptions.DefaultDiscoveryPort,
        }, r => r.GetValueOrDefault<int>());

    private static Option<int?> PlaintextDiscoveryPort() =>
        Validated(new Option<int?>("--plaintext-discovery-port")
        {
            Description = "Also serve the discovery stream over plaintext on this port (Istio's 15010), for proxies started with --discovery-plaintext; off unless given",
        }, r => r.GetValueOrDefault<int?>());

    private static TOption Validated<TOption>(TOption option, Func<System.CommandLine.Parsing.OptionResult, int?> value)
        where TOption : Option
    {
        option.Validators.Add(result =>
        {
            if (value(result) is < 0 or > 65535)
            {
                result.AddError($"{option.Name} {value(result)} is not a port: use 0 to 65535 (0 picks a free one)");
            }
        });
        return option;
    }

    private static async Task<int> RunAsync(CliContext cli, string data, string listen, int discoveryPort, int? plaintextPort, string role, CancellationToken cancellationToken)
    {
        if (!IPEndPoint.TryParse(listen, out var endpoint))
        {
            throw new CliException($"error: --listen \"{listen}\" is not IP:PORT, for example 127.0.0.1:15014");
        }

        // Non-concurrent (blocking) full collections: a large apply or push makes hundreds of megabytes of short-lived
        // garbage, and background collections let the heap grow while they run (bench/scale.sh: peak RSS ~100 MiB
        // lower at 10,000 services); the control plane has no latency-sensitive work a full collection would stall.
        GCSettings.LatencyMode = GCLatencyMode.Batch;
        using var loggerFactory = Logging.CreateFactory();
        ControlPlaneServer server;
        try
        {
            var options = new ControlPlaneOptions
            {
                DataDirectory = data,
                ApiEndpoint = endpoint,
                SecureDiscoveryEndpoint = new IPEndPoint(endpoint.Address, discoveryPort),
                DiscoveryEndpoint = plaintextPort is { } port ? new IPEndPoint(endpoint.Address, port) : null,
            };
            server = ControlPlaneServer.Create(options, loggerFactory);
        }
        catch (ControlPlane.Api.Access.AdminTokenException e)
        {
            throw new CliException($"error: the API's admin token: {e.Message}");
        }
        catch (InvalidDataException e)
        {
            throw new CliException($"error: the mesh CA: {e.Message}");
        }
        catch (Microsoft.Data.Sqlite.SqliteException e)
        {
            throw new CliException($"error: cannot open the store in {Path.GetFullPath(data)}: {ControlPlane.Store.StoreWriteFailure.Cause(e, data)}");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"error: cannot open the store in {Path.GetFullPath(data)}: {e.Message}");
        }

        await using (server)
        {
            try
            {
                await server.StartAsync(cancellationToken);
            }
            catch (IOException e)
            {
                var why = e.InnerException is Microsoft.AspNetCore.Connections.AddressInUseException ? "address already in use" : e.Message;
                throw new CliException($"error: cannot listen on {endpoint} or on discovery port {discoveryPort}: {why}; is another Meshgate running? (stop it, or use --listen and --discovery-port to pick other ones)");
            }

            await cli.Out.WriteLineAsync($"meshgate {role}: discovery and CA (gRPC over TLS) on {server.SecureDiscoveryEndPoint}; proxies trust {Path.GetFullPath(Path.Combine(data, "ca", Meshgate.ControlPlane.Identity.TrustRollout.BundleFile))}");
            if (plaintextPort is not null)
            {
                await cli.Out.WriteLineAsync($"meshgate {role}: discovery (gRPC, plaintext) on {server.DiscoveryEndPoint}");
            }

            await cli.Out.WriteLineAsync($"meshgate {role}: control plane ready, resource API on {server.ApiAddress} (export KUBECONFIG={server.KubeconfigPath}) (data in {Path.GetFullPath(data)}); Ctrl-C to stop");
            await cli.Out.FlushAsync(cancellationToken);
            try
            {
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                await cli.Out.WriteLineAsync($"meshgate {role}: stopping");
            }

            await server.StopAsync(CancellationToken.None);
        }

        await cli.Out.WriteLineAsync($"meshgate {role}: stopped");
        return 0;
    }
}

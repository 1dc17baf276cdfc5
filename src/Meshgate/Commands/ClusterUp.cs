using Meshgate.LocalCluster;

namespace Meshgate.Commands;

/// <summary><c>meshgate up --cluster</c> in the foreground: starts the local cluster, reports each step, stops it on Ctrl-C or SIGTERM.</summary>
internal static class ClusterUp
{
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(90);

    public static async Task<int> RunAsync(CliContext cli, ClusterOptions options, CancellationToken cancellationToken)
    {
        void Report(string line)
        {
            lock (cli.Out)
            {
                cli.Out.WriteLine("meshgate up: " + line);
                cli.Out.Flush();
            }
        }

        if (ClusterMesh.Preflight() is { } missing)
        {
            throw new CliException("error: " + missing);
        }

        using var loggerFactory = Logging.CreateFactory();
        ClusterMesh cluster;
        try
        {
            cluster = await ClusterMesh.StartAsync(options, loggerFactory, Report, cancellationToken);
        }
        catch (ClusterException e)
        {
            throw new CliException("error: " + e.Message);
        }
        catch (ControlPlane.Api.Access.AdminTokenException e)
        {
            throw new CliException("error: the API's admin token: " + e.Message);
        }
        catch (IOException e) when (e.InnerException is Microsoft.AspNetCore.Connections.AddressInUseException)
        {
            throw new CliException($"error: cannot listen on {options.ApiEndpoint}: address already in use; is another Meshgate running? (stop it, or use --listen)");
        }

        await using (cluster)
        {
            var kubeconfig = cluster.Server.KubeconfigPath;
            await Foreground.RunUntilStoppedAsync(
                token => cluster.WaitReadyAsync(ReadyTimeout, token),
                $"ready; try: meshgate exec \"$(meshgate get pod -l app=sleep -o jsonpath='{{.items..metadata.name}}')\" -c sleep -- curl -sSI http://{options.Sites[0]}/politics; for kubectl: export KUBECONFIG={kubeconfig}; meshgate down (or Ctrl-C) stops it",
                "stopping: pods, sites, control plane, then every namespace and link",
                Report,
                cancellationToken);
        }

        Report("stopped; nothing of the cluster is left");
        return 0;
    }
}

using System.Net;
using Meshgate.Install;
using Meshgate.LocalCluster;

namespace Meshgate.Demo;

/// <summary>
/// <c>meshgate demo</c> where the local cluster can run (root, iproute2, nftables, dnsmasq, nginx): the Egress Gateways
/// page itself, every command as written, Istio APIs tab then Gateway API tab, in a cluster started for it; each
/// command and what it printed, and whether that is what the page shows.
/// </summary>
internal static class ClusterDemo
{
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(90);

    public static async Task<int> RunAsync(Action<string> say, bool keep, CancellationToken cancellationToken)
    {
        var directory = Directory.CreateTempSubdirectory("meshgate-demo-").FullName;
        try
        {
            var samples = Path.Combine(directory, "samples", "sleep");
            Directory.CreateDirectory(samples);
            await using (var sample = typeof(ClusterDemo).Assembly.GetManifestResourceStream("sleep.yaml")!)
            await using (var file = File.Create(Path.Combine(samples, "sleep.yaml")))
            {
                await sample.CopyToAsync(file, cancellationToken).ConfigureAwait(false);
            }

            say($"Meshgate demo: the Egress Gateways page, every command as written, in a local cluster (docs/cluster.md); working directory {directory}");
            using var loggerFactory = Commands.Logging.CreateFactory(Microsoft.Extensions.Logging.LogLevel.Warning);
            var options = new ClusterOptions
            {
                DataDirectory = Path.Combine(directory, "data"),
                ApiEndpoint = new IPEndPoint(IPAddress.Loopback, 0),
                Settings = InstallSettings.ForProfile("demo"),
            };
            await using var cluster = await ClusterMesh.StartAsync(options, loggerFactory, line => say("- " + line), cancellationToken).ConfigureAwait(false);
            await cluster.WaitReadyAsync(ReadyTimeout, cancellationToken).ConfigureAwait(false);

            var (executable, prefix) = Supervision.SelfCommand.Resolve();
            var differ = 0;
            foreach (var (tab, title) in new[] { (SeedDocument.IstioApis, "Istio APIs"), (SeedDocument.GatewayApi, "Gateway API") })
            {
                say("");
                say($"# ===== The {title} tab: kubectl and istioctl are meshgate; nothing else is changed =====");
                var plan = SeedRunner.Plan(SeedDocument.Parse(SeedDocument.Text(), tab));
                var runner = new SeedRunner(new SeedRunOptions(executable, cluster.Server.KubeconfigPath!, directory) { Prefix = prefix }, say);
                var results = await runner.RunAsync(plan, cancellationToken).ConfigureAwait(false);
                if (results.Count != plan.Count || results.Any(r => r.Mismatch is not null))
                {
                    differ++;
                }
            }

            say("");
            say(differ == 0
                ? "Done: every command of the page ran as written, in both tabs, and printed what the page shows. Stopping the cluster."
                : "Done, but some output is not what the page shows (marked '# not what the document shows' above). Stopping the cluster.");
            return differ == 0 ? 0 : 1;
        }
        finally
        {
            if (keep)
            {
                say($"kept {directory}");
            }
            else
            {
                try
                {
                    Directory.Delete(directory, recursive: true);
                }
                catch (IOException)
                {
                }
            }
        }
    }

}

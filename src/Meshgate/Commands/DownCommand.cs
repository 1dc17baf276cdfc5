using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Meshgate.LocalCluster;

namespace Meshgate.Commands;

/// <summary>
/// <c>meshgate down</c>: stops the local cluster (<c>up --cluster</c>) with SIGTERM and waits for it to clean up; then
/// removes whatever is left of a cluster that crashed (its network namespaces, links and files).
/// </summary>
public static class DownCommand
{
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(60);

    public static Command Create(CliContext cli)
    {
        var command = new Command("down", "Stop the local cluster (meshgate up --cluster) and remove every namespace, link, rule and process it made");
        command.SetAction(async (_, cancellationToken) =>
        {
            if (!Environment.IsPrivilegedProcess)
            {
                throw new CliException("error: meshgate down removes network namespaces and needs root (run it with sudo)");
            }

            void Report(string line) => cli.Out.WriteLine("meshgate down: " + line);
            if (File.Exists(ClusterMesh.PidPath) && int.TryParse(File.ReadAllText(ClusterMesh.PidPath).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
                && IsRunning(pid))
            {
                Report($"stopping the cluster (pid {pid})");
                Supervision.Signals.Terminate(pid);
                var clock = Stopwatch.StartNew();
                while (IsRunning(pid))
                {
                    if (clock.Elapsed > StopTimeout)
                    {
                        Report($"pid {pid} did not stop within {StopTimeout.TotalSeconds:0}s; removing what it made anyway");
                        break;
                    }

                    await Task.Delay(100, cancellationToken);
                }
            }

            var left = await ClusterNetwork.ListAsync();
            await ClusterNetwork.RemoveAllAsync(Report);
            Report(left.Count == 0 ? "nothing of a local cluster is left" : string.Create(CultureInfo.InvariantCulture, $"removed {left.Count} leftover network namespaces; nothing of a local cluster is left"));
            return 0;
        });
        return command;
    }

    /// <summary>Whether <paramref name="pid"/> is a running <c>meshgate up --cluster</c> (a pid file left by a crash may name another program by now).</summary>
    private static bool IsRunning(int pid)
    {
        try
        {
            var commandLine = File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ');
            if (!commandLine.Contains("meshgate", StringComparison.Ordinal) || !commandLine.Contains("--cluster", StringComparison.Ordinal))
            {
                return false;
            }
        }
        catch (IOException)
        {
            return false;
        }

        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}

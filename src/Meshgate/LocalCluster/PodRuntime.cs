using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using Meshgate.ControlPlane.Api;
using Meshgate.Core.Resources;
using Meshgate.Supervision;

namespace Meshgate.LocalCluster;

/// <summary>
/// One pod as the kubelet runs it: its network namespace and address, its volumes, and a supervised process per
/// container, started with the pod's command and environment inside the namespace (the machine's programs: no image is
/// pulled; a known image without a command runs its default, <see cref="ContainerImages"/>) with its volumes mounted
/// (<see cref="ContainerMounts"/>).
/// </summary>
internal sealed class PodRuntime : IAsyncDisposable
{
    private readonly List<(string Name, SupervisedProcess? Process)> _containers = [];

    private PodRuntime(ObjectKey key, string uid, IPAddress address, DateTimeOffset started, bool embedded)
    {
        Key = key;
        Uid = uid;
        Address = address;
        Started = started;
        Embedded = embedded;
    }

    public ObjectKey Key { get; }

    public string Uid { get; }

    public IPAddress Address { get; }

    public DateTimeOffset Started { get; }

    /// <summary>A pod whose only container is this process (istiod: the control plane runs in <c>up</c>).</summary>
    public bool Embedded { get; }

    public IReadOnlyList<(string Name, SupervisedProcess? Process)> Containers => _containers;

    /// <summary>Makes the pod's network and starts its containers.</summary>
    /// <param name="volumes">The pod's volumes, made by the kubelet; null for the embedded pod.</param>
    public static async Task<PodRuntime> StartAsync(Resource pod, IPAddress address, ClusterNetwork network, string logsDirectory, PodVolumes? volumes, Action<string> report, bool embedded)
    {
        var runtime = new PodRuntime(pod.Key, pod.Metadata["uid"]?.GetValue<string>() ?? "", address, DateTimeOffset.UtcNow, embedded);
        if (!embedded)
        {
            await network.AddPodAsync(pod.Namespace, pod.Name, address).ConfigureAwait(false); // istiod's is made before the control plane starts
        }

        try
        {
            runtime.StartContainers(pod, logsDirectory, volumes, report, embedded);
        }
        catch
        {
            await runtime.DisposeAsync().ConfigureAwait(false); // no process of it left running
            throw;
        }

        return runtime;
    }

    private void StartContainers(Resource pod, string logsDirectory, PodVolumes? volumes, Action<string> report, bool embedded)
    {
        foreach (var skipped in volumes?.Skipped ?? [])
        {
            report($"pod {pod.Namespace}/{pod.Name}: {skipped}");
        }

        var netns = ClusterLayout.PodNamespace(pod.Namespace, pod.Name);
        foreach (var container in pod.Json["spec"]?["containers"] as JsonArray ?? [])
        {
            var name = container?["name"]?.GetValue<string>() ?? "";
            if (embedded)
            {
                _containers.Add((name, null));
                continue;
            }

            if (Core.Validation.Names.CheckDns1123Label(name) is { } invalid)
            {
                // The name becomes a file name (its log): only a DNS label, as Kubernetes requires.
                report($"pod {pod.Namespace}/{pod.Name}: container \"{name}\" is not started: its name is not a DNS-1123 label ({invalid})");
                _containers.Add((name, null));
                continue;
            }

            var environment = Environment(pod, container!.AsObject());
            var imageName = container["image"]?.GetValue<string>();
            var image = ContainerImages.Find(imageName);
            var command = ContainerImages.Command(container.AsObject(), image)
                .Select(a => PodExec.Expand(a, environment))
                .ToList();
            if (command.Count == 0)
            {
                report($"pod {pod.Namespace}/{pod.Name}: container {name} has no command, and image {imageName} is not one the local cluster knows how to run ({ContainerImages.KnownNames}); it runs commands with this machine's programs, so it is not started");
                _containers.Add((name, null));
                continue;
            }

            var arguments = new List<string> { "netns", "exec", netns };
            if (volumes is not null && ContainerMounts.Script($"{pod.Namespace}/{pod.Name}", container.AsObject(), volumes, image, report) is { } mounts)
            {
                arguments.AddRange(["sh", "-c", mounts, "sh"]); // the script mounts, then execs the rest
            }

            arguments.AddRange(["env", "-i"]);
            arguments.AddRange(environment.Select(e => $"{e.Key}={e.Value}"));
            arguments.AddRange(command);
            var log = Path.Combine(logsDirectory, pod.Namespace, pod.Name, name + ".log");
            var process = new SupervisedProcess($"{pod.Namespace}/{pod.Name}/{name}", "ip", arguments, log, report);
            _containers.Add((name, process));
            process.Start();
        }
    }

    /// <summary>The container's environment (<see cref="PodExec.ContainerEnvironment"/>, as exec gives it) and the supervisor's pid, so proxies stop with it.</summary>
    private static Dictionary<string, string> Environment(Resource pod, JsonObject container)
    {
        var environment = PodExec.ContainerEnvironment(pod.Json, container, PodExec.DefaultPath);
        environment[ParentWatch.EnvironmentVariable] = System.Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        return environment;
    }

    /// <summary>Stops the containers (SIGTERM, then SIGKILL after the grace period) and removes the pod's network.</summary>
    public async ValueTask DisposeAsync()
    {
        await Task.WhenAll(_containers.Where(c => c.Process is not null).Select(c => c.Process!.StopAsync(TimeSpan.FromSeconds(5)))).ConfigureAwait(false);
        foreach (var (_, process) in _containers)
        {
            if (process is not null)
            {
                await process.DisposeAsync().ConfigureAwait(false);
            }
        }

        await ClusterNetwork.RemovePodAsync(Key.Namespace, Key.Name).ConfigureAwait(false);
    }
}

using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using Meshgate.ControlPlane.Api;
using Meshgate.Core.Resources;
using Meshgate.Supervision;

namespace Meshgate.LocalCluster;

/// <summary>
/// One pod as the kubelet runs it: its network namespace and address, and a supervised process per container, started
/// with the pod's command and environment inside the namespace (the machine's programs: no image is pulled).
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
    public static async Task<PodRuntime> StartAsync(Resource pod, IPAddress address, ClusterNetwork network, string logsDirectory, Action<string> report, bool embedded)
    {
        var runtime = new PodRuntime(pod.Key, pod.Metadata["uid"]?.GetValue<string>() ?? "", address, DateTimeOffset.UtcNow, embedded);
        if (!embedded)
        {
            await network.AddPodAsync(pod.Namespace, pod.Name, address).ConfigureAwait(false); // istiod's is made before the control plane starts
        }

        try
        {
            runtime.StartContainers(pod, logsDirectory, report, embedded);
        }
        catch
        {
            await runtime.DisposeAsync().ConfigureAwait(false); // no process of it left running
            throw;
        }

        return runtime;
    }

    private void StartContainers(Resource pod, string logsDirectory, Action<string> report, bool embedded)
    {
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
            var command = (container["command"] as JsonArray ?? []).Concat(container["args"] as JsonArray ?? [])
                .Select(a => PodExec.Expand(a?.GetValue<string>() ?? "", environment))
                .ToList();
            if (command.Count == 0)
            {
                report($"pod {pod.Namespace}/{pod.Name}: container {name} has no command; the local cluster runs commands, not images, so it is not started");
                _containers.Add((name, null));
                continue;
            }

            var arguments = new List<string> { "netns", "exec", netns, "env", "-i" };
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

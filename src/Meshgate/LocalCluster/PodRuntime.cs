using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
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
            runtime.StartContainers(pod, address, logsDirectory, report, embedded);
        }
        catch
        {
            await runtime.DisposeAsync().ConfigureAwait(false); // no process of it left running
            throw;
        }

        return runtime;
    }

    private void StartContainers(Resource pod, IPAddress address, string logsDirectory, Action<string> report, bool embedded)
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

            var environment = Environment(pod, container!.AsObject(), address);
            var command = (container["command"] as JsonArray ?? []).Concat(container["args"] as JsonArray ?? [])
                .Select(a => Expand(a?.GetValue<string>() ?? "", environment))
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

    /// <summary>
    /// The container's environment: a minimal base (PATH, HOME, HOSTNAME, and the supervisor's pid so proxies stop with
    /// it), then its <c>env</c>: literal values, and <c>fieldRef</c>s to the pod (Kubernetes' downward API;
    /// <c>metadata.labels</c> as <c>k=v,k=v</c> is Meshgate's, for the proxy's <c>--labels</c>).
    /// </summary>
    private static Dictionary<string, string> Environment(Resource pod, JsonObject container, IPAddress address)
    {
        var environment = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["PATH"] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            ["HOME"] = "/root",
            ["HOSTNAME"] = pod.Name,
            [ParentWatch.EnvironmentVariable] = System.Environment.ProcessId.ToString(CultureInfo.InvariantCulture),
        };
        foreach (var variable in container["env"] as JsonArray ?? [])
        {
            if (variable?["name"]?.GetValue<string>() is not { Length: > 0 } name)
            {
                continue;
            }

            var value = variable["value"]?.GetValue<string>();
            if (variable["valueFrom"]?["fieldRef"]?["fieldPath"]?.GetValue<string>() is { } path)
            {
                value = path switch
                {
                    "metadata.name" => pod.Name,
                    "metadata.namespace" => pod.Namespace,
                    "metadata.uid" => pod.Metadata["uid"]?.GetValue<string>(),
                    "status.podIP" => address.ToString(),
                    "spec.serviceAccountName" => pod.Json["spec"]?["serviceAccountName"]?.GetValue<string>() ?? "default",
                    "spec.nodeName" => ClusterLayout.NodeName,
                    "metadata.labels" => string.Join(',', pod.Labels.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => $"{l.Key}={l.Value}")),
                    _ => "",
                };
            }

            environment[name] = Expand(value ?? "", environment);
        }

        return environment;
    }

    /// <summary>Kubernetes' <c>$(VAR)</c> expansion in command, args and env; <c>$$</c> escapes; unknown names stay as written.</summary>
    public static string Expand(string text, IReadOnlyDictionary<string, string> environment)
    {
        if (!text.Contains('$', StringComparison.Ordinal))
        {
            return text;
        }

        var result = new System.Text.StringBuilder();
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == '$' && i + 1 < text.Length && text[i + 1] == '$')
            {
                result.Append('$');
                i++;
            }
            else if (text[i] == '$' && i + 1 < text.Length && text[i + 1] == '(' && text.IndexOf(')', i + 2) is var end and > 0
                && environment.TryGetValue(text[(i + 2)..end], out var value))
            {
                result.Append(value);
                i = end;
            }
            else
            {
                result.Append(text[i]);
            }
        }

        return result.ToString();
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

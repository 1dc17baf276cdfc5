using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using Meshgate.ControlPlane;
using Meshgate.ControlPlane.Identity;
using Meshgate.Core.Resources;

namespace Meshgate.LocalCluster;

/// <summary>
/// The local cluster's kubelet: runs every Pod in the store (admitting new ones first), stops those deleted, and writes
/// what it observes as the Pod's status: phase, pod IP, each container's state, restarts and readiness (a proxy is
/// ready while it is connected to the control plane and has applied a configuration, so one that disconnects makes
/// its pod not ready). Before a pod's proxy starts, it writes the token bound to the pod, as kubelet projects a
/// ServiceAccount token. Called from one loop only (<see cref="ClusterMesh"/>), so it needs no locks.
/// </summary>
internal sealed class Kubelet(ControlPlaneServer server, ClusterNetwork network, ProxyTemplate proxies, Action<string> report) : IAsyncDisposable
{
    public const string NetnsAnnotation = "meshgate.io/netns";
    public const string EmbeddedAnnotation = "meshgate.io/embedded";

    private static readonly TimeSpan TokenLifetime = TimeSpan.FromDays(7);
    private readonly Dictionary<ObjectKey, PodRuntime> _pods = [];
    private readonly HashSet<IPAddress> _addresses = [];
    private readonly string _logs = Path.Combine(proxies.DataDirectory, "logs");

    /// <summary>The address istiod's pod always has; other pods get the lowest free one from 10.244.1.2.</summary>
    public static readonly IPAddress ControlPlaneAddress = IPAddress.Parse("10.244.0.2");

    public IReadOnlyDictionary<ObjectKey, PodRuntime> Pods => _pods;

    public async Task ReconcileAsync()
    {
        var set = server.Store.Current;
        var pods = set.List(ResourceTypes.Pod).Where(p => p.Json["spec"]?["nodeName"] is not null || !p.Annotations.ContainsKey(ControlPlane.Push.PodRegistration.RoleAnnotation)).ToList();
        // Side by side: each may take its containers' grace period.
        var gone = _pods.Values.Where(r => set.Get(r.Key) is not { } pod || pod.Metadata["uid"]?.GetValue<string>() != r.Uid).ToList();
        await Task.WhenAll(gone.Select(StopAsync)).ConfigureAwait(false);

        var admitted = new List<Resource>();
        foreach (var pod in pods)
        {
            if (_pods.ContainsKey(pod.Key))
            {
                continue;
            }

            if (!PodAdmission.IsAdmitted(pod.Json))
            {
                var json = (JsonObject)pod.Json.DeepClone();
                var namespaceLabels = set.Get(new ObjectKey(ResourceTypes.Namespace, "", pod.Namespace))?.Labels ?? new Dictionary<string, string>();
                PodAdmission.Admit(json, namespaceLabels, proxies);
                admitted.Add(new Resource(ResourceTypes.Pod, json));
                continue;
            }

            await StartAsync(pod).ConfigureAwait(false);
        }

        if (admitted.Count > 0)
        {
            server.Store.Apply(admitted);
        }
    }

    private async Task StartAsync(Resource pod)
    {
        var embedded = pod.Annotations.ContainsKey(EmbeddedAnnotation);
        var address = embedded ? ControlPlaneAddress : Allocate();
        _addresses.Add(address);
        var uid = pod.Metadata["uid"]?.GetValue<string>();
        try
        {
            var stored = server.Store.Update(pod.Key, current =>
            {
                if (current.Metadata["uid"]?.GetValue<string>() != uid)
                {
                    return null; // deleted and made again meanwhile: the next round starts the new one
                }

                var json = (JsonObject)current.Json.DeepClone();
                var metadata = (JsonObject)json["metadata"]!;
                var annotations = metadata["annotations"] as JsonObject ?? new JsonObject();
                metadata["annotations"] = annotations;
                annotations[NetnsAnnotation] = ClusterLayout.PodNamespace(pod.Namespace, pod.Name);
                var spec = json["spec"] as JsonObject ?? new JsonObject();
                json["spec"] = spec;
                spec["nodeName"] = ClusterLayout.NodeName;
                spec["serviceAccountName"] ??= "default";
                json["status"] = new JsonObject { ["phase"] = "Pending", ["podIP"] = address.ToString(), ["hostIP"] = ClusterLayout.PodGateway.ToString() };
                return new Resource(ResourceTypes.Pod, json);
            })?.Object;
            if (stored is null)
            {
                _addresses.Remove(address);
                return;
            }

            if (HasProxy(stored))
            {
                var serviceAccount = stored.Json["spec"]?["serviceAccountName"]?.GetValue<string>() ?? "default";
                var token = server.Identity.Tokens.Issue(
                    new BoundPod(pod.Namespace, serviceAccount, pod.Name, uid!), TokenLifetime, [ServiceAccountTokens.CaAudience]);
                SecretFile.Write(Path.Combine(proxies.DataDirectory, "tokens", pod.Namespace, pod.Name, "istio-token"), token.Token);
            }

            // As the kubelet: the volumes first (a missing Secret or ConfigMap keeps the pod Pending until it exists).
            var volumes = embedded ? null : PodVolumes.Create(stored, server.Store.Current, proxies.DataDirectory);
            var runtime = await PodRuntime.StartAsync(stored, address, network, _logs, volumes, report, embedded).ConfigureAwait(false);
            _pods[pod.Key] = runtime;
            report($"pod {pod.Namespace}/{pod.Name} started: IP {address}, containers {string.Join(", ", runtime.Containers.Select(c => c.Name))}");
        }
        catch (Exception e)
        {
            // Nothing of it is left running, its address is free again and no longer in its status (so no Service or
            // policy points at it), and the loop's next round (within 2 s) tries again.
            _addresses.Remove(address);
            report($"pod {pod.Namespace}/{pod.Name} cannot start: {e.Message}");
            await ClusterNetwork.RemovePodAsync(pod.Namespace, pod.Name).ConfigureAwait(false);
            PodVolumes.Remove(proxies.DataDirectory, pod.Namespace, pod.Name);
            server.Store.Update(pod.Key, current =>
            {
                if (current.Metadata["uid"]?.GetValue<string>() != uid)
                {
                    return null;
                }

                var json = (JsonObject)current.Json.DeepClone();
                json["status"] = new JsonObject { ["phase"] = "Pending", ["message"] = "cannot start: " + e.Message };
                return new Resource(ResourceTypes.Pod, json);
            });
        }
    }

    private async Task StopAsync(PodRuntime runtime)
    {
        _pods.Remove(runtime.Key);
        await runtime.DisposeAsync().ConfigureAwait(false);
        PodVolumes.Remove(proxies.DataDirectory, runtime.Key.Namespace, runtime.Key.Name);
        _addresses.Remove(runtime.Address);
        report($"pod {runtime.Key.Namespace}/{runtime.Key.Name} stopped");
    }

    private IPAddress Allocate()
    {
        for (var i = 1; i < 250 * 254; i++)
        {
            var address = IPAddress.Parse(string.Create(CultureInfo.InvariantCulture, $"10.244.{1 + (i / 254)}.{1 + (i % 254)}"));
            if (!_addresses.Contains(address))
            {
                return address;
            }
        }

        throw new ClusterException("the pod range 10.244.0.0/16 is full");
    }

    private static bool HasProxy(Resource pod) =>
        (pod.Json["spec"]?["containers"] as JsonArray ?? []).Any(c => c?["name"]?.GetValue<string>() == PodAdmission.ProxyContainerName && c["command"] is not null);

    /// <summary>Writes each running pod's status where it changed.</summary>
    public void UpdateStatuses()
    {
        var connected = server.Push.Statuses()
            .Where(s => s.Connected && s.AckedVersion is not null)
            .Select(s => (s.Namespace, s.Name))
            .ToHashSet();
        foreach (var runtime in _pods.Values)
        {
            if (server.Store.Current.Get(runtime.Key) is not { } pod || pod.Metadata["uid"]?.GetValue<string>() != runtime.Uid)
            {
                continue;
            }

            var status = Status(runtime, connected.Contains((runtime.Key.Namespace, runtime.Key.Name)));
            if (!JsonNode.DeepEquals(pod.Json["status"], status))
            {
                // Written to the Pod as it is then, so annotations a proxy's registration added meanwhile stay.
                server.Store.Update(runtime.Key, current =>
                {
                    if (current.Metadata["uid"]?.GetValue<string>() != runtime.Uid)
                    {
                        return null;
                    }

                    var json = (JsonObject)current.Json.DeepClone();
                    json["status"] = status;
                    return new Resource(ResourceTypes.Pod, json);
                });
            }
        }
    }

    private static JsonObject Status(PodRuntime runtime, bool proxyConnected)
    {
        var statuses = new JsonArray();
        var ready = 0;
        var running = 0;
        foreach (var (name, process) in runtime.Containers)
        {
            JsonObject state;
            bool isRunning;
            if (runtime.Embedded)
            {
                isRunning = true;
                state = new JsonObject { ["running"] = new JsonObject { ["startedAt"] = Time(runtime.Started) } };
            }
            else if (process is { IsRunning: true })
            {
                isRunning = true;
                state = new JsonObject { ["running"] = new JsonObject { ["startedAt"] = Time(process.StartedAt ?? runtime.Started) } };
            }
            else if (process is null || process.StartError is not null)
            {
                isRunning = false;
                state = new JsonObject { ["waiting"] = new JsonObject { ["reason"] = "CreateContainerError", ["message"] = process?.StartError ?? "the container has no command" } };
            }
            else if (process.LastExit is { } exit)
            {
                isRunning = false;
                state = new JsonObject { ["waiting"] = new JsonObject { ["reason"] = "CrashLoopBackOff", ["message"] = string.Create(CultureInfo.InvariantCulture, $"back-off restarting failed container {name} (exit code {exit.Code})") } };
            }
            else
            {
                isRunning = false;
                state = new JsonObject { ["waiting"] = new JsonObject { ["reason"] = "ContainerCreating" } };
            }

            var isReady = isRunning && (name != PodAdmission.ProxyContainerName || process is null || proxyConnected);
            running += isRunning ? 1 : 0;
            ready += isReady ? 1 : 0;
            var status = new JsonObject
            {
                ["name"] = name,
                ["ready"] = isReady,
                ["restartCount"] = process?.Restarts ?? 0,
                ["started"] = isRunning,
                ["state"] = state,
                ["image"] = name == PodAdmission.ProxyContainerName ? "meshgate/proxy" : "host",
                ["imageID"] = "",
                ["containerID"] = process?.ProcessId is { } pid ? string.Create(CultureInfo.InvariantCulture, $"meshgate://{pid}") : "meshgate://",
            };
            if (process?.LastExit is { } last)
            {
                status["lastState"] = new JsonObject { ["terminated"] = new JsonObject { ["exitCode"] = last.Code, ["reason"] = last.Code == 0 ? "Completed" : "Error", ["finishedAt"] = Time(last.At) } };
            }

            statuses.Add(status);
        }

        var all = runtime.Containers.Count;
        var allReady = ready == all ? "True" : "False";
        return new JsonObject
        {
            ["phase"] = running > 0 || runtime.Embedded ? "Running" : "Pending",
            ["podIP"] = runtime.Address.ToString(),
            ["podIPs"] = new JsonArray(new JsonObject { ["ip"] = runtime.Address.ToString() }),
            ["hostIP"] = ClusterLayout.PodGateway.ToString(),
            ["startTime"] = Time(runtime.Started),
            ["conditions"] = new JsonArray(
                Condition("PodScheduled", "True"),
                Condition("Initialized", "True"),
                Condition("ContainersReady", allReady),
                Condition("Ready", allReady)),
            ["containerStatuses"] = statuses,
        };
    }

    private static JsonObject Condition(string type, string status) => new() { ["type"] = type, ["status"] = status };

    private static string Time(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);

    public async ValueTask DisposeAsync()
    {
        await Task.WhenAll(_pods.Values.Select(p => p.DisposeAsync().AsTask())).ConfigureAwait(false);
        _pods.Clear();
        var volumes = PodVolumes.VolumesDirectory(proxies.DataDirectory);
        if (Directory.Exists(volumes))
        {
            Directory.Delete(volumes, recursive: true); // Secrets' keys do not outlive the cluster
        }
    }
}

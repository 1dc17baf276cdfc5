using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using Meshgate.ControlPlane;
using Meshgate.Core.Resources;
using Meshgate.Demo;
using Meshgate.Install;
using Microsoft.Extensions.Logging;

namespace Meshgate.LocalCluster;

/// <summary>Where the local cluster keeps its data, what it installs, and which sites the internet serves.</summary>
public sealed record ClusterOptions
{
    public required string DataDirectory { get; init; }

    public IPEndPoint ApiEndpoint { get; init; } = new(IPAddress.Loopback, ControlPlaneOptions.DefaultApiPort);

    public required InstallSettings Settings { get; init; }

    /// <summary>The hosts served in the internet namespace (<c>--site</c>).</summary>
    public IReadOnlyList<string> Sites { get; init; } = ["edition.cnn.com"];

    public TimeSpan? WorkloadCertificateLifetime { get; init; }
}

/// <summary>
/// <c>meshgate up --cluster</c>: a Kubernetes-like cluster on this machine, in network namespaces (docs/cluster.md).
/// The control plane runs in this process with its discovery socket in istiod's pod; kube-dns, the egress gateway and
/// every workload run as pods whose containers are this machine's programs; one loop keeps Deployments, pods, the
/// node's rules and kube-dns's names in step with the store.
/// </summary>
public sealed class ClusterMesh : IAsyncDisposable
{
    /// <summary>Held (locked) while a cluster runs: one cluster per machine, as its names are fixed.</summary>
    public const string LockPath = "/run/meshgate-cluster.lock";

    /// <summary>The running cluster's pid; <c>meshgate down</c> reads it.</summary>
    public const string PidPath = "/run/meshgate-cluster.pid";

    private static readonly string[] RequiredTools = ["ip", "nft", "dnsmasq", "nginx", "sysctl", "ss"];

    private readonly CancellationTokenSource _stop = new();
    private readonly Action<string> _report;
    private FileStream? _lock;
    private ClusterNetwork? _network;
    private InternetSites? _sites;
    private Kubelet? _kubelet;
    private Task _loop = Task.CompletedTask;

    private ClusterMesh(Action<string> report) => _report = report;

    public ControlPlaneServer Server { get; private set; } = null!;

    /// <summary>The PEM file of the throwaway CA the sites' certificates come from (pods trust it).</summary>
    public string SiteCaPath { get; private set; } = "";

    /// <summary>Why this machine cannot run the cluster (not root, a tool missing), or null when it can.</summary>
    public static string? Preflight()
    {
        var path = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries);
        var missing = RequiredTools.Where(t => !path.Any(dir => File.Exists(Path.Combine(dir, t)))).ToList();
        if (!Environment.IsPrivilegedProcess || missing.Count > 0)
        {
            var why = new List<string>();
            if (!Environment.IsPrivilegedProcess)
            {
                why.Add("root (it creates network namespaces and nftables rules; run it with sudo)");
            }

            if (missing.Count > 0)
            {
                why.Add("missing " + string.Join(", ", missing) + " (apt-get install iproute2 nftables dnsmasq nginx)");
            }

            return "meshgate up --cluster needs " + string.Join("; ", why);
        }

        return null;
    }

    public static async Task<ClusterMesh> StartAsync(ClusterOptions options, ILoggerFactory loggerFactory, Action<string> report, CancellationToken cancellationToken)
    {
        var mesh = new ClusterMesh(report);
        try
        {
            await mesh.StartAsync(options, loggerFactory, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await mesh.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return mesh;
    }

    private async Task StartAsync(ClusterOptions options, ILoggerFactory loggerFactory, CancellationToken cancellationToken)
    {
        TakeLock();
        var data = Path.GetFullPath(options.DataDirectory);
        Directory.CreateDirectory(data);
        using var certificates = DemoCertificates.Create(options.Sites);
        SiteCaPath = certificates.WriteCaPem(Path.Combine(data, "cluster"));
        _network = await ClusterNetwork.CreateAsync(data, certificates.Ca.ExportCertificatePem() + "\n",
            [.. options.Sites.Select((_, i) => ClusterLayout.SiteAddress(i))], _report).ConfigureAwait(false);
        _sites = await InternetSites.StartAsync(data, options.Sites, certificates.WriteServerPem(Path.Combine(data, "cluster", "internet")), _report).ConfigureAwait(false);

        var root = options.Settings.Mesh.RootNamespace;
        var istiod = "istiod-" + Hash10(data) + "-" + Hash10(data + "/istiod")[..5];
        await _network.AddPodAsync(root, istiod, Kubelet.ControlPlaneAddress).ConfigureAwait(false);
        var istiodNetns = ClusterLayout.PodNamespace(root, istiod);
        Server = ControlPlaneServer.Create(
            new ControlPlaneOptions
            {
                DataDirectory = data,
                ApiEndpoint = options.ApiEndpoint,
                SecureDiscoveryEndpoint = new IPEndPoint(Kubelet.ControlPlaneAddress, ControlPlaneOptions.DefaultDiscoveryPort),
                OpenDiscoverySocket = endpoint => NamespaceSockets.Listen(istiodNetns, endpoint),
                GatewayTargetPort = port => port,
                RegistersUnknownPods = false,
            },
            loggerFactory);
        await Server.StartAsync(cancellationToken).ConfigureAwait(false);
        _report($"control plane: resource API on {Server.ApiAddress}, discovery and CA on {Server.SecureDiscoveryEndPoint} in pod {root}/{istiod}");

        var (executable, prefix) = Supervision.ProxyExecutable.Resolve();
        var extra = options.WorkloadCertificateLifetime is { } lifetime
            ? new[] { "--workload-cert-ttl", ((long)lifetime.TotalSeconds).ToString(CultureInfo.InvariantCulture) + "s" }
            : [];
        var template = new ProxyTemplate(executable, prefix, data, $"istiod.{root}.svc:{ControlPlaneOptions.DefaultDiscoveryPort}", options.Settings.Mesh.TrustDomain, extra);
        var dns = Path.Combine(data, "cluster", "dns");
        Directory.CreateDirectory(dns);
        Server.Store.Apply(ClusterResources.For(options.Settings, istiod, dns));
        var stale = Server.Store.Current.List(ResourceTypes.Pod)
            .Where(p => p.Annotations.ContainsKey(ControlPlane.Push.PodRegistration.RoleAnnotation) && p.Json["spec"]?["nodeName"] is null)
            .Select(p => p.Key)
            .ToList();
        if (stale.Count > 0)
        {
            Server.Store.Delete(stale); // proxies of a `meshgate up` without --cluster on the same data
        }

        // Pods of an earlier run keep their objects but not their processes or addresses: Pending until this run starts them.
        foreach (var pod in Server.Store.Current.List(ResourceTypes.Pod).Where(p => p.Json["spec"]?["nodeName"] is not null))
        {
            Server.Store.Update(pod.Key, current =>
            {
                var json = (JsonObject)current.Json.DeepClone();
                json["status"] = new JsonObject { ["phase"] = "Pending" };
                return new Resource(ResourceTypes.Pod, json);
            });
        }

        _kubelet = new Kubelet(Server, _network, template, _report);
        var deployments = new DeploymentController(Server.Store, template);
        var rules = new NodeRules(dns, _sites.Sites, _report);
        _loop = Task.Run(() => RunAsync(deployments, _kubelet, rules, _stop.Token), CancellationToken.None);
    }

    private void TakeLock()
    {
        try
        {
            _lock = new FileStream(LockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException)
        {
            var pid = File.Exists(PidPath) ? File.ReadAllText(PidPath).Trim() : "?";
            throw new ClusterException($"another local cluster is running (pid {pid}); stop it with 'meshgate down'");
        }

        File.WriteAllText(PidPath, Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + "\n");
    }

    /// <summary>The loop: Deployments to Pods, Pods to running pods, the store to the node's rules and names, statuses back.</summary>
    private async Task RunAsync(DeploymentController deployments, Kubelet kubelet, NodeRules rules, CancellationToken cancellationToken)
    {
        long seen = -1;
        var lastRound = Stopwatch.StartNew();
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                // On every change, and every 2 s anyway: a pod that failed to start is tried again.
                if (Server.Store.Current.Revision != seen || lastRound.Elapsed > TimeSpan.FromSeconds(2))
                {
                    lastRound.Restart();
                    seen = Server.Store.Current.Revision;
                    deployments.Reconcile(Server.Store.Current);
                    await kubelet.ReconcileAsync().ConfigureAwait(false);
                    await rules.ReconcileAsync(Server.Store.Current).ConfigureAwait(false);
                }

                kubelet.UpdateStatuses();
                await Task.Delay(Server.Store.Current.Revision != seen ? 20 : 200, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (Exception e)
            {
                // The loop is the cluster's kubelet and controllers: it reports what went wrong and goes on.
                _report($"cluster: {e.Message} ({e.GetType().Name})");
                await Task.Delay(500, CancellationToken.None).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Waits until every pod is Ready, reporting each as it gets there.</summary>
    /// <exception cref="TimeoutException">Not within <paramref name="timeout"/>; the message names the pods that are not.</exception>
    public async Task WaitReadyAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var reported = new HashSet<string>(StringComparer.Ordinal);
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var pods = Server.Store.Current.List(ResourceTypes.Pod);
            var notReady = new List<string>();
            foreach (var pod in pods)
            {
                var ready = (pod.Json["status"]?["conditions"] as JsonArray ?? []).Any(c => c?["type"]?.GetValue<string>() == "Ready" && c["status"]?.GetValue<string>() == "True");
                var name = $"{pod.Namespace}/{pod.Name}";
                if (ready && reported.Add(name))
                {
                    _report($"pod {name} ready ({pod.Json["status"]?["podIP"]})");
                }
                else if (!ready)
                {
                    notReady.Add(name);
                }
            }

            if (notReady.Count == 0 && pods.Count > 0)
            {
                return;
            }

            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException($"pods not ready after {timeout.TotalSeconds:0}s: {string.Join(", ", notReady)} (see meshgate get pods -A and meshgate logs)");
            }

            await Task.Delay(100, cancellationToken).ConfigureAwait(false);
        }
    }

    private static string Hash10(string text)
    {
        const string alphabet = "bcdfghjklmnpqrstvwxz2456789";
        var hash = System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text));
        return string.Concat(hash.Take(10).Select(b => alphabet[b % alphabet.Length]));
    }


    /// <summary>Stops every pod, the sites and the control plane, and removes every namespace, link and file the cluster made.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        // Each step on its own: one that fails must not leave the others' processes and namespaces behind.
        await StepAsync("stopping the pods", async () =>
        {
            if (_kubelet is not null)
            {
                await _kubelet.DisposeAsync().ConfigureAwait(false);
            }
        }).ConfigureAwait(false);
        await StepAsync("stopping the sites", async () =>
        {
            if (_sites is not null)
            {
                await _sites.DisposeAsync().ConfigureAwait(false);
            }
        }).ConfigureAwait(false);
        await StepAsync("stopping the control plane", async () =>
        {
            if (Server is not null)
            {
                await Server.StopAsync(CancellationToken.None).ConfigureAwait(false);
                await Server.DisposeAsync().ConfigureAwait(false);
            }
        }).ConfigureAwait(false);
        if (_lock is not null)
        {
            await StepAsync("removing the network", () => ClusterNetwork.RemoveAllAsync(_report)).ConfigureAwait(false);
            await StepAsync("removing the pods' certificate bundle", () =>
            {
                if (_network is not null && Directory.Exists(_network.SslDirectory))
                {
                    Directory.Delete(_network.SslDirectory, recursive: true);
                }

                return Task.CompletedTask;
            }).ConfigureAwait(false);
            File.Delete(PidPath);
            _lock.Dispose();
        }

        _stop.Dispose();
    }

    private async Task StepAsync(string what, Func<Task> step)
    {
        try
        {
            await step().ConfigureAwait(false);
        }
        catch (Exception e)
        {
            _report($"{what}: {e.Message} ({e.GetType().Name}); going on with the clean-up");
        }
    }
}

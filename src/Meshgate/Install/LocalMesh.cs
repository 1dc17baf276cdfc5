using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Meshgate.ControlPlane;
using Meshgate.ControlPlane.Api;
using Meshgate.ControlPlane.Deploy;
using Meshgate.Core.Resources;
using Meshgate.Supervision;
using Microsoft.Extensions.Logging;

namespace Meshgate.Install;

/// <summary>Where a local mesh keeps its data and listens, and what it installs.</summary>
public sealed record LocalMeshOptions
{
    public required string DataDirectory { get; init; }

    public IPEndPoint ApiEndpoint { get; init; } = new(IPAddress.Loopback, ControlPlaneOptions.DefaultApiPort);

    public int DiscoveryPort { get; init; } = ControlPlaneOptions.DefaultDiscoveryPort;

    public required InstallSettings Settings { get; init; }

    /// <summary>Passed to every proxy as <c>--dns-server</c>; empty leaves them on the system resolver.</summary>
    public IReadOnlyList<string> DnsServers { get; init; } = [];

    /// <summary>Added to every proxy's environment (the demo's <c>MESHGATE_HOSTS_FILE</c>).</summary>
    public IReadOnlyDictionary<string, string> ProxyEnvironment { get; init; } = new Dictionary<string, string>();

    /// <summary>The lifetime every proxy asks for its workload certificate; null leaves it to the CA (24 h).</summary>
    public TimeSpan? WorkloadCertificateLifetime { get; init; }

    /// <summary>The address every proxy takes as its workload IP and binds.</summary>
    public string WorkloadAddress { get; init; } = "127.0.0.1";
}

/// <summary>
/// Meshgate on one machine (<c>meshgate up</c>, <c>meshgate demo</c>): the control plane in this process, the mesh's
/// installed objects, and the proxies as supervised child processes: the egress gateway (unless the profile leaves it
/// out) and one sidecar in explicit mode for the <c>sleep</c> workload.
/// </summary>
public sealed class LocalMesh : IAsyncDisposable
{
    public const int SidecarPort = 15001;

    private readonly LocalMeshOptions _options;
    private readonly Action<string> _report;
    private readonly List<(Workload Workload, SupervisedProcess Process)> _proxies = [];
    private readonly Lock _proxiesLock = new();
    private readonly CancellationTokenSource _stop = new();
    private Task _gatewayWatch = Task.CompletedTask;

    private LocalMesh(LocalMeshOptions options, ControlPlaneServer server, Action<string> report)
    {
        _options = options;
        Server = server;
        _report = report;
    }

    public ControlPlaneServer Server { get; }

    public IReadOnlyList<Workload> Workloads
    {
        get
        {
            lock (_proxiesLock)
            {
                return _proxies.Select(p => p.Workload).ToList();
            }
        }
    }

    /// <summary>A proxy <c>up</c> runs: the pod it stands for, as it registers.</summary>
    public sealed record Workload(string Role, string Name, string Namespace, string Labels, string ServiceAccount)
    {
        public string Description => Role != "gateway" ? $"sidecar {Namespace}/{Name}"
            : Labels.Contains(GatewayWorkloadPlan.GatewayNameLabel + "=", StringComparison.Ordinal) ? $"Gateway API gateway {Namespace}/{Name}"
            : $"egress gateway {Namespace}/{Name}";
    }

    /// <summary>Starts the control plane, installs the objects the settings call for, and starts the proxies.</summary>
    /// <exception cref="IOException">A port is taken.</exception>
    public static async Task<LocalMesh> StartAsync(LocalMeshOptions options, ILoggerFactory loggerFactory, Action<string> report, CancellationToken cancellationToken)
    {
        var server = ControlPlaneServer.Create(
            new ControlPlaneOptions
            {
                DataDirectory = options.DataDirectory,
                ApiEndpoint = options.ApiEndpoint,
                SecureDiscoveryEndpoint = new IPEndPoint(options.ApiEndpoint.Address, options.DiscoveryPort),
            },
            loggerFactory);
        var mesh = new LocalMesh(options, server, report);
        try
        {
            await server.StartAsync(cancellationToken).ConfigureAwait(false);
            mesh.Install();
            var revision = mesh.Server.Store.Current.Revision; // gateways deployed from here on are the watch's
            mesh.StartProxies();
            mesh._gatewayWatch = Task.Run(() => mesh.WatchGatewaysAsync(revision, mesh._stop.Token), CancellationToken.None);
        }
        catch
        {
            await mesh.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return mesh;
    }

    private void Install()
    {
        var settings = _options.Settings;
        Server.Store.Apply(InstallResources.For(settings));

        // Pods of proxies this mesh no longer runs (another profile, another gateway name) would linger as endpoints.
        var keep = PlannedWorkloads().Concat(GatewayApiWorkloads()).Select(w => (w.Namespace, w.Name)).ToHashSet();
        var stale = Server.Store.Current.List(ResourceTypes.Pod)
            .Where(p => p.Annotations.ContainsKey(ControlPlane.Push.PodRegistration.RoleAnnotation) && !keep.Contains((p.Namespace, p.Name)))
            .Select(p => p.Key)
            .ToList();
        if (stale.Count > 0)
        {
            Server.Store.Delete(stale);
        }

        var mesh = settings.Mesh;
        _report(string.Create(CultureInfo.InvariantCulture,
            $"profile {settings.Profile}: egress gateway {(settings.EgressGatewayEnabled ? $"{mesh.RootNamespace}/{settings.EgressGatewayName}" : "none")}, " +
            $"access log {(mesh.AccessLogFile.Length == 0 ? "off" : $"{mesh.AccessLogFile} ({mesh.AccessLogEncoding.ToString().ToUpperInvariant()})")}, " +
            $"outbound traffic policy {(mesh.OutboundTrafficPolicy == Core.Translation.OutboundTrafficPolicyMode.RegistryOnly ? "REGISTRY_ONLY" : "ALLOW_ANY")}, " +
            $"egress guard {(mesh.Egress.AllowedCidrs.IsEmpty ? "strict (no private range allowed)" : "allowing " + string.Join(", ", mesh.Egress.AllowedCidrs))}" +
            $"{(mesh.Egress.AllowDomainFronting ? ", domain fronting allowed" : "")}"));
    }

    private IEnumerable<Workload> PlannedWorkloads()
    {
        var settings = _options.Settings;
        if (settings.EgressGatewayEnabled)
        {
            var name = settings.EgressGatewayName;
            yield return new Workload("gateway", PodName(name), settings.Mesh.RootNamespace, $"app={name},istio=egressgateway", $"{name}-service-account");
        }

        yield return new Workload("sidecar", PodName(InstallResources.SleepName), "default", $"app={InstallResources.SleepName}", InstallResources.SleepName);
    }

    /// <summary>Kubernetes-style pod names (<c>sleep-5f8c7d9b6c-x2k7q</c>), the same for the same data directory, so a restart finds its pods.</summary>
    private string PodName(string workload)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(Path.GetFullPath(_options.DataDirectory) + "/" + workload));
        const string alphabet = "bcdfghjklmnpqrstvwxz2456789";
        var template = string.Concat(hash.Take(10).Select(b => alphabet[b % alphabet.Length]));
        var suffix = string.Concat(hash.Skip(10).Take(5).Select(b => alphabet[b % alphabet.Length]));
        return $"{workload}-{template}-{suffix}";
    }

    private void StartProxies()
    {
        foreach (var workload in PlannedWorkloads().Concat(GatewayApiWorkloads()))
        {
            StartProxy(workload);
        }
    }

    /// <summary>
    /// The proxies Istio's gateway controller would run for Gateway API Gateways: one per Deployment the control plane
    /// deployed for a Gateway of class istio (<see cref="GatewayWorkloadPlan"/>), with the labels and service account of
    /// its pod template.
    /// </summary>
    private IEnumerable<Workload> GatewayApiWorkloads()
    {
        foreach (var deployment in Server.Store.Current.List(ResourceTypes.Deployment))
        {
            if (!deployment.Labels.TryGetValue(GatewayWorkloadPlan.ManagedLabel, out var managed) || managed != GatewayWorkloadPlan.ManagedValue)
            {
                continue;
            }

            var template = deployment.Json["spec"]?["template"];
            var labels = (template?["metadata"]?["labels"] as System.Text.Json.Nodes.JsonObject ?? [])
                .Select(l => $"{l.Key}={l.Value?.GetValue<string>()}")
                .Order(StringComparer.Ordinal);
            var serviceAccount = template?["spec"]?["serviceAccountName"]?.GetValue<string>() ?? deployment.Name;
            yield return new Workload("gateway", PodName(deployment.Name), deployment.Namespace, string.Join(',', labels), serviceAccount);
        }
    }

    /// <summary>
    /// Keeps one supervised proxy per Gateway API gateway deployment: starts those deployed since, stops those deleted
    /// (and deletes their Pods), restarts one whose labels or service account changed.
    /// </summary>
    private async Task WatchGatewaysAsync(long revision, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await foreach (var change in Server.Store.Changes.WatchAsync(revision, cancellationToken).ConfigureAwait(false))
                {
                    revision = change.Revision;
                    if (change.Object.Type == ResourceTypes.Deployment && change.Object.Labels.ContainsKey(GatewayWorkloadPlan.ManagedLabel))
                    {
                        await ReconcileGatewaysAsync().ConfigureAwait(false);
                    }
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (ControlPlane.Store.StoreException)
            {
                revision = Server.Store.Current.Revision;
                await ReconcileGatewaysAsync().ConfigureAwait(false);
            }
        }
    }

    private async Task ReconcileGatewaysAsync()
    {
        var wanted = GatewayApiWorkloads().ToList();
        List<(Workload Workload, SupervisedProcess Process)> stopping;
        lock (_proxiesLock)
        {
            stopping = _proxies.Where(p => p.Workload.Role == "gateway" && p.Workload.Labels.Contains(GatewayWorkloadPlan.GatewayNameLabel, StringComparison.Ordinal)
                && !wanted.Contains(p.Workload)).ToList();
            foreach (var gone in stopping)
            {
                _proxies.Remove(gone);
            }
        }

        foreach (var (workload, process) in stopping)
        {
            _report($"{workload.Description} removed: stopping it");
            await process.StopAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
            await process.DisposeAsync().ConfigureAwait(false);
            if (!wanted.Any(w => w.Namespace == workload.Namespace && w.Name == workload.Name))
            {
                Server.Store.Delete([new ObjectKey(ResourceTypes.Pod, workload.Namespace, workload.Name)]);
            }
        }

        foreach (var workload in wanted)
        {
            bool running;
            lock (_proxiesLock)
            {
                running = _proxies.Any(p => p.Workload == workload);
            }

            if (!running)
            {
                _report($"{workload.Description} deployed: starting it");
                StartProxy(workload);
            }
        }
    }

    private void StartProxy(Workload workload)
    {
        var (executable, prefix) = Supervision.ProxyExecutable.Resolve();
        var root = Path.Combine(_options.DataDirectory, "ca", ControlPlane.Identity.TrustRollout.BundleFile);
        var tokenFile = IssueToken(workload);
        var arguments = new List<string>(prefix)
        {
            "proxy",
            "--discovery-address", Server.SecureDiscoveryEndPoint!.ToString(),
            "--ca-root-file", Path.GetFullPath(root),
            "--token-file", Path.GetFullPath(tokenFile),
            "--trust-domain", _options.Settings.Mesh.TrustDomain,
            "--role", workload.Role,
            "--name", workload.Name,
            "--namespace", workload.Namespace,
            "--labels", workload.Labels,
            "--service-account", workload.ServiceAccount,
            "--ip", _options.WorkloadAddress,
            "--admin-port", "0",
            "--status-port", "0",
        };
        if (workload.Role == "sidecar")
        {
            arguments.AddRange(["--capture", "explicit"]);
        }

        if (_options.WorkloadCertificateLifetime is { } lifetime)
        {
            arguments.AddRange(["--workload-cert-ttl", ((long)lifetime.TotalSeconds).ToString(CultureInfo.InvariantCulture) + "s"]);
        }

        foreach (var dns in _options.DnsServers)
        {
            arguments.AddRange(["--dns-server", dns]);
        }

        var log = PodLogApi.PathFor(Path.Combine(_options.DataDirectory, "logs"), workload.Namespace, workload.Name);
        var process = new SupervisedProcess(workload.Name, executable, arguments, log, _report, _options.ProxyEnvironment);
        lock (_proxiesLock)
        {
            _proxies.Add((workload, process));
        }

        process.Start();
    }

    /// <summary>
    /// What kubelet does for a pod before its containers start: the Pod object (Pending until its proxy registers), and
    /// the token bound to it written where the proxy reads it (<c>DATA/tokens/NS/POD/istio-token</c>, 0600), as the
    /// projected ServiceAccount token Istio's agent presents to the CA. A pod that already exists keeps its uid, so a
    /// restart's token stays valid.
    /// </summary>
    private string IssueToken(Workload workload)
    {
        var key = new ObjectKey(ResourceTypes.Pod, workload.Namespace, workload.Name);
        var existing = Server.Store.Current.Get(key);
        if (existing?.Json["spec"]?["serviceAccountName"]?.GetValue<string>() != workload.ServiceAccount)
        {
            var labels = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var pair in workload.Labels.Split(',', StringSplitOptions.RemoveEmptyEntries))
            {
                var equals = pair.IndexOf('=', StringComparison.Ordinal);
                labels[pair[..equals]] = pair[(equals + 1)..];
            }

            if (existing is not null)
            {
                Server.Store.Delete([key]); // another service account: a new pod, a new uid, the old token void
            }

            Server.Store.Apply([ControlPlane.Push.PodRegistration.PendingPodFor(workload.Name, workload.Namespace, labels, workload.ServiceAccount)]);
        }

        var uid = Server.Store.Current.Get(key)!.Metadata["uid"]!.GetValue<string>();
        var token = Server.Identity.Tokens.Issue(
            new ControlPlane.Identity.BoundPod(workload.Namespace, workload.ServiceAccount, workload.Name, uid), TokenLifetime, [ControlPlane.Identity.ServiceAccountTokens.CaAudience]);
        var path = Path.Combine(_options.DataDirectory, "tokens", workload.Namespace, workload.Name, "istio-token");
        ControlPlane.Identity.SecretFile.Write(path, token.Token);
        return path;
    }

    /// <summary>How long a pod's token is good for; <c>up</c> writes a new one each time it starts the pod's proxy.</summary>
    private static readonly TimeSpan TokenLifetime = TimeSpan.FromDays(7);

    /// <summary>Waits until every proxy has acknowledged a snapshot, reporting each as it does.</summary>
    /// <exception cref="TimeoutException">A proxy did not get ready in time; the message names it and its log.</exception>
    public async Task WaitReadyAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        Dictionary<string, (Workload Workload, SupervisedProcess Process)> pending;
        lock (_proxiesLock)
        {
            pending = _proxies.ToDictionary(p => p.Workload.Name + "." + p.Workload.Namespace);
        }

        var deadline = Stopwatch.StartNew();
        while (pending.Count > 0)
        {
            foreach (var status in Server.Push.Statuses())
            {
                var key = status.Name + "." + status.Namespace;
                if (status.Connected && status.AckedVersion is not null && pending.Remove(key, out var ready))
                {
                    _report(ready.Workload.Role == "gateway"
                        ? $"{ready.Workload.Description} ready (config {status.AckedVersion}, admin 127.0.0.1:{status.AdminPort})"
                        : $"{ready.Workload.Description} ready: explicit HTTP proxy on {_options.WorkloadAddress}:{SidecarPort} (config {status.AckedVersion}, admin 127.0.0.1:{status.AdminPort})");
                }
            }

            if (pending.Count == 0)
            {
                return;
            }

            if (deadline.Elapsed > timeout)
            {
                var late = pending.Values.First();
                throw new TimeoutException($"{late.Workload.Description} is not ready after {timeout.TotalSeconds:0}s; its log is {late.Process.LogPath}");
            }

            await Task.Delay(100, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Waits until every proxy runs the configuration of the store's current revision (acknowledged).</summary>
    /// <exception cref="TimeoutException">Not within <paramref name="timeout"/>; the message says who is behind.</exception>
    public async Task WaitSyncedAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var revision = Server.Store.Current.Revision;
        var deadline = Stopwatch.StartNew();
        while (!Server.Push.IsSynced(revision))
        {
            if (deadline.Elapsed > timeout)
            {
                var behind = Server.Push.Statuses().Where(s => s.Connected && s.AckedVersion != s.SentVersion).Select(s => $"{s.Name}.{s.Namespace} ({s.NackError ?? "no ACK"})");
                throw new TimeoutException($"proxies did not apply revision {revision} within {timeout.TotalSeconds:0}s: {string.Join(", ", behind)}");
            }

            await Task.Delay(50, cancellationToken).ConfigureAwait(false);
        }
    }


    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _gatewayWatch.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        List<(Workload Workload, SupervisedProcess Process)> proxies;
        lock (_proxiesLock)
        {
            proxies = [.. _proxies];
        }

        await Task.WhenAll(proxies.Select(p => p.Process.StopAsync(TimeSpan.FromSeconds(10)))).ConfigureAwait(false);
        foreach (var (_, process) in proxies)
        {
            await process.DisposeAsync().ConfigureAwait(false);
        }

        _stop.Dispose();

        await Server.StopAsync(CancellationToken.None).ConfigureAwait(false);
        await Server.DisposeAsync().ConfigureAwait(false);
    }
}

using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Meshgate.ControlPlane.Store;
using Meshgate.Core.Resources;
using Microsoft.Extensions.Logging;

namespace Meshgate.ControlPlane.Deploy;

/// <summary>
/// Istio's gateway deployment controller: keeps, for every Gateway API <c>Gateway</c> of class <c>istio</c>, the
/// ServiceAccount, Service and Deployment <see cref="GatewayWorkloadPlan"/> describes, updates them when the Gateway's
/// listeners change, and deletes them with the Gateway. Also installs GatewayClass <c>istio</c> when it is missing.
/// Reconciles the whole set after every change that touches a Gateway or one of its objects (a second pass over
/// its own writes finds them unchanged, so it never loops).
/// </summary>
public sealed partial class GatewayDeployer : IAsyncDisposable
{
    private readonly ResourceStore _store;
    private readonly Func<int, int> _newTargetPort;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private Task _loop = Task.CompletedTask;
    private int _disposed;

    /// <param name="newTargetPort">
    /// The port a gateway workload listens on for a new listener port; null picks a free local port (every proxy of a
    /// local mesh shares this machine, so a listener's port 80 cannot be every gateway's). Kept once chosen.
    /// </param>
    public GatewayDeployer(ResourceStore store, ILogger logger, Func<int, int>? newTargetPort = null)
    {
        _store = store;
        _logger = logger;
        _newTargetPort = newTargetPort ?? (_ => FreeLocalPort());
    }

    public void Start()
    {
        EnsureGatewayClass();
        Reconcile();
        _loop = Task.Run(() => WatchAsync(_stop.Token));
    }

    private async Task WatchAsync(CancellationToken cancellationToken)
    {
        var revision = _store.Current.Revision;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await foreach (var change in _store.Changes.WatchAsync(revision, cancellationToken).ConfigureAwait(false))
                {
                    revision = change.Revision;
                    if (Relevant(change.Object))
                    {
                        Reconcile();
                    }
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (StoreException)
            {
                revision = _store.Current.Revision; // fell behind the feed: reconcile from the whole store
                Reconcile();
            }
            catch (Exception e) when (e is InvalidOperationException or IOException)
            {
                Log.Failed(_logger, e.Message);
                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    private static bool Relevant(Resource resource) =>
        resource.Type == ResourceTypes.KubernetesGateway || resource.Labels.ContainsKey(GatewayWorkloadPlan.ManagedLabel);

    /// <summary>Brings the deployed objects in line with the Gateways now stored.</summary>
    public void Reconcile()
    {
        var current = _store.Current;
        var desired = new List<Resource>();
        foreach (var gateway in current.List(ResourceTypes.KubernetesGateway))
        {
            if (!GatewayWorkloadPlan.IsManaged(gateway))
            {
                continue;
            }

            var existing = current.Get(new ObjectKey(ResourceTypes.Service, gateway.Namespace, GatewayWorkloadPlan.WorkloadName(gateway.Name)));
            var kept = TargetPorts(existing);
            desired.AddRange(GatewayWorkloadPlan.For(gateway, port => kept.TryGetValue(port, out var target) ? target : _newTargetPort(port)));
        }

        var wanted = desired.Select(r => r.Key).ToHashSet();
        var stale = new List<ObjectKey>();
        foreach (var type in new[] { ResourceTypes.Deployment, ResourceTypes.Service, ResourceTypes.ServiceAccount })
        {
            foreach (var resource in current.List(type))
            {
                if (resource.Labels.TryGetValue(GatewayWorkloadPlan.ManagedLabel, out var managed) && managed == GatewayWorkloadPlan.ManagedValue && !wanted.Contains(resource.Key))
                {
                    stale.Add(resource.Key);
                }
            }
        }

        try
        {
            if (desired.Count > 0)
            {
                foreach (var outcome in _store.Apply(desired))
                {
                    if (outcome.Action != ApplyAction.Unchanged)
                    {
                        Log.Deployed(_logger, outcome.Key.ToString(), outcome.Action.ToString().ToLowerInvariant());
                    }
                }
            }

            if (stale.Count > 0)
            {
                foreach (var (key, deleted) in _store.Delete(stale))
                {
                    if (deleted)
                    {
                        Log.Removed(_logger, key.ToString());
                    }
                }
            }
        }
        catch (StoreException e)
        {
            Log.Failed(_logger, e.Message); // e.g. the Gateway's namespace is being deleted: the next change reconciles again
        }
    }

    /// <summary>The listener port → target port choices already made (kept, so the workload's listeners stay put).</summary>
    private static Dictionary<int, int> TargetPorts(Resource? service)
    {
        var ports = new Dictionary<int, int>();
        foreach (var port in service?.Json["spec"]?["ports"] as JsonArray ?? [])
        {
            if (port?["port"]?.GetValue<int>() is { } number && port["targetPort"] is JsonValue target && target.TryGetValue<int>(out var targetPort))
            {
                ports[number] = targetPort;
            }
        }

        return ports;
    }

    private void EnsureGatewayClass()
    {
        if (_store.Current.Get(new ObjectKey(ResourceTypes.GatewayClass, "", GatewayWorkloadPlan.ClassName)) is not null)
        {
            return;
        }

        _store.Apply([new Resource(ResourceTypes.GatewayClass, new JsonObject
        {
            ["apiVersion"] = "gateway.networking.k8s.io/v1",
            ["kind"] = "GatewayClass",
            ["metadata"] = new JsonObject { ["name"] = GatewayWorkloadPlan.ClassName },
            ["spec"] = new JsonObject
            {
                ["controllerName"] = GatewayWorkloadPlan.ControllerName,
                ["description"] = "The default Istio GatewayClass (Meshgate deploys a gateway proxy for each Gateway)",
            },
        })]);
    }

    private static int FreeLocalPort()
    {
        using var listener = new TcpListener(IPAddress.Any, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Stops watching; safe to call more than once (the server's Stop and Dispose both do).</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stop.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "gateway deployment: {Key} {Action}")]
        public static partial void Deployed(ILogger logger, string key, string action);

        [LoggerMessage(2, LogLevel.Information, "gateway deployment: {Key} deleted (its Gateway is gone)")]
        public static partial void Removed(ILogger logger, string key);

        [LoggerMessage(3, LogLevel.Warning, "gateway deployment: {Reason}; retrying on the next change")]
        public static partial void Failed(ILogger logger, string reason);
    }
}

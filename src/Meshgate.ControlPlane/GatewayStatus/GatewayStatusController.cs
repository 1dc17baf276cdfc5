using System.Text;
using Meshgate.ControlPlane.Push;
using Meshgate.ControlPlane.Store;
using Meshgate.Core.GatewayStatus;
using Meshgate.Core.Resources;
using Microsoft.Extensions.Logging;

namespace Meshgate.ControlPlane.GatewayStatus;

/// <summary>
/// Istio's gateway status controller: keeps the <c>status</c> of Gateway API objects (GatewayClass, Gateway, HTTPRoute,
/// TLSRoute, TCPRoute) as <see cref="GatewayApiStatusCalculator"/> computes it. It recomputes, debounced, after every store change
/// that is not one of its own status writes, and whenever the sync state of a gateway's proxy changes (polled every
/// <see cref="PollInterval"/>); it writes only the statuses that differ, so a pass over its own result writes nothing.
/// </summary>
public sealed partial class GatewayStatusController : IAsyncDisposable
{
    public static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(500);

    private static readonly HashSet<ResourceType> Inputs =
    [
        ResourceTypes.GatewayClass, ResourceTypes.KubernetesGateway, ResourceTypes.HttpRoute, ResourceTypes.TlsRoute,
        ResourceTypes.TcpRoute, ResourceTypes.ReferenceGrant, ResourceTypes.Service, ResourceTypes.ServiceEntry, ResourceTypes.Secret,
        ResourceTypes.ConfigMap, ResourceTypes.Namespace, ResourceTypes.Pod,
    ];

    private readonly ResourceStore _store;
    private readonly Func<IReadOnlyList<SyncStatus>> _proxies;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly StatusWriter _writer;
    private readonly ConfigurationRevisions _revisions = new();
    private readonly Debouncer _debouncer;
    private readonly CancellationTokenSource _stop = new();
    private Task _loop = Task.CompletedTask;
    private int _disposed;

    public GatewayStatusController(ResourceStore store, PushService push, TimeProvider time, ILogger logger)
        : this(store, push.Statuses, time, logger)
    {
    }

    internal GatewayStatusController(ResourceStore store, Func<IReadOnlyList<SyncStatus>> proxies, TimeProvider time, ILogger logger)
    {
        _store = store;
        _proxies = proxies;
        _time = time;
        _logger = logger;
        _writer = new StatusWriter(store, logger);
        _debouncer = new Debouncer(time);
    }

    public void Start()
    {
        _debouncer.Signal();
        _loop = Task.WhenAll(
            Task.Run(() => WatchAsync(_stop.Token)),
            Task.Run(() => PollAsync(_stop.Token)),
            Task.Run(() => _debouncer.RunAsync(_ => { Reconcile(); return Task.CompletedTask; }, _stop.Token)));
    }

    /// <summary>One pass: compute every status from the current store and proxies, write those that changed.</summary>
    internal void Reconcile()
    {
        try
        {
            var resources = _store.Current;
            _revisions.Prune(resources);
            _writer.Prune(resources);
            var updates = GatewayApiStatusCalculator.Updates(resources, ProxyStates(), _revisions.Of, _time.GetUtcNow());
            if (!_writer.Write(updates))
            {
                _debouncer.Signal(); // an object moved under us: compute again from the newer one
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Log.Failed(_logger, e); // the next change tries again; the loop must not die
        }
    }

    private List<ProxySyncState> ProxyStates()
    {
        var states = new List<ProxySyncState>();
        foreach (var proxy in _proxies())
        {
            states.Add(new ProxySyncState(proxy.Name, proxy.Namespace, proxy.Connected, proxy.SyncedRevision, proxy.NackError));
        }

        return states;
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
                    if (Inputs.Contains(change.Object.Type) && !_writer.IsOwnWrite(change))
                    {
                        _debouncer.Signal();
                    }
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (StoreException)
            {
                revision = _store.Current.Revision; // fell behind the feed: the pass reads the whole store anyway
                _debouncer.Signal();
            }
        }
    }

    /// <summary>Signals when the sync state of any gateway's proxy changes (PushService has no hook to subscribe to).</summary>
    private async Task PollAsync(CancellationToken cancellationToken)
    {
        var last = "";
        while (!cancellationToken.IsCancellationRequested)
        {
            var fingerprint = GatewayProxyFingerprint();
            if (fingerprint != last)
            {
                last = fingerprint;
                _debouncer.Signal();
            }

            try
            {
                await Task.Delay(PollInterval, _time, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>What the Programmed conditions read from the proxies of Gateway API gateways, as one string.</summary>
    private string GatewayProxyFingerprint()
    {
        var resources = _store.Current;
        var text = new StringBuilder();
        foreach (var proxy in _proxies())
        {
            if (resources.Get(new ObjectKey(ResourceTypes.Pod, proxy.Namespace, proxy.Name)) is { } pod
                && pod.Labels.ContainsKey(GatewayApiConditions.GatewayNameLabel))
            {
                text.Append(proxy.Namespace).Append('/').Append(proxy.Name).Append(' ').Append(proxy.Connected)
                    .Append(' ').Append(proxy.SyncedRevision).Append(' ').Append(proxy.NackError).Append('\n');
            }
        }

        return text.ToString();
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stop.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Error, "status: computing Gateway API statuses failed; retrying on the next change")]
        public static partial void Failed(ILogger logger, Exception exception);
    }
}

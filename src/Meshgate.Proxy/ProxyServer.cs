using System.Net;
using Meshgate.Core.ProxyConfiguration;
using Meshgate.Proxy.Forwarding;
using Meshgate.Proxy.Listeners;
using Meshgate.Proxy.Observability;
using Meshgate.Proxy.Upstream;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Forwarder;

namespace Meshgate.Proxy;

/// <summary>
/// The data plane process: one Kestrel server per listener of a <see cref="ProxyConfig"/>, HTTP routed and forwarded
/// with YARP, TLS passed through by SNI, every request and connection in the access log and the metrics.
/// <see cref="UpdateAsync"/> swaps in a new configuration without dropping anything: requests and relays in flight
/// finish on the snapshot they started with, unchanged listeners and clusters are kept, changed ones are replaced.
/// </summary>
public sealed partial class ProxyServer : IAsyncDisposable
{
    /// <summary>
    /// How long removed listeners, and all of them at shutdown, let their connections finish: Istio's default
    /// <c>terminationDrainDuration</c> (5 s).
    /// </summary>
    public static readonly TimeSpan DefaultDrainTime = TimeSpan.FromSeconds(5);

    private readonly ServiceProvider _services;
    private readonly ListenerSet _listeners;
    private readonly AccessLogs _accessLogs;
    private readonly EndpointResolver _resolver;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _updates = new(1, 1);
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<Task> _retiring = [];
    private bool _started;
    private volatile bool _ready;

    private ProxyServer(ServiceProvider services, SnapshotHolder snapshots, ProxyMetrics metrics, ListenerSet listeners, AccessLogs accessLogs,
        EndpointResolver resolver, KestrelServerFactory kestrel, TimeProvider time, ILoggerFactory loggerFactory)
    {
        _services = services;
        Snapshots = snapshots;
        Metrics = metrics;
        _listeners = listeners;
        _accessLogs = accessLogs;
        _resolver = resolver;
        Kestrel = kestrel;
        Time = time;
        StartedAt = time.GetUtcNow();
        LoggerFactory = loggerFactory;
        _logger = loggerFactory.CreateLogger("meshgate.proxy");
    }

    public SnapshotHolder Snapshots { get; }

    public ProxyMetrics Metrics { get; }

    /// <summary>True once every listener is open, until the proxy stops (<c>/healthz/ready</c>).</summary>
    public bool IsReady => _ready;

    public DateTimeOffset StartedAt { get; }

    /// <summary>Listeners open now, with the address each is bound to.</summary>
    public IReadOnlyList<(Listener Listener, EndPoint? Bound)> Listening =>
        [.. _listeners.Hosts.Select(h => (h.Listener, h.BoundEndPoint))];

    /// <summary>How long removed listeners drain, and shutdown waits; <see cref="DefaultDrainTime"/> unless set.</summary>
    public TimeSpan DrainTime { get; set; } = DefaultDrainTime;

    internal KestrelServerFactory Kestrel { get; }

    internal TimeProvider Time { get; }

    internal ILoggerFactory LoggerFactory { get; }

    /// <param name="dnsServers">Resolve host names with these servers (after /etc/hosts); empty for the system resolver.</param>
    /// <param name="options">How the process runs (<c>--ip</c>...); defaults when null.</param>
    public static ProxyServer Create(ProxyConfig config, ILoggerFactory loggerFactory, IReadOnlyList<IPEndPoint>? dnsServers = null, TimeProvider? time = null, ProxyOptions? options = null)
    {
        options ??= new ProxyOptions();
        time ??= TimeProvider.System;
        var resolver = EndpointResolver.Create(dnsServers ?? [], time, loggerFactory.CreateLogger("meshgate.dns"));
        var accessLogs = new AccessLogs(time);
        var eventLoop = options.EventLoop && EventLoop.EventLoopSupport.Supported ? EventLoop.EpollLoop.Shared : null;
        var snapshots = new SnapshotHolder(new ProxySnapshot(config, resolver, accessLog: accessLogs.Open(config.AccessLog), maxPendingConnects: options.Limits.MaxPendingConnectsPerCluster, eventLoop: eventLoop));
        var metrics = new ProxyMetrics();

        var services = new ServiceCollection()
            .AddSingleton(loggerFactory)
            .AddSingleton(typeof(ILogger<>), typeof(Logger<>))
            .AddSingleton(time)
            .AddHttpForwarder()
            .BuildServiceProvider();
        var kestrel = new KestrelServerFactory(loggerFactory, services, options.InlineScheduling, eventLoop);
        var loops = new LoopGuard();
        var http = new HttpProxyHandler(services.GetRequiredService<IHttpForwarder>(), metrics, time, loops, options.DirectHttp1);
        var limits = options.Limits;
        var tunnels = new MeshTunnelAcceptor(metrics, time, limits.HandshakeHeadTimeout);
        var tls = new TlsPassthroughHandler(metrics, time, loops, tunnels) { HelloTimeout = limits.HandshakeHeadTimeout, IdleTimeout = limits.TcpIdleTimeout, EventLoop = eventLoop };
        var capture = new CaptureConnectionHandler(tls, time, metrics, loops) { HeadTimeout = limits.HandshakeHeadTimeout };
        var listenerLog = loggerFactory.CreateLogger("meshgate.proxy.listeners");
        var listeners = new ListenerSet(
            new ListenerServices(snapshots, kestrel, http, tls, capture, tunnels, options.InstanceIp, limits, metrics, listenerLog), loops, listenerLog);
        return new ProxyServer(services, snapshots, metrics, listeners, accessLogs, resolver, kestrel, time, loggerFactory);
    }

    /// <summary>Opens every listener of the current configuration, or none (the exception says why).</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        Log.Resolving(_logger, _resolver.Description);
        await _updates.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await _listeners.StartAsync(Snapshots.Current.Config.Listeners, cancellationToken).ConfigureAwait(false);
            _started = true;
            _ready = true;
        }
        finally
        {
            _updates.Release();
        }
    }

    /// <summary>
    /// Applies <paramref name="next"/> whole or not at all (the last good configuration stays when it is refused):
    /// validated, listeners changed by diff, clusters kept where equal, the snapshot swapped atomically. Requests and
    /// TLS relays already running keep the snapshot they started with. Updates are applied one at a time.
    /// </summary>
    public async Task<ProxyUpdateResult> UpdateAsync(ProxyConfig next, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(next);
        var invalid = ProxyConfigValidator.Validate(next);
        if (invalid.Count > 0)
        {
            return Refuse(next, invalid);
        }

        await _updates.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var current = Snapshots.Current;
            if (current.Config == next)
            {
                return ProxyUpdateResult.Success;
            }

            AccessLogSink accessLog;
            try
            {
                accessLog = current.Config.AccessLog == next.AccessLog ? current.AccessLog : _accessLogs.Open(next.AccessLog);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return Refuse(next, [$"accessLog.path: cannot open \"{next.AccessLog?.Path}\": {e.Message}"]);
            }

            ListenerChange? change = null;
            if (_started)
            {
                (change, var error) = await _listeners.PrepareAsync(next.Listeners, cancellationToken).ConfigureAwait(false);
                if (change is null)
                {
                    await _accessLogs.CloseUnusedAsync(current.AccessLog, accessLog).ConfigureAwait(false);
                    return Refuse(next, [error!]);
                }
            }

            var snapshot = new ProxySnapshot(next, _resolver, current, accessLog, current.Workload);
            change?.Pin(current);
            Snapshots.Swap(snapshot);
            Metrics.UpdateApplied();
            Log.Applied(_logger, next.Version, current.Config.Version);
            _accessLogs.Retire(current.AccessLog, accessLog, DrainTime);
            RetireClusters(current, snapshot);

            var errors = change is null ? [] : await _listeners.CompleteAsync(change, DrainTime, cancellationToken).ConfigureAwait(false);
            return errors.Count == 0 ? ProxyUpdateResult.Success : new ProxyUpdateResult(true, errors);
        }
        finally
        {
            _updates.Release();
        }
    }

    /// <summary>
    /// Puts a new workload certificate and root bundle in force (issue or rotation): the snapshot is rebuilt around the
    /// same configuration, so new handshakes use them while connections already open keep theirs; nothing is dropped.
    /// </summary>
    public async Task SetWorkloadSecretsAsync(Identity.WorkloadSecrets workload, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(workload);
        await _updates.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var current = Snapshots.Current;
            var snapshot = new ProxySnapshot(current.Config, _resolver, current, current.AccessLog, workload);
            Snapshots.Swap(snapshot);
            RetireClusters(current, snapshot); // ISTIO_MUTUAL clusters were rebuilt around the new certificate
        }
        finally
        {
            _updates.Release();
        }
    }

    /// <summary>Closes every listener, letting open requests and connections finish for at most <see cref="DrainTime"/>.</summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        _ready = false;
        await _updates.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await _listeners.StopAsync(DrainTime).ConfigureAwait(false);
            _started = false;
        }
        finally
        {
            _updates.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _ready = false;
        await _listeners.StopAsync(TimeSpan.Zero).ConfigureAwait(false);

        // Nothing runs any more: retired clusters go now rather than after their drain, and so do the current ones.
        await _stopping.CancelAsync().ConfigureAwait(false);
        Task[] retiring;
        lock (_retiring)
        {
            retiring = [.. _retiring];
            _retiring.Clear();
        }

        await Task.WhenAll(retiring).ConfigureAwait(false);
        foreach (var cluster in Snapshots.Current.Clusters)
        {
            cluster.Dispose();
        }

        await _accessLogs.DisposeAsync().ConfigureAwait(false);
        await _services.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// Disposes the HTTP clients (and so the pooled upstream connections) of the clusters <paramref name="next"/> no
    /// longer uses, once requests that started on <paramref name="previous"/> have had <see cref="DrainTime"/> to
    /// finish, as removed listeners drain: Envoy drains a removed or changed cluster's connection pools the same way.
    /// </summary>
    private void RetireClusters(ProxySnapshot previous, ProxySnapshot next)
    {
        var retired = previous.Retired(next);
        if (retired.Count == 0)
        {
            return;
        }

        var disposing = DisposeLaterAsync(retired, DrainTime, _stopping.Token);
        lock (_retiring)
        {
            _retiring.RemoveAll(t => t.IsCompleted);
            _retiring.Add(disposing);
        }
    }

    private async Task DisposeLaterAsync(IReadOnlyList<ClusterState> clusters, TimeSpan drain, CancellationToken stopping)
    {
        // Cut short when the proxy is disposed.
        await Task.Delay(drain, Time, stopping).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);

        foreach (var cluster in clusters)
        {
            cluster.Dispose();
        }

        Log.ClustersRetired(_logger, clusters.Count);
    }

    private ProxyUpdateResult Refuse(ProxyConfig next, IReadOnlyList<string> errors)
    {
        Metrics.UpdateRejected();
        Log.Refused(_logger, next.Version, Snapshots.Current.Config.Version, errors.Count);
        return ProxyUpdateResult.Refused(errors);
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Debug, "configuration {Version} applied (was {Previous})")]
        public static partial void Applied(ILogger logger, string version, string previous);

        [LoggerMessage(2, LogLevel.Debug, "configuration {Version} refused with {Count} errors; keeping {Current}")]
        public static partial void Refused(ILogger logger, string version, string current, int count);

        [LoggerMessage(3, LogLevel.Information, "resolving with {Resolver}")]
        public static partial void Resolving(ILogger logger, string resolver);

        [LoggerMessage(4, LogLevel.Debug, "closed the connection pools of {Count} replaced or removed clusters")]
        public static partial void ClustersRetired(ILogger logger, int count);
    }
}

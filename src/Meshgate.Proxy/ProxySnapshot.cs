using System.Net;
using Meshgate.Core.ProxyConfiguration;
using Meshgate.Core.Routing;
using Meshgate.Proxy.Listeners;
using Meshgate.Proxy.Observability;
using Meshgate.Proxy.Upstream;

namespace Meshgate.Proxy;

/// <summary>
/// One configuration, compiled for the hot path: route and SNI tables built once, clusters with their
/// long-lived state, and the access log it writes to. A request or connection reads the current snapshot once and
/// uses only it.
/// </summary>
public sealed class ProxySnapshot
{
    private readonly Dictionary<string, CompiledRouteTable> _routeTables;
    private readonly Dictionary<string, ClusterState> _clusters;
    private readonly Dictionary<string, CompiledListener> _listeners;
    private readonly Dictionary<(IPAddress, int), CompiledListener> _virtualExact = [];
    private readonly Dictionary<int, CompiledListener> _virtualAny = [];
    private readonly Dictionary<FilterChain, DownstreamTlsContext> _downstreamTls = new(ReferenceEqualityComparer.Instance);

    /// <param name="previous">The snapshot this one replaces: its cluster states are kept where the cluster is equal.</param>
    /// <param name="accessLog">Where requests and connections are logged; <see cref="AccessLogSink.Off"/> when absent.</param>
    /// <param name="workload">The proxy's own certificate and the mesh root (secrets <c>default</c> and <c>ROOTCA</c>, as Envoy's SDS serves them), once issued.</param>
    public ProxySnapshot(ProxyConfig config, EndpointResolver resolver, ProxySnapshot? previous = null, AccessLogSink? accessLog = null, Identity.WorkloadSecrets? workload = null, int? maxPendingConnects = null, EventLoop.EpollLoop? eventLoop = null)
    {
        MaxPendingConnects = maxPendingConnects ?? previous?.MaxPendingConnects ?? ProxyLimits.DefaultMaxPendingConnectsPerCluster;
        EventLoop = eventLoop ?? previous?.EventLoop;
        Config = config;
        Workload = workload;
        Egress = config.Egress is null ? EgressPolicy.Strict
            : previous?.Egress.Settings is { } same && same == config.Egress ? previous.Egress
            : new EgressPolicy(config.Egress);
        AccessLog = accessLog ?? AccessLogSink.Off;
        _routeTables = new Dictionary<string, CompiledRouteTable>(config.RouteTables.Count, StringComparer.Ordinal);
        foreach (var table in config.RouteTables)
        {
            // An unchanged table (the same instance, as a delta leaves it) is kept compiled; a changed one reuses its unchanged hosts.
            var old = previous?._routeTables.GetValueOrDefault(table.Name);
            _routeTables[table.Name] = old is not null && ReferenceEquals(old.Table, table) ? old
                : new CompiledRouteTable(table, old is not null && SharesHosts(old.Table, table) ? old : null);
        }

        _clusters = new Dictionary<string, ClusterState>(config.Clusters.Count + 2, StringComparer.Ordinal);
        var secrets = new Dictionary<string, Secret>(StringComparer.Ordinal);
        foreach (var secret in config.Secrets)
        {
            secrets[secret.Name] = secret;
        }

        if (workload is not null)
        {
            // The names Istio reserves for the workload's own certificate: the agent's, never the snapshot's.
            secrets[Secret.Default] = workload.Certificate;
            secrets[Secret.RootCa] = workload.RootCa;

            // Unwrapping the mesh tunnel: the same certificate as long as it is not rotated, so parsed once per certificate.
            MeshTunnelTls = ReferenceEquals(previous?.Workload, workload) ? previous!.MeshTunnelTls
                : DownstreamTlsContext.Create(new DownstreamTls { Mode = TlsMode.IstioMutual }, secrets);
        }
        else if (secrets.TryGetValue(Secret.Default, out var own) && secrets.TryGetValue(Secret.RootCa, out var root))
        {
            // No identity agent (a proxy run from a static configuration, as `envoy -c` with static secrets instead of
            // SDS): the configuration's own `default` and `ROOTCA` unwrap the tunnel, parsed again only when they change.
            _tunnelSecrets = (own, root);
            MeshTunnelTls = previous is { Workload: null, _tunnelSecrets: { } before } && before.Equals(_tunnelSecrets) ? previous.MeshTunnelTls
                : DownstreamTlsContext.Create(new DownstreamTls { Mode = TlsMode.IstioMutual }, secrets);
        }

        foreach (var cluster in config.Clusters)
        {
            _clusters[cluster.Name] = Reuse(previous, cluster, secrets) ?? new ClusterState(cluster, resolver, secrets, cluster.MaxPendingConnects ?? MaxPendingConnects, EventLoop);
        }

        foreach (var special in new[] { Core.ProxyConfiguration.Cluster.BlackHoleCluster, Core.ProxyConfiguration.Cluster.PassthroughCluster })
        {
            if (!_clusters.ContainsKey(special.Name))
            {
                _clusters[special.Name] = Reuse(previous, special, secrets) ?? new ClusterState(special, resolver, MaxPendingConnects, EventLoop);
            }
        }

        _listeners = config.Listeners.ToDictionary(l => l.Name, l => new CompiledListener(l, l.Protocol == ListenerProtocol.Tls ? new SniTable(l) : null), StringComparer.Ordinal);
        foreach (var listener in config.Listeners)
        {
            // TLS termination contexts, built once here: a connection only looks its chain up (by reference).
            if (listener.Protocol != ListenerProtocol.Tls)
            {
                continue;
            }

            foreach (var chain in listener.FilterChains)
            {
                AddDownstreamTls(chain, secrets);
            }

            AddDownstreamTls(listener.DefaultFilterChain, secrets);
        }

        foreach (var listener in _listeners.Values)
        {
            if (listener.Listener.BindToPort || !IPAddress.TryParse(listener.Listener.Address, out var address))
            {
                continue;
            }

            if (address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any))
            {
                _virtualAny[listener.Listener.Port] = listener;
            }
            else
            {
                _virtualExact[(address, listener.Listener.Port)] = listener;
            }
        }
    }

    public ProxyConfig Config { get; }

    /// <summary>The workload certificate and root bundle in force; null before the first is issued (or without an identity).</summary>
    public Identity.WorkloadSecrets? Workload { get; }

    /// <summary>
    /// Termination of the mesh tunnel (mutual TLS with ALPN <c>istio</c> from another proxy, docs/identity.md): the
    /// workload certificate, client certificates checked against the mesh root; without an identity agent, the static
    /// configuration's own <c>default</c> and <c>ROOTCA</c> secrets. Null without either: a proxy with no identity
    /// unwraps nothing.
    /// </summary>
    internal DownstreamTlsContext? MeshTunnelTls { get; }

    // The static configuration's own secrets MeshTunnelTls was made from, when no identity agent gave a certificate.
    private readonly (Secret Default, Secret RootCa)? _tunnelSecrets;

    public AccessLogSink AccessLog { get; }

    /// <summary>The egress guard's allowed ranges and the domain fronting checks (docs/egress-safety.md).</summary>
    public EgressPolicy Egress { get; }

    /// <summary>Every cluster with its state, the built-in ones included (for <c>/clusters</c>).</summary>
    public IEnumerable<ClusterState> Clusters => _clusters.Values;

    public CompiledListener? Listener(string name) => _listeners.GetValueOrDefault(name);

    /// <summary>
    /// The virtual listener (<c>bindToPort: false</c>) for captured traffic to <paramref name="address"/>:<paramref name="port"/>:
    /// the one with exactly that address (Istio's <c>10.0.0.5_3306</c>), else the one on <c>0.0.0.0</c> (<c>0.0.0.0_80</c>);
    /// null when neither exists (the capture listener's default chain takes it). <paramref name="address"/> is null for
    /// a destination given as a host name.
    /// </summary>
    public CompiledListener? VirtualListener(IPAddress? address, int port)
    {
        if (address is not null && _virtualExact.Count > 0 && _virtualExact.TryGetValue((address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address, port), out var exact))
        {
            return exact;
        }

        return _virtualAny.GetValueOrDefault(port);
    }

    /// <summary>The TLS termination of <paramref name="chain"/> (a chain of this snapshot with <c>Tls</c>), else null.</summary>
    internal DownstreamTlsContext? DownstreamTls(FilterChain chain) => _downstreamTls.GetValueOrDefault(chain);

    public CompiledRouteTable? RouteTable(string? name) => name is null ? null : _routeTables.GetValueOrDefault(name);

    public ClusterState? Cluster(string? name) => name is null ? null : _clusters.GetValueOrDefault(name);

    private void AddDownstreamTls(FilterChain? chain, Dictionary<string, Secret> secrets)
    {
        if (chain?.Tls is { } tls && !_downstreamTls.ContainsKey(chain))
        {
            _downstreamTls[chain] = DownstreamTlsContext.Create(tls, secrets);
        }
    }

    // A table a delta patched keeps most of its hosts as the same instances (its first or last among them, unless both
    // changed); a whole snapshot's table shares none, and building a lookup of the old hosts would be wasted.
    private static bool SharesHosts(RouteTable old, RouteTable table)
    {
        if (table.VirtualHosts.IsEmpty)
        {
            return false;
        }

        var (first, last) = (table.VirtualHosts[0], table.VirtualHosts[^1]);
        foreach (var host in old.VirtualHosts)
        {
            if (ReferenceEquals(host, first) || ReferenceEquals(host, last))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Each cluster's cap on connection attempts in flight (<see cref="ProxyLimits.MaxPendingConnectsPerCluster"/>), kept by later snapshots.</summary>
    public int MaxPendingConnects { get; }

    /// <summary>The loop that drives plaintext HTTP/1.1 upstream connections; null leaves them to the runtime's sockets. Kept by later snapshots.</summary>
    public EventLoop.EpollLoop? EventLoop { get; }

    // Keep the old state (connections, round robin) when the cluster and the secrets its TLS uses did not change.
    private static ClusterState? Reuse(ProxySnapshot? previous, Core.ProxyConfiguration.Cluster cluster, Dictionary<string, Secret> secrets) =>
        previous?._clusters.GetValueOrDefault(cluster.Name) is { } old && old.Cluster == cluster && old.SameSecrets(secrets) ? old : null;

    /// <summary>
    /// Cluster states the next snapshot no longer uses (the cluster was removed, changed, or its secrets were): their
    /// HTTP clients and pooled connections are to be disposed once requests that started on this snapshot are done.
    /// </summary>
    public IReadOnlyList<ClusterState> Retired(ProxySnapshot next)
    {
        List<ClusterState>? retired = null;
        foreach (var state in _clusters.Values)
        {
            if (!ReferenceEquals(next._clusters.GetValueOrDefault(state.Name), state))
            {
                (retired ??= []).Add(state);
            }
        }

        return retired ?? (IReadOnlyList<ClusterState>)[];
    }
}

/// <summary>A listener with its SNI table (TLS listeners) built.</summary>
public sealed record CompiledListener(Listener Listener, SniTable? Sni);

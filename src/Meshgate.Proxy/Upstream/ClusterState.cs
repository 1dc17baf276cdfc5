using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Meshgate.Core.ProxyConfiguration;
using Meshgate.Proxy.Capture;

namespace Meshgate.Proxy.Upstream;

/// <summary>
/// The long-lived state of one cluster: its HTTP client (one reused invoker, as YARP direct forwarding
/// wants), its upstream TLS, and its round-robin position. Survives a snapshot swap when the cluster's config (and
/// the secrets its TLS uses) are equal.
/// </summary>
public sealed class ClusterState : IDisposable
{
    private static readonly IReadOnlyDictionary<string, Secret> NoSecrets = new Dictionary<string, Secret>();

    private readonly EndpointResolver _resolver;

    // Per endpoint: the targets of its latest answer, rebuilt only when the resolver hands out a new answer, so a
    // request allocates neither an IPEndPoint nor a destination string.
    private readonly Targets?[] _targets;
    private int _next = -1;
    private HttpMessageInvoker? _invoker;
    private readonly EventLoop.EpollLoop? _eventLoop;
    private bool _disposed;

    public ClusterState(Cluster cluster, EndpointResolver resolver, int maxPendingConnects = ProxyLimits.DefaultMaxPendingConnectsPerCluster, EventLoop.EpollLoop? eventLoop = null)
        : this(cluster, resolver, NoSecrets, maxPendingConnects, eventLoop)
    {
    }

    /// <param name="secrets">The snapshot's secrets by name, for the cluster's upstream TLS.</param>
    /// <param name="maxPendingConnects">The cap on connection attempts in flight (<see cref="PendingConnects"/>).</param>
    /// <param name="eventLoop">Drives the direct path's plaintext connections (<see cref="Http1ConnectionPool"/>); null: the runtime's sockets.</param>
    public ClusterState(Cluster cluster, EndpointResolver resolver, IReadOnlyDictionary<string, Secret> secrets, int maxPendingConnects = ProxyLimits.DefaultMaxPendingConnectsPerCluster, EventLoop.EpollLoop? eventLoop = null)
    {
        _eventLoop = eventLoop;
        Cluster = cluster;
        Pending = new PendingConnects(maxPendingConnects);
        ServiceHost = ClusterName.TryParse(cluster.Name, out var name) && name.Host.Length > 0 ? name.Host : cluster.Name;
        _resolver = resolver;
        if (cluster.Tls is { } tls)
        {
            Tls = UpstreamTlsContext.Create(tls, TlsHost(cluster, ServiceHost), secrets);
            TlsSecrets = [Lookup(secrets, tls.EffectiveCaSecret), Lookup(secrets, tls.EffectiveCertificateSecret)];
        }

        _targets = new Targets?[cluster.Endpoints.Count];
        for (var i = 0; i < _targets.Length; i++)
        {
            var endpoint = cluster.Endpoints[i];
            if (IPAddress.TryParse(endpoint.Address, out var ip))
            {
                // An address the operator wrote (EDS, STATIC, an IP endpoint of a DNS cluster): the egress guard lets it through.
                _targets[i] = new Targets([], [new UpstreamTarget(new IPEndPoint(ip, endpoint.Port), Origination, declared: true)], Fixed: true);
            }
        }

        Protocol = cluster.Tls switch
        {
            // Inside the mesh tunnel the bytes are what the plaintext hop would carry: h2c with prior knowledge for an HTTP/2
            // port (the gateway's listener detects the preface once unwrapped), HTTP/1.1 otherwise (docs/identity.md).
            { Tunnel: true } => cluster.Http2 ? UpstreamHttpProtocol.Http2 : UpstreamHttpProtocol.Http11,
            _ when cluster.Http2 => UpstreamHttpProtocol.Http2,

            // Mutual TLS to a mesh workload (a gateway server with tls ISTIO_MUTUAL): HTTP/2 when the peer chooses h2
            // from h2 and http/1.1, as Istio's sidecars reach Istio's gateways; HTTP/1.1 on the same connection otherwise.
            { Mode: TlsMode.IstioMutual } => UpstreamHttpProtocol.Negotiated,
            _ => UpstreamHttpProtocol.Http11,
        };
        if (Protocol != UpstreamHttpProtocol.Http11)
        {
            _http2Connections = new ConcurrentDictionary<IPEndPoint, UpstreamConnection>();
        }
    }

    /// <summary>
    /// TLS the HTTP client should see as https (its ALPN decides the version); the mesh tunnel is transport only, so
    /// requests inside it go as over plaintext (http://, h2c with prior knowledge for HTTP/2).
    /// </summary>
    private bool Origination => Tls is { Tunnel: false };

    /// <summary>How the cluster's HTTP requests go: HTTP/1.1, HTTP/2, or HTTP/2 when the endpoint's ALPN offers it.</summary>
    internal UpstreamHttpProtocol Protocol { get; }

    // The newest HTTP/2 connection to each endpoint: its frames are written by the connection's own loop, so a request
    // learns its local address and peer identity here rather than from a write (UpstreamConnection.NotesRequests).
    private readonly ConcurrentDictionary<IPEndPoint, UpstreamConnection>? _http2Connections;

    // The direct HTTP/1.1 path's connections (Http1Forwarder), per endpoint; made on first use.
    private readonly ConcurrentDictionary<IPEndPoint, Http1ConnectionPool> _http1Pools = new();

    /// <summary>The pool of HTTP/1.1 connections (with the cluster's TLS, if any) to <paramref name="endpoint"/>.</summary>
    internal Http1ConnectionPool Http1Pool(IPEndPoint endpoint)
    {
        if (_http1Pools.TryGetValue(endpoint, out var pool))
        {
            return pool;
        }

        // After Dispose (a request still draining on a swapped-out cluster) the pool is made retired: it serves, keeps nothing.
        var created = new Http1ConnectionPool(endpoint, Pending, Cluster.ConnectTimeout ?? Cluster.DefaultConnectTimeout, Tls, retired => _http1Pools.TryRemove(new KeyValuePair<IPEndPoint, Http1ConnectionPool>(retired.EndPoint, retired)), _eventLoop);
        if (Volatile.Read(ref _disposed))
        {
            created.Dispose();
            return created;
        }

        var winner = _http1Pools.GetOrAdd(endpoint, created);
        if (winner != created)
        {
            created.Dispose();
        }
        else if (Volatile.Read(ref _disposed))
        {
            created.Dispose(); // Dispose ran meanwhile and may have missed it
        }

        return winner;
    }

    /// <summary>The newest HTTP/2 connection to <paramref name="endpoint"/>, for the access log; null when none.</summary>
    internal UpstreamConnection? Http2Connection(IPEndPoint endpoint) =>
        _http2Connections is { } connections && connections.TryGetValue(endpoint, out var connection) ? connection : null;

    public Cluster Cluster { get; }

    /// <summary>
    /// The service this cluster reaches, for metrics' <c>destination_service</c>: the host of an Istio cluster name
    /// (<c>outbound|80||edition.cnn.com</c> → <c>edition.cnn.com</c>), else the name itself (<c>BlackHoleCluster</c>).
    /// </summary>
    public string ServiceHost { get; }

    /// <summary>
    /// The cluster's HTTP client, made on first use: a proxy holding 10,000 clusters builds handlers only for those
    /// that carry traffic. Racing first uses may each build one; one wins and the others are disposed.
    /// </summary>
    public HttpMessageInvoker Invoker => Volatile.Read(ref _invoker) ?? CreateInvoker();

    /// <summary>TLS originated towards the endpoints; null sends plaintext.</summary>
    public UpstreamTlsContext? Tls { get; }

    /// <summary>The secrets <see cref="Tls"/> was built from, to tell whether a new snapshot changed them.</summary>
    public IReadOnlyList<Secret?> TlsSecrets { get; } = [];

    public string Name => Cluster.Name;

    /// <summary>
    /// The next endpoint in round-robin order, resolved; null when the cluster has none that resolve.
    /// STRICT_DNS takes every address a name resolves to as an endpoint of its own; the other kinds use
    /// the first (LOGICAL_DNS: "the first address of the latest answer").
    /// </summary>
    public async ValueTask<IPEndPoint?> PickAsync(CancellationToken cancellationToken) =>
        (await PickTargetAsync(null, cancellationToken).ConfigureAwait(false))?.EndPoint;

    /// <summary>
    /// As <see cref="PickAsync(CancellationToken)"/>; an ORIGINAL_DST cluster (PassthroughCluster) goes to
    /// <paramref name="destination"/> instead, its host resolved like an endpoint's (null without one: Envoy's
    /// ORIGINAL_DST has no host to pick then). EDS endpoints are IP addresses, used as STATIC ones.
    /// </summary>
    public async ValueTask<IPEndPoint?> PickAsync(OriginalDestination? destination, CancellationToken cancellationToken) =>
        (await PickTargetAsync(destination, cancellationToken).ConfigureAwait(false))?.EndPoint;

    /// <summary>As <see cref="PickAsync(OriginalDestination?, CancellationToken)"/>, with the destination prefix for HTTP forwarding.</summary>
    public ValueTask<UpstreamTarget?> PickTargetAsync(OriginalDestination? destination, CancellationToken cancellationToken) =>
        PickTargetAsync(destination, null, cancellationToken);

    /// <summary>
    /// As <see cref="PickTargetAsync(OriginalDestination?, CancellationToken)"/>; where a name resolved to several
    /// addresses, one that <paramref name="policy"/> allows is taken over one it refuses. The target is resolved once
    /// and carries its address: the connection dials exactly that address, the one the caller checks with
    /// <see cref="EgressPolicy.Allows(UpstreamTarget)"/> (a rebinding answer after the check is never dialled).
    /// </summary>
    public ValueTask<UpstreamTarget?> PickTargetAsync(OriginalDestination? destination, EgressPolicy? policy, CancellationToken cancellationToken)
    {
        if (Cluster.Discovery == ClusterDiscovery.OriginalDestination)
        {
            return OriginalAsync(destination, policy, cancellationToken);
        }

        var endpoints = Cluster.Endpoints;
        if (endpoints.Count == 0)
        {
            return ValueTask.FromResult<UpstreamTarget?>(null);
        }

        // The common case: an IP endpoint, or a name whose answer is fresh, completes without awaiting.
        var turn = (uint)Interlocked.Increment(ref _next);
        var index = (int)(turn % (uint)endpoints.Count);
        if (_targets[index] is { Fixed: true } fixedTargets)
        {
            return ValueTask.FromResult<UpstreamTarget?>(fixedTargets.List[0]);
        }

        return PickSlowAsync(turn, policy, cancellationToken);
    }

    // Every destination differs: a target per request. The client chose it, so it is always classified.
    private async ValueTask<UpstreamTarget?> OriginalAsync(OriginalDestination? destination, EgressPolicy? policy, CancellationToken cancellationToken)
    {
        if (destination is not { } target)
        {
            return null;
        }

        if ((target.Address ?? target.Vetted) is { } ip)
        {
            return new UpstreamTarget(new IPEndPoint(ip, target.Port), Origination);
        }

        var resolved = await _resolver.ResolveAsync(target.Host, cancellationToken).ConfigureAwait(false);
        if (resolved.Length == 0)
        {
            return null;
        }

        var address = resolved[0];
        if (policy is not null && !policy.Allows(address))
        {
            foreach (var candidate in resolved)
            {
                if (policy.Allows(candidate))
                {
                    address = candidate;
                    break;
                }
            }
        }

        return new UpstreamTarget(new IPEndPoint(address, target.Port), Origination);
    }

    private async ValueTask<UpstreamTarget?> PickSlowAsync(uint turn, EgressPolicy? policy, CancellationToken cancellationToken)
    {
        var endpoints = Cluster.Endpoints;
        for (var attempt = 0; attempt < endpoints.Count; attempt++)
        {
            if (attempt > 0)
            {
                turn = (uint)Interlocked.Increment(ref _next);
            }

            var index = (int)(turn % (uint)endpoints.Count);
            var targets = _targets[index];
            if (targets is { Fixed: true })
            {
                return targets.List[0];
            }

            var endpoint = endpoints[index];
            var addresses = await _resolver.ResolveAsync(endpoint.Address, cancellationToken).ConfigureAwait(false);
            if (addresses.Length == 0)
            {
                continue;
            }

            if (targets is null || !ReferenceEquals(targets.Addresses, addresses))
            {
                var list = new UpstreamTarget[addresses.Length];
                for (var i = 0; i < list.Length; i++)
                {
                    list[i] = new UpstreamTarget(new IPEndPoint(addresses[i], endpoint.Port), Origination);
                }

                targets = new Targets(addresses, list, Fixed: false);
                Volatile.Write(ref _targets[index], targets); // a racing request may build the same; either is right
            }

            var pick = Cluster.Discovery == ClusterDiscovery.StrictDns ? (int)(turn / (uint)endpoints.Count % (uint)addresses.Length) : 0;
            var chosen = targets.List[pick];
            if (policy is not null && !policy.Allows(chosen))
            {
                // The answer mixes addresses the guard refuses with ones it allows: the next allowed one in turn.
                for (var step = 1; step < targets.List.Length; step++)
                {
                    var next = targets.List[(pick + step) % targets.List.Length];
                    if (policy.Allows(next))
                    {
                        return next;
                    }
                }
            }

            return chosen;
        }

        return null;
    }

    /// <summary>
    /// A connection to <paramref name="endpoint"/> for a TCP relay, with the cluster's TLS originated when it has
    /// some, within the cluster's connect timeout. The caller owns the returned stream (it owns the socket);
    /// <c>HalfClose</c> passes the client's FIN on. A refused handshake throws <see cref="UpstreamTlsException"/>.
    /// </summary>
    public async Task<RelayConnection> ConnectRelayAsync(IPEndPoint endpoint, CancellationToken cancellationToken)
    {
        Pending.Enter();
        try
        {
            return await OpenRelayAsync(endpoint, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Pending.Exit();
        }
    }

    /// <summary>Connection attempts in flight towards this cluster, and their cap.</summary>
    public PendingConnects Pending { get; }

    private async Task<RelayConnection> OpenRelayAsync(IPEndPoint endpoint, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(Cluster.ConnectTimeout ?? Cluster.DefaultConnectTimeout);
        var socket = UpstreamSocket.CreateFor(endpoint);
        try
        {
            await socket.ConnectAsync(endpoint, timeout.Token).ConfigureAwait(false);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        var connection = new UpstreamConnection(socket);
        if (Tls is null)
        {
            return new RelayConnection(connection, connection.LocalEndPoint, () => Shutdown(socket));
        }

        var ssl = await UpstreamConnector.HandshakeAsync(connection, Tls, timeout.Token).ConfigureAwait(false);
        return new RelayConnection(ssl, connection.LocalEndPoint, () =>
        {
            // close_notify first (best effort), then the FIN.
            _ = ssl.ShutdownAsync().ContinueWith(_ => Shutdown(socket), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        });
    }

    private static void Shutdown(Socket socket)
    {
        try
        {
            socket.Shutdown(SocketShutdown.Send);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // already gone
        }
    }

    /// <summary>The addresses <paramref name="endpoint"/> resolves to now (for <c>/clusters</c>).</summary>
    public ValueTask<IPAddress[]> ResolveAsync(Endpoint endpoint, CancellationToken cancellationToken) =>
        _resolver.ResolveAsync(endpoint.Address, cancellationToken);

    /// <summary>True when <paramref name="secrets"/> still hold what this state's TLS was built from.</summary>
    public bool SameSecrets(IReadOnlyDictionary<string, Secret> secrets) =>
        Cluster.Tls is not { } tls
        || (Equals(Lookup(secrets, tls.EffectiveCaSecret), TlsSecrets[0]) && Equals(Lookup(secrets, tls.EffectiveCertificateSecret), TlsSecrets[1]));

    public void Dispose()
    {
        Volatile.Write(ref _disposed, true);
        Volatile.Read(ref _invoker)?.Dispose();
        foreach (var pool in _http1Pools.Values)
        {
            pool.Dispose();
        }
    }

    private HttpMessageInvoker CreateInvoker()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed), this);
        var created = new HttpMessageInvoker(new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
            ConnectTimeout = Cluster.ConnectTimeout ?? Cluster.DefaultConnectTimeout,
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(60),
            EnableMultipleHttp2Connections = true,
            ActivityHeadersPropagator = null,
            ConnectCallback = new UpstreamConnector(Tls, Protocol, _http2Connections is { } h2 ? (endpoint, connection) => h2[endpoint] = connection : null, Pending).ConnectAsync,
        });
        var winner = Interlocked.CompareExchange(ref _invoker, created, null);
        if (winner is null)
        {
            if (Volatile.Read(ref _disposed))
            {
                created.Dispose(); // Dispose ran while this one was being made: it would never be disposed otherwise
            }

            return created;
        }

        created.Dispose();
        return winner;
    }

    private static Secret? Lookup(IReadOnlyDictionary<string, Secret> secrets, string? name) =>
        name is not null && secrets.TryGetValue(name, out var secret) ? secret : null;

    // SNI default when tls.sni is absent: the service host, or the (single) endpoint's host name.
    private static string TlsHost(Cluster cluster, string serviceHost) =>
        ClusterName.TryParse(cluster.Name, out _) || cluster.Endpoints.Count == 0 || IPAddress.TryParse(cluster.Endpoints[0].Address, out _)
            ? serviceHost
            : cluster.Endpoints[0].Address;

    private sealed record Targets(IPAddress[] Addresses, UpstreamTarget[] List, bool Fixed);
}

/// <summary>An upstream connection for a TCP relay: the stream to relay over, its local address, and how to half-close it.</summary>
public sealed record RelayConnection(Stream Stream, IPEndPoint? LocalEndPoint, Action HalfClose) : IAsyncDisposable
{
    public ValueTask DisposeAsync() => Stream.DisposeAsync();
}

using System.Net;
using Meshgate.Core.ProxyConfiguration;
using Meshgate.Proxy.Forwarding;
using Meshgate.Proxy.Observability;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;

namespace Meshgate.Proxy.Listeners;

/// <summary>What every listener's server is built with.</summary>
/// <param name="InstanceIp">When set, listeners on 0.0.0.0 bind it instead (<c>--ip</c>).</param>
/// <param name="Limits">Connection caps and deadlines, the same on every listener.</param>
internal sealed record ListenerServices(
    SnapshotHolder Snapshots, KestrelServerFactory Kestrel, HttpProxyHandler Http, TlsPassthroughHandler Tls, CaptureConnectionHandler Capture, MeshTunnelAcceptor Tunnels, IPAddress? InstanceIp,
    ProxyLimits Limits, ProxyMetrics Metrics, ILogger Logger);

/// <summary>
/// One listener's own Kestrel server: HTTP requests go to <see cref="HttpProxyHandler"/>, TLS and TCP connections to
/// <see cref="TlsPassthroughHandler"/>, which hands TLS connections it terminated back to Kestrel's HTTP handling. Starting or stopping it touches no other listener. Only the binding (address,
/// port, protocol) is fixed here; everything else is read from the snapshot per request or connection, so a
/// changed route or filter chain needs no restart.
/// </summary>
internal sealed class ListenerHost
{
    private readonly KestrelServer _server;
    private readonly PooledHttpApplication _application;
    private ListenOptions? _bound;

    public ListenerHost(Listener listener, ListenerServices services)
    {
        Listener = listener;
        var context = new ListenerContext(listener.Name, services.Snapshots);
        Context = context;
        var http = services.Http;
        var tls = services.Tls;
        var capture = services.Capture;
        _application = new PooledHttpApplication(request => http.HandleAsync(request, context));
        var address = IPAddress.Parse(listener.Address);
        if (services.InstanceIp is { } instance && address.Equals(IPAddress.Any) && !listener.UseOriginalDestination)
        {
            // --ip: a wildcard listener binds the instance's own address; not the transparent capture listener, which
            // nftables' redirect reaches on 127.0.0.1 (the output hook maps it to loopback), as Envoy's 0.0.0.0:15001.
            address = instance;
        }

        var limits = services.Limits;
        Limit = new ConnectionLimit(listener.Name, limits.MaxConnectionsPerListener, services.Metrics, services.Logger);
        _server = services.Kestrel.Create(options =>
        {
            options.Limits.RequestHeadersTimeout = limits.RequestHeadersTimeout;
            options.Limits.KeepAliveTimeout = limits.DownstreamIdleTimeout;
            options.Limits.Http2.MaxStreamsPerConnection = limits.Http2MaxConcurrentStreams;
            options.Listen(address, listener.Port, Configure);
        }, onEventLoop: true); // every listener, when the proxy runs its event loop (KestrelServerFactory)

        void Configure(ListenOptions listen)
        {
            _bound = listen;
            listen.Use(Limit.Middleware); // first: a refused connection costs nothing else
            if (listener.ExplicitHttpProxy || listener.UseOriginalDestination)
            {
                // CONNECT and transparent capture are sorted out per connection; what is HTTP goes on to Kestrel.
                listen.Protocols = HttpProtocols.Http1;
                listen.Use(next => connection => capture.HandleAsync(connection, context, next));
            }
            else if (listener.Protocol == ListenerProtocol.Http)
            {
                // HTTP/1.1, and HTTP/2 with prior knowledge (h2c), told apart by the HTTP/2 connection preface; either
                // may come inside the mesh tunnel from a sidecar, unwrapped first.
                listen.Protocols = HttpProtocols.Http1AndHttp2;
                listen.Use(services.Tunnels.Middleware(context));
                listen.Use(H2cPriorKnowledge.Middleware(limits.RequestHeadersTimeout));
            }
            else if (listener.Protocol == ListenerProtocol.Tls)
            {
                // Chains that terminate TLS hand the decrypted connection on to Kestrel's HTTP/1.1 or HTTP/2 (by ALPN);
                // passthrough chains never do.
                listen.Protocols = HttpProtocols.Http1AndHttp2;
                listen.Use(next => connection => tls.HandleAsync(connection, context, next));
            }
            else
            {
                listen.Use(_ => connection => tls.HandleAsync(connection, context));
            }
        }
    }

    /// <summary>The listener's connection cap, and how many connections are open on it.</summary>
    public ConnectionLimit Limit { get; }

    /// <summary>The listener as it was bound.</summary>
    public Listener Listener { get; }

    public ListenerContext Context { get; }

    /// <summary>The address actually bound (the real port when the configuration asked for 0).</summary>
    public EndPoint? BoundEndPoint => _bound?.EndPoint;

    public Task StartAsync(CancellationToken cancellationToken) => _server.StartAsync(_application, cancellationToken);

    /// <summary>
    /// Stops accepting at once, lets open requests and connections finish until <paramref name="cancellationToken"/>
    /// fires, then aborts what is left.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _server.StopAsync(cancellationToken).ConfigureAwait(false);
        _server.Dispose();
    }

    /// <summary>True when <paramref name="next"/> can keep this server: same address, port and protocol.</summary>
    public bool CanServe(Listener next) =>
        next.Address == Listener.Address && next.Port == Listener.Port && next.Protocol == Listener.Protocol
        && next.ExplicitHttpProxy == Listener.ExplicitHttpProxy && next.UseOriginalDestination == Listener.UseOriginalDestination;
}

using System.Net;
using Meshgate.Core.ProxyConfiguration;
using Meshgate.Proxy.Forwarding;
using Meshgate.Proxy.Listeners;
using Meshgate.Proxy.Observability;
using Meshgate.Proxy.Upstream;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Forwarder;

namespace Meshgate.Proxy;

/// <summary>
/// The data plane process: Kestrel listeners from a <see cref="ProxyConfig"/>, HTTP routed and forwarded
/// with YARP, TLS passed through by SNI, every request and connection in the access log.
/// This slice runs a static configuration (<c>meshgate proxy --config</c>); live updates come with the
/// discovery stream.
/// </summary>
public sealed partial class ProxyServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly AccessLogWriter? _accessLog;
    private readonly EndpointResolver _resolver;
    private readonly ILogger _logger;

    private ProxyServer(WebApplication app, SnapshotHolder snapshots, AccessLogWriter? accessLog, EndpointResolver resolver, ILogger logger)
    {
        _app = app;
        Snapshots = snapshots;
        _accessLog = accessLog;
        _resolver = resolver;
        _logger = logger;
    }

    public SnapshotHolder Snapshots { get; }

    /// <param name="dnsServers">Resolve host names with these servers (after /etc/hosts); empty for the system resolver.</param>
    public static ProxyServer Create(ProxyConfig config, ILoggerFactory loggerFactory, IReadOnlyList<IPEndPoint>? dnsServers = null, TimeProvider? time = null)
    {
        time ??= TimeProvider.System;
        var resolver = EndpointResolver.Create(dnsServers ?? [], time, loggerFactory.CreateLogger("meshgate.dns"));
        var snapshots = new SnapshotHolder(new ProxySnapshot(config, resolver));
        var accessLog = config.AccessLog is { } settings
            ? AccessLogWriter.Open(settings.Path, settings.Encoding == Core.ProxyConfiguration.AccessLogEncoding.Json ? Observability.AccessLogEncoding.Json : Observability.AccessLogEncoding.Text, time: time)
            : null;
        var sink = accessLog is null ? AccessLogSink.Off : AccessLogSink.To(accessLog);

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(loggerFactory);
        builder.Services.AddHttpForwarder();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            var tls = new TlsPassthroughHandler(snapshots, sink, time);
            foreach (var listener in config.Listeners)
            {
                var address = IPAddress.Parse(listener.Address);
                kestrel.Listen(address, listener.Port, options =>
                {
                    var name = listener.Name;
                    if (listener.Protocol == ListenerProtocol.Http)
                    {
                        options.Protocols = HttpProtocols.Http1;
                        options.Use(next => connection =>
                        {
                            connection.Items[HttpProxyHandler.ListenerKey] = name;
                            return next(connection);
                        });
                    }
                    else
                    {
                        options.Use(_ => connection => tls.HandleAsync(connection, name));
                    }
                });
            }
        });

        var app = builder.Build();
        var handler = new HttpProxyHandler(snapshots, app.Services.GetRequiredService<IHttpForwarder>(), sink, time);
        app.Run(handler.HandleAsync);
        return new ProxyServer(app, snapshots, accessLog, resolver, loggerFactory.CreateLogger("meshgate.proxy"));
    }

    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        Log.Resolving(_logger, _resolver.Description);
        await _app.StartAsync(cancellationToken).ConfigureAwait(false);
        foreach (var listener in Snapshots.Current.Config.Listeners)
        {
            Log.Listening(_logger, listener.Name, listener.Protocol.ToString().ToUpperInvariant(), listener.Endpoint);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken = default) => _app.StopAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        await _app.DisposeAsync().ConfigureAwait(false);
        if (_accessLog is not null)
        {
            await _accessLog.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "listener {Name} ({Protocol}) listening on {Endpoint}")]
        public static partial void Listening(ILogger logger, string name, string protocol, string endpoint);

        [LoggerMessage(2, LogLevel.Information, "resolving with {Resolver}")]
        public static partial void Resolving(ILogger logger, string resolver);
    }
}

using System.Net;
using Meshgate.ControlPlane.Api;
using Meshgate.ControlPlane.Push;
using Meshgate.ControlPlane.Store;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Meshgate.ControlPlane;

/// <summary>
/// istiod's counterpart: owns the store and serves the resource API. Later slices add translation,
/// push over gRPC (15010) and the CA to the same process.
/// </summary>
public sealed partial class ControlPlaneServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ILogger _logger;
    private Func<(ListenOptions? Api, ListenOptions? Discovery)> _listens = () => (null, null);

    private ControlPlaneServer(WebApplication app, ResourceStore store, PushService push, ILogger logger)
    {
        _app = app;
        Store = store;
        Push = push;
        _logger = logger;
    }

    /// <summary>The largest snapshot sent to a proxy: the proxy's discovery client accepts as much (64 MiB).</summary>
    public const int MaxSnapshotBytes = 64 * 1024 * 1024;

    public ResourceStore Store { get; }

    /// <summary>The connected proxies and what they were sent.</summary>
    public PushService Push { get; }

    /// <summary>The discovery (gRPC) address, once started (the real port when 0 was asked for).</summary>
    public IPEndPoint DiscoveryEndPoint { get; private set; } = new(IPAddress.Loopback, 0);

    /// <summary>The address the API listens on, once started (the real port when 0 was asked for).</summary>
    public Uri ApiAddress { get; private set; } = new("http://127.0.0.1:0");

    /// <param name="translate">How snapshots are built; <see cref="PushService.Translate"/> unless a test brings its own.</param>
    public static ControlPlaneServer Create(ControlPlaneOptions options, ILoggerFactory loggerFactory, SnapshotTranslator? translate = null, TimeProvider? time = null)
    {
        time ??= TimeProvider.System;
        var store = ResourceStore.Open(options.DataDirectory, time);
        var push = new PushService(store, translate ?? PushService.Translate, time, loggerFactory.CreateLogger("meshgate.controlplane.push"));
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(loggerFactory);
        builder.Services.AddSingleton(store);
        builder.Services.AddSingleton(push);
        builder.Services.AddGrpc(grpc =>
        {
            // Snapshots of 10,000 services are megabytes (the proxy accepts up to 64 MiB); requests are small ACKs.
            grpc.MaxSendMessageSize = MaxSnapshotBytes;
            grpc.MaxReceiveMessageSize = 4 * 1024 * 1024;
        });
        ListenOptions? api = null;
        ListenOptions? discovery = null;
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(options.ApiEndpoint, listen =>
            {
                listen.Protocols = HttpProtocols.Http1;
                api = listen;
            });
            kestrel.Listen(options.DiscoveryEndpoint, listen =>
            {
                listen.Protocols = HttpProtocols.Http2; // plaintext HTTP/2 with prior knowledge, as gRPC clients speak it
                discovery = listen;
            });
            kestrel.Limits.MaxRequestBodySize = ResourceApi.MaxRequestBytes;
            kestrel.AddServerHeader = false;
        });
        builder.Services.ConfigureHttpJsonOptions(json =>
        {
            json.SerializerOptions.DefaultIgnoreCondition = ApiJson.Options.DefaultIgnoreCondition;
            json.SerializerOptions.Encoder = ApiJson.Options.Encoder;
        });
        builder.Services.Configure<Microsoft.AspNetCore.Routing.RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        var app = builder.Build();
        var logger = loggerFactory.CreateLogger("meshgate.controlplane");
        ErrorHandling.Use(app, logger);
        ResourceApi.Map(app, store);
        PodLogApi.Map(app, store, options.LogsDirectory);
        app.MapGrpcService<DiscoveryService>();
        app.MapGet("/debug/syncz", () => Results.Json(push.Statuses(), ApiJson.Options));
        return new ControlPlaneServer(app, store, push, logger) { _listens = () => (api, discovery) };
    }

    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        await _app.StartAsync(cancellationToken).ConfigureAwait(false);
        var (api, discoveryListen) = _listens();
        if (api?.IPEndPoint is { } address)
        {
            var host = address.Address.Equals(IPAddress.IPv6Any) || address.Address.Equals(IPAddress.Any) ? IPAddress.Loopback : address.Address;
            ApiAddress = new Uri($"http://{new IPEndPoint(host, address.Port)}/");
        }

        if (discoveryListen?.IPEndPoint is { } discovery)
        {
            DiscoveryEndPoint = discovery;
        }

        Push.Start();
        Log.Listening(_logger, ApiAddress, Store.Path, Store.Current.Revision, Store.Current.Objects.Count);
        Log.Discovery(_logger, DiscoveryEndPoint);
    }

    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        // Streams end first (they never finish on their own), then the server stops.
        await Push.DisposeAsync().ConfigureAwait(false);
        await _app.StopAsync(cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await Push.DisposeAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
        Store.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "resource API listening on {Address} (store {Path}, revision {Revision}, {Count} objects)")]
        public static partial void Listening(ILogger logger, Uri address, string path, long revision, int count);

        [LoggerMessage(2, LogLevel.Information, "discovery (gRPC) on {Address}")]
        public static partial void Discovery(ILogger logger, IPEndPoint address);
    }
}

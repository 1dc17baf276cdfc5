using Meshgate.ControlPlane.Api;
using Meshgate.ControlPlane.Store;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
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

    private ControlPlaneServer(WebApplication app, ResourceStore store, ILogger logger)
    {
        _app = app;
        Store = store;
        _logger = logger;
    }

    public ResourceStore Store { get; }

    /// <summary>The address the API listens on, once started (the real port when 0 was asked for).</summary>
    public Uri ApiAddress { get; private set; } = new("http://127.0.0.1:0");

    public static ControlPlaneServer Create(ControlPlaneOptions options, ILoggerFactory loggerFactory)
    {
        var store = ResourceStore.Open(options.DataDirectory);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(loggerFactory);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(options.ApiEndpoint, listen => listen.Protocols = HttpProtocols.Http1);
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
        return new ControlPlaneServer(app, store, logger);
    }

    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        await _app.StartAsync(cancellationToken).ConfigureAwait(false);
        var addresses = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses;
        if (addresses?.FirstOrDefault() is { } address)
        {
            ApiAddress = new Uri(address.Replace("[::]", "127.0.0.1", StringComparison.Ordinal));
        }

        Log.Listening(_logger, ApiAddress, Store.Path, Store.Current.Revision, Store.Current.Objects.Count);
    }

    public Task StopAsync(CancellationToken cancellationToken = default) => _app.StopAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        await _app.DisposeAsync().ConfigureAwait(false);
        Store.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "resource API listening on {Address} (store {Path}, revision {Revision}, {Count} objects)")]
        public static partial void Listening(ILogger logger, Uri address, string path, long revision, int count);
    }
}

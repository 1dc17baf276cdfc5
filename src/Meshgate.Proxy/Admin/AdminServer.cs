using System.Net;
using Meshgate.Proxy.Listeners;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;

namespace Meshgate.Proxy.Admin;

/// <summary>
/// The proxy's own endpoints, on their own Kestrel server apart from the listeners: the admin pages
/// (<see cref="AdminEndpoints"/>, Envoy's port 15000) and the readiness probe <c>/healthz/ready</c> (pilot-agent's
/// port 15021), which answers 200 once every listener is open and 503 before and while stopping.
/// Port 0 takes any free port; <see cref="AdminEndPoint"/> and <see cref="StatusEndPoint"/> tell which.
/// </summary>
public sealed partial class AdminServer : IAsyncDisposable
{
    /// <summary>Envoy's admin port, as Istio's sidecars use it.</summary>
    public const int DefaultAdminPort = 15000;

    /// <summary>Istio's health-check port (<c>/healthz/ready</c>).</summary>
    public const int DefaultStatusPort = 15021;

    private readonly ProxyServer _proxy;
    private readonly KestrelServer _server;
    private readonly PooledHttpApplication _application;
    private readonly AdminEndpoints _admin;
    private readonly ILogger _logger;
    private ListenOptions? _adminListen;
    private ListenOptions? _statusListen;

    private AdminServer(ProxyServer proxy, IPEndPoint admin, IPEndPoint status)
    {
        _proxy = proxy;
        _logger = proxy.LoggerFactory.CreateLogger("meshgate.proxy.admin");
        _admin = new AdminEndpoints(proxy, () => this);
        _application = new PooledHttpApplication(request => HandleAsync(request.Http));
        _server = proxy.Kestrel.Create(options =>
        {
            options.Listen(admin, listen => _adminListen = listen);
            options.Listen(status, listen => _statusListen = listen);
        });
    }

    /// <summary>Where the admin pages are served, once started.</summary>
    public EndPoint? AdminEndPoint => _adminListen?.EndPoint;

    /// <summary>Where <c>/healthz/ready</c> is served, once started.</summary>
    public EndPoint? StatusEndPoint => _statusListen?.EndPoint;

    public static AdminServer Create(ProxyServer proxy, IPEndPoint admin, IPEndPoint status)
    {
        ArgumentNullException.ThrowIfNull(proxy);
        return new AdminServer(proxy, admin, status);
    }

    /// <summary>Opens both ports; an <see cref="IOException"/> when one is taken.</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        await _server.StartAsync(_application, cancellationToken).ConfigureAwait(false);
        Log.AdminListening(_logger, AdminEndPoint!.ToString()!);
        Log.StatusListening(_logger, StatusEndPoint!.ToString()!);
    }

    public async Task StopAsync(CancellationToken cancellationToken = default) => await _server.StopAsync(cancellationToken).ConfigureAwait(false);

    public async ValueTask DisposeAsync()
    {
        await _server.StopAsync(new CancellationToken(canceled: true)).ConfigureAwait(false);
        _server.Dispose();
    }

    private Task HandleAsync(HttpContext context)
    {
        var status = (StatusEndPoint as IPEndPoint)?.Port;
        if (context.Connection.LocalPort != status)
        {
            return _admin.HandleAsync(context);
        }

        if (context.Request.Path.Value != "/healthz/ready")
        {
            return AdminEndpoints.TextAsync(context, StatusCodes.Status404NotFound, "only /healthz/ready is served here\n");
        }

        return _proxy.IsReady
            ? AdminEndpoints.TextAsync(context, StatusCodes.Status200OK, "")
            : AdminEndpoints.TextAsync(context, StatusCodes.Status503ServiceUnavailable, "not ready: the listeners are not open\n");
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "admin listening on {Endpoint} (/config_dump, /clusters, /stats, /stats/prometheus, /server_info)")]
        public static partial void AdminListening(ILogger logger, string endpoint);

        [LoggerMessage(2, LogLevel.Information, "readiness listening on {Endpoint} (/healthz/ready)")]
        public static partial void StatusListening(ILogger logger, string endpoint);
    }
}

using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Meshgate.Tests.Proxy;

/// <summary>A real HTTP/1.1 origin (Kestrel) on 127.0.0.1 and a free port, for the proxy to forward to.</summary>
public sealed class HttpOrigin(WebApplication app, int port) : IAsyncDisposable
{
    public int Port { get; } = port;

    /// <param name="configure">Changes to Kestrel's options (limits, protocols) before it listens.</param>
    public static async Task<HttpOrigin> StartAsync(RequestDelegate handler, Action<KestrelServerOptions>? configure = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            configure?.Invoke(k);
            k.Listen(IPAddress.Loopback, 0);
        });
        var app = builder.Build();
        app.Run(handler);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        return new HttpOrigin(app, new Uri(address).Port);
    }

    /// <summary>An origin that answers every request with 200 and <paramref name="body"/> (with a Content-Length).</summary>
    public static Task<HttpOrigin> StartAsync(string body) => StartAsync(context =>
    {
        context.Response.ContentLength = System.Text.Encoding.UTF8.GetByteCount(body);
        return context.Response.WriteAsync(body);
    });

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}

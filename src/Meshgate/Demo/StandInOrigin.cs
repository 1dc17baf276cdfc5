using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;

namespace Meshgate.Demo;

/// <summary>
/// A local stand-in for <c>edition.cnn.com</c>, answering as the real site did when the seed document was written:
/// plain HTTP on port 80 redirects (<c>301</c>) to the same path over HTTPS; HTTPS on port 443 (HTTP/2 or HTTP/1.1
/// by ALPN) answers <c>200</c> with a small page. It listens on a loopback address of its own, so ports 80 and 443
/// are free for it.
/// </summary>
public sealed class StandInOrigin : IAsyncDisposable
{
    private readonly WebApplication _app;

    private StandInOrigin(WebApplication app, IPAddress address)
    {
        _app = app;
        Address = address;
    }

    public IPAddress Address { get; }

    public static async Task<StandInOrigin> StartAsync(IPAddress address, string hostName, DemoCertificates certificates, CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Listen(address, 80, listen => listen.Protocols = HttpProtocols.Http1);
            kestrel.Listen(address, 443, listen =>
            {
                listen.Protocols = HttpProtocols.Http1AndHttp2;
                listen.UseHttps(certificates.Server);
            });
        });
        var app = builder.Build();
        app.Run(context =>
        {
            if (!context.Request.IsHttps)
            {
                context.Response.StatusCode = StatusCodes.Status301MovedPermanently;
                context.Response.Headers.Location = $"https://{hostName}{context.Request.Path}{context.Request.QueryString}";
                context.Response.Headers.CacheControl = "public, max-age=600";
                context.Response.ContentLength = 0;
                return Task.CompletedTask;
            }

            context.Response.ContentType = "text/html; charset=utf-8";
            return context.Response.WriteAsync($"<!doctype html><title>{hostName}</title><p>Meshgate demo stand-in for {hostName}{context.Request.Path}</p>\n");
        });
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        return new StandInOrigin(app, address);
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync().ConfigureAwait(false);
}

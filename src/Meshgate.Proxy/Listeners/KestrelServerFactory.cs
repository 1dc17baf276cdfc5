using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Meshgate.Proxy.Listeners;

/// <summary>
/// Builds bare Kestrel servers (no host, no middleware pipeline) sharing one socket transport. The proxy runs one
/// per listener, so adding, changing or removing a listener starts or stops only its own server and leaves the
/// others and their connections alone; the admin endpoints get their own.
/// </summary>
internal sealed class KestrelServerFactory(ILoggerFactory loggerFactory, IServiceProvider services)
{
    private readonly SocketTransportFactory _transport = new(Options.Create(new SocketTransportOptions()), loggerFactory);

    public KestrelServer Create(Action<KestrelServerOptions> configure)
    {
        var options = new KestrelServerOptions { AddServerHeader = false, ApplicationServices = services };
        configure(options);
        return new KestrelServer(Options.Create(options), _transport, loggerFactory);
    }
}

using Meshgate.Proxy.EventLoop;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Meshgate.Proxy.Listeners;

/// <summary>
/// Builds bare Kestrel servers (no host, no middleware pipeline) sharing one socket transport, or the proxy's own
/// event-loop transport (<see cref="EpollTransportFactory"/>) for the listeners that ask for it. The proxy runs one
/// per listener, so adding, changing or removing a listener starts or stops only its own server and leaves the
/// others and their connections alone; the admin endpoints get their own.
/// </summary>
/// <param name="inlineScheduling">
/// Run request and connection handlers on the socket I/O thread instead of hopping to the thread pool
/// (<see cref="SocketTransportOptions.UnsafePreferInlineScheduling"/>): far fewer thread switches per request, the
/// largest single lever measured for the data plane. Every handler must then never block: the proxy's handlers only
/// await, and the access log is written from a channel by its own task.
/// </param>
/// <param name="eventLoop">The loop for <see cref="Create"/>'s <c>onEventLoop</c> servers; null: every server uses the socket transport.</param>
internal sealed class KestrelServerFactory(ILoggerFactory loggerFactory, IServiceProvider services, bool inlineScheduling = false, EpollLoop? eventLoop = null)
{
    private readonly SocketTransportFactory _transport = new(
        Options.Create(new SocketTransportOptions { UnsafePreferInlineScheduling = inlineScheduling }),
        loggerFactory);

    private readonly ScopelessLoggerFactory _kestrelLogging = new(loggerFactory);

    private readonly EpollTransportFactory? _eventLoopTransport = eventLoop is null ? null : new EpollTransportFactory(eventLoop);

    /// <summary>The loop plain-HTTP listeners and plaintext upstream connections run on; null when off.</summary>
    public EpollLoop? EventLoop => eventLoop;

    /// <summary>True when handlers run inline on the socket I/O threads.</summary>
    public bool InlineScheduling => inlineScheduling;

    /// <param name="onEventLoop">Accept and serve connections on the event loop, when the factory has one.</param>
    public KestrelServer Create(Action<KestrelServerOptions> configure, bool onEventLoop = false)
    {
        // AllowAlternateSchemes: an HTTP/2 request's :scheme is the client's to say (h2c connections look like TLS to
        // Kestrel, see H2cPriorKnowledge), as Envoy takes it.
        // AllowHostHeaderOverride: an absolute-form request's authority replaces its Host (RFC 9112 §3.2.2, RFC 9110 §7.2:
        // a proxy MUST ignore the received Host), so it is routed and forwarded by that one authority, as Envoy does;
        // without it Kestrel refuses a Host that differs with 400.
        var options = new KestrelServerOptions
        {
            AddServerHeader = false,
            ApplicationServices = services,
            AllowAlternateSchemes = true,
            AllowHostHeaderOverride = true,
        };
        ApplyProxyLimits(options.Limits);
        configure(options);
        IConnectionListenerFactory transport = onEventLoop && _eventLoopTransport is not null ? _eventLoopTransport : _transport;
        return new KestrelServer(Options.Create(options), transport, _kestrelLogging);
    }

    /// <summary>
    /// Envoy's defaults instead of a web server's: request headers (request line included) up to 60 KiB
    /// (<c>max_request_headers_kb</c>) and 100 of them (<c>max_headers_count</c>), larger ones answered with 431; bodies of
    /// any size and pace, since a proxy streams them (Kestrel would cut at 30 MB and at a minimum data rate).
    /// </summary>
    internal static void ApplyProxyLimits(KestrelServerLimits limits)
    {
        limits.MaxRequestHeadersTotalSize = MaxRequestHeadersBytes;
        limits.MaxRequestLineSize = MaxRequestHeadersBytes;
        limits.MaxRequestHeaderCount = 100;
        limits.MaxRequestBodySize = null;
        limits.MinRequestBodyDataRate = null;
        limits.MinResponseDataRate = null;
        limits.Http2.MaxRequestHeaderFieldSize = MaxRequestHeadersBytes;
    }

    /// <summary>Envoy's <c>max_request_headers_kb</c> default, 60 KiB.</summary>
    public const int MaxRequestHeadersBytes = 60 * 1024;
}

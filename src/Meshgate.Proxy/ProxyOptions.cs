using System.Net;

namespace Meshgate.Proxy;

/// <summary>How a proxy process runs, beside its configuration: what <c>meshgate proxy</c>'s options set.</summary>
public sealed record ProxyOptions
{
    /// <summary>
    /// The instance's own IP (<c>--ip</c>, Istio's INSTANCE_IP): listeners whose address is <c>0.0.0.0</c> bind it
    /// instead, so several proxies on one machine can each own port 8080 on their own address. Null binds 0.0.0.0.
    /// </summary>
    public IPAddress? InstanceIp { get; init; }

    /// <summary>Run handlers on the socket I/O threads (<see cref="InlineIo"/>; <c>meshgate proxy</c> turns it on).</summary>
    public bool InlineScheduling { get; init; }

    /// <summary>Take configuration changes from the control plane as deltas (<c>--delta</c>, on by default).</summary>
    public bool AcceptsDelta { get; init; } = true;

    /// <summary>Connection caps and deadlines on every listener (<see cref="ProxyLimits.Default"/> unless a test shortens them).</summary>
    public ProxyLimits Limits { get; init; } = ProxyLimits.Default;

    /// <summary>
    /// Bodiless HTTP/1.x requests to plaintext HTTP/1.1 clusters take the direct path (<c>Http1Forwarder</c>); false
    /// sends every request through YARP. On unless <c>MESHGATE_HTTP1_FORWARDER=0</c>.
    /// </summary>
    public bool DirectHttp1 { get; init; } = Forwarding.Http1Forwarder.EnabledByEnvironment();

    /// <summary>
    /// Plain-HTTP listeners and the direct path's plaintext upstream connections run on the proxy's own event loop
    /// (<see cref="EventLoop.EpollLoop"/>), where supported; false leaves them to the runtime's sockets. On unless
    /// <c>MESHGATE_EVENT_LOOP=0</c>.
    /// </summary>
    public bool EventLoop { get; init; } = Meshgate.Proxy.EventLoop.EventLoopSupport.EnabledByEnvironment();
}

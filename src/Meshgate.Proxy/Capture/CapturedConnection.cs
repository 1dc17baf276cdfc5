namespace Meshgate.Proxy.Capture;

/// <summary>
/// A connection feature set by the capture listener on a connection it hands to HTTP processing (a CONNECT tunnel or a
/// transparently captured connection): its requests are routed by the virtual listener of <see cref="Destination"/>.
/// Kestrel's request features fall back to the connection's, so the request handler finds it there.
/// </summary>
internal sealed class CapturedConnection(OriginalDestination destination)
{
    public OriginalDestination Destination { get; } = destination;
}

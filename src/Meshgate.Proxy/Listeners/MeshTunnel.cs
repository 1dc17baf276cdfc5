namespace Meshgate.Proxy.Listeners;

/// <summary>
/// A connection feature: the connection arrived wrapped in the mesh's mutual TLS (ALPN <c>istio</c>) and was unwrapped;
/// these are the identities of that outer layer, computed once for the connection. What follows reads the inner bytes
/// as if they had come in the clear, and logs these as %DOWNSTREAM_PEER_URI_SAN% and %DOWNSTREAM_LOCAL_URI_SAN%.
/// </summary>
internal sealed class MeshTunnel(string? peerUriSan, string? localUriSan)
{
    /// <summary>The sending proxy's SPIFFE identity (its certificate's URI SANs).</summary>
    public string? PeerUriSan { get; } = peerUriSan;

    /// <summary>This proxy's own identity, as presented.</summary>
    public string? LocalUriSan { get; } = localUriSan;
}

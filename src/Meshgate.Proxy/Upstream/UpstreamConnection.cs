using System.Net;
using System.Net.Sockets;

namespace Meshgate.Proxy.Upstream;

/// <summary>
/// The upstream socket's stream as the HTTP client uses it, remembering the connection's local address. The HTTP/1.1
/// client writes a request's headers on the request's own async flow, so the first write of each request tells the
/// request (found through <see cref="Current"/>) which connection, and so which local address, it went out on
/// (%UPSTREAM_LOCAL_ADDRESS%), whether the connection is new or reused from the pool.
/// </summary>
internal sealed class UpstreamConnection(Socket socket) : NetworkStream(socket, ownsSocket: true)
{
    private static readonly AsyncLocal<UpstreamLocalAddress?> s_current = new();

    public IPEndPoint? LocalEndPoint { get; } = socket.LocalEndPoint as IPEndPoint;

    /// <summary>
    /// The URI SANs of the upstream's certificate when TLS was originated over this connection (%UPSTREAM_PEER_URI_SAN%),
    /// set once after the handshake; requests learn it with the local address.
    /// </summary>
    public string? PeerUriSan { get; set; }

    /// <summary>
    /// False on an HTTP/2 connection: its frames are written by the connection's own loop, never on a request's flow,
    /// so writes tell nothing about which request they carry (<see cref="ClusterState"/> keeps the connection instead).
    /// </summary>
    public bool NotesRequests { get; set; } = true;

    /// <summary>Where the request on the current async flow wants its upstream local address written; set once per request.</summary>
    public static UpstreamLocalAddress? Current
    {
        get => s_current.Value;
        set => s_current.Value = value;
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        NoteRequest();
        return base.WriteAsync(buffer, cancellationToken);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        NoteRequest();
        return base.WriteAsync(buffer, offset, count, cancellationToken);
    }

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        NoteRequest();
        base.Write(buffer);
    }

    private void NoteRequest()
    {
        if (NotesRequests)
        {
            Note(LocalEndPoint, PeerUriSan);
        }
    }

    internal static void Note(IPEndPoint? local, string? peerUriSan)
    {
        if (s_current.Value is { } holder)
        {
            holder.Value = local;
            holder.PeerUriSan = peerUriSan;
        }
    }
}

/// <summary>A request's slot for the local address of its upstream connection.</summary>
internal sealed class UpstreamLocalAddress
{
    public IPEndPoint? Value { get; set; }

    /// <summary>The upstream certificate's URI SANs on that connection (%UPSTREAM_PEER_URI_SAN%); null over plaintext.</summary>
    public string? PeerUriSan { get; set; }

    /// <summary>Forgets both, for the next request on a pooled context.</summary>
    public void Clear()
    {
        Value = null;
        PeerUriSan = null;
    }
}

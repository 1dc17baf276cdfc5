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

    /// <summary>Where the request on the current async flow wants its upstream local address written; set once per request.</summary>
    public static UpstreamLocalAddress? Current
    {
        get => s_current.Value;
        set => s_current.Value = value;
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        Note(LocalEndPoint);
        return base.WriteAsync(buffer, cancellationToken);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        Note(LocalEndPoint);
        return base.WriteAsync(buffer, offset, count, cancellationToken);
    }

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        Note(LocalEndPoint);
        base.Write(buffer);
    }

    internal static void Note(IPEndPoint? local)
    {
        if (s_current.Value is { } holder)
        {
            holder.Value = local;
        }
    }
}

/// <summary>A request's slot for the local address of its upstream connection.</summary>
internal sealed class UpstreamLocalAddress
{
    public IPEndPoint? Value { get; set; }
}

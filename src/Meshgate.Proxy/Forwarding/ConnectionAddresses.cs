using System.Net;
using Microsoft.AspNetCore.Http;

namespace Meshgate.Proxy.Forwarding;

/// <summary>
/// A connection's addresses as the access log and <c>x-forwarded-for</c> want them, made once for all the requests
/// of a kept-alive connection: Kestrel hands every request of a connection the same <see cref="IPAddress"/>
/// objects, so equal references mean the values made for an earlier request still hold. One per pooled
/// <see cref="ProxyRequest"/>.
/// </summary>
internal sealed class ConnectionAddresses
{
    private IPEndPoint? _remote;
    private IPEndPoint? _local;
    private string? _client;

    /// <summary>The client's address and port (%DOWNSTREAM_REMOTE_ADDRESS%).</summary>
    public IPEndPoint? Remote(ConnectionInfo connection) => Cached(ref _remote, connection.RemoteIpAddress, connection.RemotePort);

    /// <summary>The address and port the connection arrived at (%DOWNSTREAM_LOCAL_ADDRESS%).</summary>
    public IPEndPoint? Local(ConnectionInfo connection) => Cached(ref _local, connection.LocalIpAddress, connection.LocalPort);

    /// <summary>The client's address as text, for <c>x-forwarded-for</c>.</summary>
    public string? Client(ConnectionInfo connection)
    {
        if (Remote(connection) is not { } remote)
        {
            return null;
        }

        if (_client is null || !ReferenceEquals(_clientOf, remote.Address))
        {
            _client = remote.Address.ToString();
            _clientOf = remote.Address;
        }

        return _client;
    }

    private IPAddress? _clientOf;

    private static IPEndPoint? Cached(ref IPEndPoint? cached, IPAddress? address, int port)
    {
        if (address is null)
        {
            return null;
        }

        if (cached is null || !ReferenceEquals(cached.Address, address) || cached.Port != port)
        {
            cached = new IPEndPoint(address, port);
        }

        return cached;
    }
}

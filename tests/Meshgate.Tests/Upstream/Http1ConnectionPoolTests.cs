using System.Net;
using System.Net.Sockets;
using Meshgate.Proxy.EventLoop;
using Meshgate.Proxy.Upstream;
using Xunit;

namespace Meshgate.Tests.Upstream;

/// <summary>
/// The direct path's connection pool against a real listening socket: a returned connection is handed out again, one
/// the upstream closed while it idled is not, and a pool that was retired still connects but keeps nothing; each on the
/// runtime's sockets and on the proxy's event loop (<see cref="EpollLoop"/>).
/// </summary>
public sealed class Http1ConnectionPoolTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Return_ThenRent_TheSameConnectionComesBack(bool eventLoop)
    {
        using var listener = Listen();
        using var pool = new Http1ConnectionPool((IPEndPoint)listener.LocalEndpoint, new PendingConnects(8), TimeSpan.FromSeconds(1), eventLoop: Loop(eventLoop));
        var connection = await pool.ConnectAsync(CancellationToken.None, CancellationToken.None);
        using var accepted = await listener.AcceptSocketAsync();

        pool.Return(connection);

        Assert.Same(connection, pool.TryRent());
        Assert.Null(pool.TryRent()); // only one was idle
        Assert.Equal(1, pool.OpenCount);
        pool.Close(connection);
        Assert.Equal(0, pool.OpenCount);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task UpstreamClosesAnIdleConnection_ItIsNotHandedOutAgain(bool eventLoop)
    {
        using var listener = Listen();
        using var pool = new Http1ConnectionPool((IPEndPoint)listener.LocalEndpoint, new PendingConnects(8), TimeSpan.FromSeconds(1), eventLoop: Loop(eventLoop));
        var connection = await pool.ConnectAsync(CancellationToken.None, CancellationToken.None);
        var accepted = await listener.AcceptSocketAsync();
        pool.Return(connection);

        accepted.Shutdown(SocketShutdown.Both);
        accepted.Dispose();

        // The idle read sees the close as soon as the FIN arrives; poll for it with a deadline.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while (!connection.Disposed && connection.IdleReadPending && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10);
        }

        Assert.Null(pool.TryRent());
        Assert.True(connection.Disposed);
        Assert.Equal(0, pool.OpenCount);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task RetiredPool_StillConnects_ButKeepsNothing(bool eventLoop)
    {
        using var listener = Listen();
        var pool = new Http1ConnectionPool((IPEndPoint)listener.LocalEndpoint, new PendingConnects(8), TimeSpan.FromSeconds(1), eventLoop: Loop(eventLoop));
        pool.Dispose();

        var connection = await pool.ConnectAsync(CancellationToken.None, CancellationToken.None);
        using var accepted = await listener.AcceptSocketAsync();
        pool.Return(connection);

        Assert.True(pool.Retired);
        Assert.True(connection.Disposed);
        Assert.Null(pool.TryRent());
        Assert.Equal(0, pool.OpenCount);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task NothingListening_ConnectFailsWithTheSocketsError_AndThePendingCountIsGivenBack(bool eventLoop)
    {
        var port = Meshgate.Tests.EndToEnd.MeshgateProcess.FreePort();
        var pending = new PendingConnects(1);
        using var pool = new Http1ConnectionPool(new IPEndPoint(IPAddress.Loopback, port), pending, TimeSpan.FromSeconds(1), eventLoop: Loop(eventLoop));

        await Assert.ThrowsAsync<SocketException>(async () => await pool.ConnectAsync(CancellationToken.None, CancellationToken.None));
        Assert.Equal(0, pending.Count);
    }

    private static EpollLoop? Loop(bool on) => on && EventLoopSupport.Supported ? EpollLoop.Shared : null;

    private static TcpListener Listen()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return listener;
    }
}

using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Meshgate.Proxy.EventLoop;
using Meshgate.Proxy.Listeners;
using Meshgate.Proxy.Observability;
using Xunit;

namespace Meshgate.Tests.Listeners;

/// <summary>
/// The relay over real loopback sockets: client ⇄ relay ⇄ upstream, with the upstream on the runtime's sockets and on
/// the proxy's event loop (<see cref="EpollSocket"/>).
/// </summary>
public sealed class TcpRelayTests : IDisposable
{
    private readonly TcpListener _front = new(IPAddress.Loopback, 0);
    private readonly TcpListener _upstream = new(IPAddress.Loopback, 0);

    public TcpRelayTests()
    {
        _front.Start();
        _upstream.Start();
    }

    public void Dispose()
    {
        _front.Stop();
        _upstream.Stop();
    }

    private sealed record Setup(Socket Client, Socket Server, Task<RelayResult> Relay, Socket RelayUpstream);

    private async Task<Setup> ConnectAsync(bool eventLoop)
    {
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync((IPEndPoint)_front.LocalEndpoint);
        var accepted = await _front.AcceptSocketAsync();
        var upstream = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        var driven = eventLoop ? await EpollSocket.ConnectAsync(EpollLoop.Shared, upstream, (IPEndPoint)_upstream.LocalEndpoint, CancellationToken.None) : null;
        if (driven is null)
        {
            await upstream.ConnectAsync((IPEndPoint)_upstream.LocalEndpoint);
        }

        var server = await _upstream.AcceptSocketAsync();
        var stream = new NetworkStream(accepted, ownsSocket: true);
        var pipe = new StreamDuplexPipe(PipeReader.Create(stream), PipeWriter.Create(stream));
        var relay = Task.Run(async () =>
        {
            try
            {
                return driven is null
                    ? await TcpRelay.RunAsync(pipe, upstream, CancellationToken.None)
                    : await TcpRelay.RunAsync(pipe, driven, TcpMetrics.Discard, CancellationToken.None);
            }
            finally
            {
                driven?.Dispose();
                upstream.Dispose();
                await stream.DisposeAsync();
            }
        });
        return new Setup(client, server, relay, upstream);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task RunAsync_BytesBothWaysThenCleanClose_CountsThem(bool eventLoop)
    {
        var s = await ConnectAsync(eventLoop);
        using var client = s.Client;
        using var server = s.Server;

        await client.SendAsync(Encoding.ASCII.GetBytes("hello upstream"));
        var buffer = new byte[64];
        var read = await ReadExactlyAsync(server, buffer, 14);
        await server.SendAsync(Encoding.ASCII.GetBytes("hi"));
        await ReadExactlyAsync(client, buffer, 2);
        client.Shutdown(SocketShutdown.Send);
        Assert.Equal(0, await server.ReceiveAsync(buffer)); // the FIN was passed on
        server.Shutdown(SocketShutdown.Send);
        var result = await s.Relay.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal("hello upstream", read);
        Assert.Equal(new RelayResult(14, 2, false, false), result);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task RunAsync_ClientResetsMidRelay_UpstreamConnectionIsClosed(bool eventLoop)
    {
        var s = await ConnectAsync(eventLoop);
        using var server = s.Server;
        await s.Client.SendAsync(new byte[1000]);
        await ReadExactlyAsync(server, new byte[1000], 1000);

        s.Client.LingerState = new LingerOption(true, 0); // close with RST
        s.Client.Close();

        var result = await s.Relay.WaitAsync(TimeSpan.FromSeconds(10));
        var buffer = new byte[16];
        var upstreamSaw = await ReceiveOrResetAsync(server, buffer).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(upstreamSaw <= 0, "the upstream connection should be closed when the client resets");
        Assert.Equal(1000, result.BytesFromDownstream);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task RunAsync_UpstreamResets_ClientConnectionIsClosed(bool eventLoop)
    {
        var s = await ConnectAsync(eventLoop);
        using var client = s.Client;
        s.Server.LingerState = new LingerOption(true, 0);
        s.Server.Close();

        await s.Relay.WaitAsync(TimeSpan.FromSeconds(10));
        var saw = await ReceiveOrResetAsync(client, new byte[16]).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.True(saw <= 0);
    }

    private static async Task<int> ReceiveOrResetAsync(Socket socket, byte[] buffer)
    {
        try
        {
            return await socket.ReceiveAsync(buffer);
        }
        catch (SocketException)
        {
            return -1;
        }
    }

    private static async Task<string> ReadExactlyAsync(Socket socket, byte[] buffer, int count)
    {
        var total = 0;
        while (total < count)
        {
            var n = await socket.ReceiveAsync(buffer.AsMemory(total, count - total));
            Assert.True(n > 0, "connection closed early");
            total += n;
        }

        return Encoding.ASCII.GetString(buffer, 0, count);
    }

    private sealed class StreamDuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }
}

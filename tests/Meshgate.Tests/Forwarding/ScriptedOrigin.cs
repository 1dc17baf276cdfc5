using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Meshgate.Tests.Forwarding;

/// <summary>
/// A raw TCP origin on loopback that answers each request head it reads with bytes a test writes out by hand, so
/// framing the HTTP servers in the tests never produce (chunk extensions, trailers, a body ended by the close,
/// interim responses, a malformed head, a truncated body) reaches the proxy. It records every request head with the
/// number of the connection it came on.
/// </summary>
internal sealed class ScriptedOrigin : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly Func<int, string, (string Response, bool Close)> _answer;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<(int Connection, string Head)> _requests = [];
    private readonly Task _accepting;
    private int _connections;

    /// <param name="answer">The response to the n-th request (from 0) given its head, and whether to close after it.</param>
    public ScriptedOrigin(Func<int, string, (string Response, bool Close)> answer)
    {
        _answer = answer;
        _listener.Start();
        _accepting = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>The connections accepted so far.</summary>
    public int Connections => Volatile.Read(ref _connections);

    /// <summary>The request heads received so far, with the connection (from 1) each came on.</summary>
    public IReadOnlyList<(int Connection, string Head)> Requests
    {
        get
        {
            lock (_requests)
            {
                return [.. _requests];
            }
        }
    }

    private async Task AcceptAsync()
    {
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                var socket = await _listener.AcceptSocketAsync(_stop.Token);
                var number = Interlocked.Increment(ref _connections);
                _ = ServeAsync(socket, number);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // stopped
        }
    }

    private async Task ServeAsync(Socket socket, int connection)
    {
        using var _ = socket;
        var buffer = new byte[16 * 1024];
        var pending = new StringBuilder();
        try
        {
            while (true)
            {
                var end = pending.ToString().IndexOf("\r\n\r\n", StringComparison.Ordinal);
                if (end < 0)
                {
                    var read = await socket.ReceiveAsync(buffer, _stop.Token);
                    if (read == 0)
                    {
                        return;
                    }

                    pending.Append(Encoding.Latin1.GetString(buffer, 0, read));
                    continue;
                }

                var head = pending.ToString(0, end + 4);
                pending.Remove(0, end + 4);
                int index;
                lock (_requests)
                {
                    index = _requests.Count;
                    _requests.Add((connection, head));
                }

                var (response, close) = _answer(index, head);
                await socket.SendAsync(Encoding.Latin1.GetBytes(response), _stop.Token);
                if (close)
                {
                    socket.Shutdown(SocketShutdown.Both);
                    return;
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // the proxy or the test went away
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        _stop.Dispose();
    }
}

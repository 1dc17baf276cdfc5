using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;

namespace Meshgate.Tests.Listeners;

/// <summary>
/// A raw TCP origin for request-smuggling tests: it keeps every byte each connection delivered and reads them as a
/// strict HTTP/1.1 server (RFC 9112 with none of its leniencies: CRLF only, single spaces in the request line, token
/// field names, no obs-fold, no NUL, CR or LF in a value, exactly one Host, one framing, Transfer-Encoding exactly
/// chunked, chunk sizes of hex digits and no extensions). Each complete request is recorded and answered
/// <c>200 origin</c>; anything else is a violation and the connection is closed. Kestrel as the origin would hide the
/// proxy's framing behind its own parser.
/// </summary>
internal sealed class SmugglingOrigin : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Connection> _connections = [];
    private readonly Task _accepting;

    private SmugglingOrigin(TcpListener listener)
    {
        _listener = listener;
        _accepting = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public static SmugglingOrigin Start()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return new SmugglingOrigin(listener);
    }

    /// <summary>Complete requests in arrival order: <c>METHOD target host=H [x-probe=V] body=B</c>.</summary>
    public IReadOnlyList<string> Requests
    {
        get
        {
            lock (_connections)
            {
                return [.. _connections.SelectMany(c => c.Requests)];
            }
        }
    }

    /// <summary>Bytes that broke RFC 9112 framing or field syntax, one line per offending connection.</summary>
    public IReadOnlyList<string> Violations
    {
        get
        {
            lock (_connections)
            {
                return [.. _connections.Where(c => c.Violation is not null).Select(c => c.Violation!)];
            }
        }
    }

    /// <summary>Connections that ended holding bytes of a request that never completed, and whether they are closed.</summary>
    public IReadOnlyList<(int Bytes, bool Closed)> Partials
    {
        get
        {
            lock (_connections)
            {
                return [.. _connections.Where(c => c.Received.Count > c.Consumed && c.Violation is null).Select(c => (c.Received.Count - c.Consumed, c.Closed))];
            }
        }
    }

    /// <summary>Every connection's bytes, escaped, for assertion messages.</summary>
    public string Transcript
    {
        get
        {
            lock (_connections)
            {
                return string.Join('\n', _connections.Select((c, i) => $"origin connection {i}{(c.Closed ? " (closed)" : "")}: {SmugglingHttp1.Escape(c.Received.ToArray())}"));
            }
        }
    }

    /// <summary>
    /// Waits (5 s deadline) until every byte the kernel holds for the origin has been read and parsed: no connection
    /// waiting to be accepted, none with unread bytes or being parsed, the same picture twice 10 ms apart.
    /// </summary>
    public async Task SettleAsync()
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        string? last = null;
        while (true)
        {
            var now = Quiet();
            if (now is not null && now == last)
            {
                return;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("the origin did not settle:\n" + Transcript);
            }

            last = now;
            await Task.Delay(10);
        }
    }

    /// <summary>Waits (5 s deadline) until every connection holding part of a request has been closed by the proxy.</summary>
    public async Task<bool> PartialsClosedAsync()
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while (Partials.Any(p => !p.Closed))
        {
            if (DateTime.UtcNow > deadline)
            {
                return false;
            }

            await Task.Delay(10);
        }

        return true;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        Task[] running;
        lock (_connections)
        {
            running = [.. _connections.Select(c => c.Serving)];
        }

        await Task.WhenAll(running);
        _stop.Dispose();
    }

    /// <summary>A fingerprint of the origin's state when nothing is pending, else null.</summary>
    private string? Quiet()
    {
        if (_listener.Pending())
        {
            return null;
        }

        lock (_connections)
        {
            var state = new StringBuilder();
            foreach (var c in _connections)
            {
                if (c.Busy || (!c.Closed && c.Socket.Available > 0))
                {
                    return null;
                }

                state.Append(c.Received.Count).Append(c.Closed ? 'c' : 'o').Append(',');
            }

            return state.ToString();
        }
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptSocketAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            var connection = new Connection(socket);
            lock (_connections)
            {
                _connections.Add(connection);
                connection.Serving = ServeAsync(connection);
            }
        }
    }

    private async Task ServeAsync(Connection c)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                // A zero-byte read waits for data without taking it, so while bytes sit in the kernel Available says so,
                // and once they are taken Busy does: SettleAsync never sees a moment where neither holds. On Linux a
                // zero-byte read right after a read that drained the socket completes at once with nothing there (the
                // runtime tries recv before waiting): such a wake-up is not work, or an idle kept-alive connection would
                // look busy for ever. Bytes arriving after the check are taken by the read below and counted before
                // SettleAsync could see the same picture twice.
                await c.Socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None, _stop.Token);
                lock (_connections)
                {
                    c.Busy = c.Socket.Available > 0;
                }

                var read = await c.Socket.ReceiveAsync(buffer, SocketFlags.None, _stop.Token);
                if (read == 0)
                {
                    break;
                }

                var answers = 0;
                lock (_connections)
                {
                    c.Received.AddRange(buffer.AsSpan(0, read));
                    while (true)
                    {
                        var result = SmugglingHttp1.TryParseRequest(CollectionsMarshal.AsSpan(c.Received)[c.Consumed..], out var length, out var request);
                        if (result == SmugglingHttp1.Result.Incomplete)
                        {
                            break;
                        }

                        if (result == SmugglingHttp1.Result.Malformed)
                        {
                            c.Violation = $"{request}: {SmugglingHttp1.Escape(CollectionsMarshal.AsSpan(c.Received)[c.Consumed..])}";
                            break;
                        }

                        c.Requests.Add(request);
                        c.Consumed += length;
                        answers++;
                    }
                }

                for (var i = 0; i < answers; i++)
                {
                    await c.Socket.SendAsync("HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\norigin"u8.ToArray(), SocketFlags.None, _stop.Token);
                }

                if (c.Violation is not null)
                {
                    break;
                }

                lock (_connections)
                {
                    c.Busy = false;
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // The proxy reset the connection, or the test is over.
        }
        finally
        {
            lock (_connections)
            {
                c.Closed = true;
                c.Busy = false;
            }

            c.Socket.Dispose();
        }
    }

    private sealed class Connection(Socket socket)
    {
        public Socket Socket { get; } = socket;

        public List<byte> Received { get; } = [];

        public int Consumed { get; set; }

        public List<string> Requests { get; } = [];

        public string? Violation { get; set; }

        public bool Busy { get; set; }

        public bool Closed { get; set; }

        public Task Serving { get; set; } = Task.CompletedTask;
    }
}

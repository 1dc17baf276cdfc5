#:property AllowUnsafeBlocks=true
#:property PublishAot=false
// An experiment, not part of Meshgate: the floor of CPU per forwarded HTTP/1.1 request that .NET reaches when it drives
// the sockets the way nginx does (one thread, edge-triggered epoll, no speculative reads, one upstream connection kept
// per client connection), with no HTTP work beyond finding the end of a GET's head and the response's Content-Length.
// It answers one question of issue 14: how much of the gap to nginx is the runtime's socket layer and Kestrel, and how
// much is the language. Run: dotnet run bench/experiments/epoll-floor.cs -- LISTEN_PORT UPSTREAM_IP:PORT
// (then measure it as any gateway: taskset, wrk, /proc/PID/stat; bench/experiments/README.md).
using System.Buffers.Binary;
using System.Net;
using System.Runtime.InteropServices;

var listenPort = int.Parse(args[0]);
var upstream = IPEndPoint.Parse(args[1]);
var floor = new EpollFloor(listenPort, upstream);
Console.Error.WriteLine($"epoll-floor listening on 127.0.0.1:{listenPort}, forwarding to {upstream}");
floor.Run();

internal sealed unsafe class EpollFloor
{
    private const int AfInet = 2, SockStream = 1, SockNonblock = 0x800, SolSocket = 1, SoReuseaddr = 2, IpprotoTcp = 6, TcpNodelay = 1;
    private const int EpollCtlAdd = 1, EpollCtlDel = 2;
    private const uint EpollIn = 0x1, EpollOut = 0x4, EpollRdhup = 0x2000, EpollEt = 0x80000000;
    private const int Eagain = 11, Einprogress = 115;
    private const int BufferSize = 16 * 1024;

    private readonly int _epoll;
    private readonly int _listener;
    private readonly SockaddrIn _upstream;
    private readonly Dictionary<int, Pair> _byFd = [];

    public EpollFloor(int port, IPEndPoint upstream)
    {
        _epoll = epoll_create1(0);
        _listener = socket(AfInet, SockStream | SockNonblock, 0);
        var one = 1;
        setsockopt(_listener, SolSocket, SoReuseaddr, &one, sizeof(int));
        var address = SockaddrIn.From(new IPEndPoint(IPAddress.Loopback, port));
        Check(bind(_listener, &address, sizeof(SockaddrIn)), "bind");
        Check(listen(_listener, 512), "listen");
        _upstream = SockaddrIn.From(upstream);
        var ev = new EpollEvent { Events = EpollIn, Fd = _listener };
        Check(epoll_ctl(_epoll, EpollCtlAdd, _listener, &ev), "epoll_ctl");
    }

    public void Run()
    {
        var events = new EpollEvent[256];
        while (true)
        {
            int n;
            fixed (EpollEvent* e = events)
            {
                n = epoll_wait(_epoll, e, events.Length, -1);
            }

            for (var i = 0; i < n; i++)
            {
                var fd = events[i].Fd;
                if (fd == _listener)
                {
                    Accept();
                }
                else if (_byFd.TryGetValue(fd, out var pair))
                {
                    pair.Ready(fd, events[i].Events);
                }
            }
        }
    }

    private void Accept()
    {
        while (true)
        {
            var client = accept4(_listener, null, null, SockNonblock);
            if (client < 0)
            {
                return;
            }

            var one = 1;
            setsockopt(client, IpprotoTcp, TcpNodelay, &one, sizeof(int));
            var pair = new Pair(this, client);
            _byFd[client] = pair;
            Watch(client);
        }
    }

    private void Watch(int fd)
    {
        var ev = new EpollEvent { Events = EpollIn | EpollOut | EpollRdhup | EpollEt, Fd = fd };
        Check(epoll_ctl(_epoll, EpollCtlAdd, fd, &ev), "epoll_ctl");
    }

    private void Close(Pair pair)
    {
        foreach (var fd in new[] { pair.Client, pair.Upstream })
        {
            if (fd >= 0)
            {
                epoll_ctl(_epoll, EpollCtlDel, fd, null);
                _byFd.Remove(fd);
                close(fd);
            }
        }
    }

    /// <summary>One client connection and its upstream connection; the request and the response pass through one buffer.</summary>
    private sealed class Pair(EpollFloor owner, int client)
    {
        private readonly byte[] _buffer = GC.AllocateArray<byte>(BufferSize, pinned: true);
        private int _length;
        private int _sent;
        private bool _clientReadable;
        private bool _upstreamReadable;
        private bool _awaitingResponse;
        private int _responseEnd = -1;

        public int Client { get; } = client;

        public int Upstream { get; private set; } = -1;

        public void Ready(int fd, uint events)
        {
            if ((events & EpollIn) != 0 || (events & EpollRdhup) != 0)
            {
                if (fd == Client)
                {
                    _clientReadable = true;
                }
                else
                {
                    _upstreamReadable = true;
                }
            }

            Step();
        }

        private void Step()
        {
            while (true)
            {
                if (!_awaitingResponse)
                {
                    var closed = false;
                    if (!_clientReadable || !Read(Client, ref _clientReadable, out closed))
                    {
                        if (closed)
                        {
                            owner.Close(this);
                        }

                        return;
                    }

                    if (_buffer.AsSpan(0, _length).IndexOf("\r\n\r\n"u8) < 0)
                    {
                        continue;
                    }

                    if (Upstream < 0 && !Connect())
                    {
                        owner.Close(this);
                        return;
                    }

                    if (!SendAll(Upstream))
                    {
                        owner.Close(this);
                        return;
                    }

                    _length = 0;
                    _responseEnd = -1;
                    _awaitingResponse = true;
                }

                var upstreamClosed = false;
                if (!_upstreamReadable || !Read(Upstream, ref _upstreamReadable, out upstreamClosed))
                {
                    if (upstreamClosed)
                    {
                        owner.Close(this);
                    }

                    return;
                }

                if (_responseEnd < 0)
                {
                    var head = _buffer.AsSpan(0, _length).IndexOf("\r\n\r\n"u8);
                    if (head < 0)
                    {
                        continue;
                    }

                    _responseEnd = head + 4 + ContentLength(_buffer.AsSpan(0, head));
                }

                if (_length < _responseEnd)
                {
                    continue;
                }

                if (!SendAll(Client))
                {
                    owner.Close(this);
                    return;
                }

                _length = 0;
                _awaitingResponse = false;
            }
        }

        /// <summary>Reads what is there; a short read means the socket is drained (no read that would fail, as nginx).</summary>
        private bool Read(int fd, ref bool readable, out bool closed)
        {
            closed = false;
            fixed (byte* b = _buffer)
            {
                var room = BufferSize - _length;
                var n = recv(fd, b + _length, room, 0);
                if (n > 0)
                {
                    _length += (int)n;
                    readable = n == room;
                    return true;
                }

                readable = false;
                closed = n == 0 || Marshal.GetLastPInvokeError() != Eagain;
                return false;
            }
        }

        private bool SendAll(int fd)
        {
            fixed (byte* b = _buffer)
            {
                for (_sent = 0; _sent < _length;)
                {
                    var n = send(fd, b + _sent, _length - _sent, 0x4000 /* MSG_NOSIGNAL */);
                    if (n <= 0)
                    {
                        return false; // the floor does not wait for a full socket buffer: 100-byte bodies never fill one
                    }

                    _sent += (int)n;
                }
            }

            return true;
        }

        private bool Connect()
        {
            Upstream = socket(AfInet, SockStream, 0); // blocking connect, once per client connection; then non-blocking
            var address = owner._upstream;
            if (connect(Upstream, &address, sizeof(SockaddrIn)) != 0 && Marshal.GetLastPInvokeError() != Einprogress)
            {
                return false;
            }

            var one = 1;
            setsockopt(Upstream, IpprotoTcp, TcpNodelay, &one, sizeof(int));
            fcntl(Upstream, 4 /* F_SETFL */, 0x800 /* O_NONBLOCK */);
            owner._byFd[Upstream] = this;
            owner.Watch(Upstream);
            return true;
        }

        private static int ContentLength(ReadOnlySpan<byte> head)
        {
            var at = head.IndexOf("\r\nContent-Length: "u8);
            if (at < 0)
            {
                at = head.IndexOf("\r\ncontent-length: "u8);
            }

            var value = 0;
            for (var i = at + 18; i < head.Length && head[i] is >= (byte)'0' and <= (byte)'9'; i++)
            {
                value = (value * 10) + (head[i] - '0');
            }

            return value;
        }
    }

    private static void Check(int result, string call)
    {
        if (result < 0)
        {
            throw new InvalidOperationException($"{call} failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    [StructLayout(LayoutKind.Sequential, Pack = 1)]
    private struct EpollEvent
    {
        public uint Events;
        public int Fd;
        public int Padding;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct SockaddrIn
    {
        public ushort Family;
        public ushort Port;
        public uint Address;
        public ulong Zero;

        public static SockaddrIn From(IPEndPoint endPoint)
        {
            Span<byte> address = stackalloc byte[4];
            endPoint.Address.TryWriteBytes(address, out _);
            return new SockaddrIn
            {
                Family = AfInet,
                Port = BinaryPrimitives.ReverseEndianness((ushort)endPoint.Port),
                Address = MemoryMarshal.Read<uint>(address),
            };
        }
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int epoll_create1(int flags);

    [DllImport("libc", SetLastError = true)]
    private static extern int epoll_ctl(int epfd, int op, int fd, EpollEvent* ev);

    [DllImport("libc", SetLastError = true)]
    private static extern int epoll_wait(int epfd, EpollEvent* events, int maxEvents, int timeout);

    [DllImport("libc", SetLastError = true)]
    private static extern int socket(int domain, int type, int protocol);

    [DllImport("libc", SetLastError = true)]
    private static extern int setsockopt(int fd, int level, int name, void* value, int length);

    [DllImport("libc", SetLastError = true)]
    private static extern int bind(int fd, SockaddrIn* address, int length);

    [DllImport("libc", SetLastError = true)]
    private static extern int listen(int fd, int backlog);

    [DllImport("libc", SetLastError = true)]
    private static extern int accept4(int fd, void* address, void* length, int flags);

    [DllImport("libc", SetLastError = true)]
    private static extern int connect(int fd, SockaddrIn* address, int length);

    [DllImport("libc", SetLastError = true)]
    private static extern int fcntl(int fd, int command, int argument);

    [DllImport("libc", SetLastError = true)]
    private static extern nint recv(int fd, byte* buffer, nint length, int flags);

    [DllImport("libc", SetLastError = true)]
    private static extern nint send(int fd, byte* buffer, nint length, int flags);

    [DllImport("libc", SetLastError = true)]
    private static extern int close(int fd);
}

using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Microsoft.AspNetCore.Connections;

namespace Meshgate.Proxy.EventLoop;

/// <summary>
/// Kestrel's transport over <see cref="EpollLoop"/>: listeners whose connections read only when epoll reported data,
/// so Kestrel's HTTP/1.1 and HTTP/2 run unchanged above sockets that never read in vain (<see cref="EpollSocket"/>).
/// IP endpoints only; the proxy uses it where it serves plain HTTP (<see cref="EventLoopSupport"/>).
/// </summary>
internal sealed class EpollTransportFactory(EpollLoop loop) : IConnectionListenerFactory
{
    /// <summary>Kestrel's socket transport's backlog.</summary>
    private const int Backlog = 512;

    public ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
    {
        if (endpoint is not IPEndPoint ip)
        {
            throw new NotSupportedException($"the event-loop transport listens on IP endpoints only, not {endpoint}");
        }

        var socket = new Socket(ip.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (ip.Address.Equals(IPAddress.IPv6Any))
            {
                socket.DualMode = true; // as Kestrel: [::] takes IPv4 too
            }

            socket.Bind(ip);
            socket.Listen(Backlog);
            socket.Blocking = false;
            var bound = (IPEndPoint)socket.LocalEndPoint!;
            var listening = new EpollSocket(loop, socket.SafeHandle, socket, readable: true, writable: false);
            return new ValueTask<IConnectionListener>(new Listener(loop, listening, bound));
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private sealed class Listener(EpollLoop loop, EpollSocket listening, IPEndPoint bound) : IConnectionListener
    {
        private const int Eintr = 4, Eperm = 1, Enomem = 12, Enfile = 23, Emfile = 24, Eproto = 71, Econnaborted = 103, Enobufs = 105;

        private readonly bool _wildcard = bound.Address.Equals(IPAddress.Any) || bound.Address.Equals(IPAddress.IPv6Any);
        private volatile bool _unbound;

        public EndPoint EndPoint => bound;

        public async ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default)
        {
            while (!_unbound)
            {
                var address = new SocketAddress(bound.AddressFamily);
                var fd = TryAccept(address);
                if (fd >= 0)
                {
                    return Accepted(fd, address);
                }

                var errno = -fd;
                if (errno == Libc.Eagain)
                {
                    await listening.WaitReadableAsync().ConfigureAwait(false);
                }
                else if (errno is Emfile or Enfile or Enobufs or Enomem)
                {
                    // Out of descriptors or memory: the pending connection stays queued; try again shortly (nginx waits
                    // 500 ms) rather than spin, and keep serving the connections already open.
                    await Task.Delay(100, CancellationToken.None).ConfigureAwait(false);
                }
                else if (errno is not (Eintr or Econnaborted or Eproto or Eperm))
                {
                    return null; // the listener was closed (EBADF, EINVAL after Unbind)
                }
            }

            return null;
        }

        private unsafe int TryAccept(SocketAddress address)
        {
            var length = address.Size;
            fixed (byte* bytes = address.Buffer.Span)
            {
                return listening.Accept(bytes, &length);
            }
        }

        private unsafe EpollConnection Accepted(int fd, SocketAddress address)
        {
            var handle = new AcceptedDescriptor(fd);
            EpollSocket? socket = null;
            try
            {
                var one = 1;
                Libc.SetSocketOption(fd, Libc.IpProtoTcp, Libc.TcpNoDelay, &one, sizeof(int)); // as Kestrel's NoDelay
                var remote = (IPEndPoint)bound.Create(address);
                socket = new EpollSocket(loop, handle, handle, readable: false, writable: true, spread: true);
                var local = _wildcard ? socket.LocalEndPoint(bound.AddressFamily) : bound;
                var connection = new EpollConnection(socket, local, remote);
                connection.Start();
                return connection;
            }
            catch
            {
                if (socket is null)
                {
                    handle.Dispose();
                }
                else
                {
                    socket.Dispose();
                }

                throw;
            }
        }

        public ValueTask UnbindAsync(CancellationToken cancellationToken = default)
        {
            _unbound = true;
            listening.Abort(); // wakes the accept loop, which then returns null
            return default;
        }

        public ValueTask DisposeAsync()
        {
            _unbound = true;
            listening.Abort();
            listening.Dispose();
            return default;
        }
    }

    /// <summary>
    /// An accepted connection's descriptor, closed with a plain <c>close</c>: a FIN after whatever the kernel still has to
    /// send. (<see cref="SafeSocketHandle"/> released directly closes abortively, with a zero linger: a reset that would
    /// drop the end of a response to a slow client.) <see cref="EpollSocket.Reset"/> asks for the reset explicitly.
    /// </summary>
    private sealed class AcceptedDescriptor : SafeHandle
    {
        public AcceptedDescriptor(int fd)
            : base(invalidHandleValue: -1, ownsHandle: true) => SetHandle(fd);

        public override bool IsInvalid => handle == -1;

        protected override bool ReleaseHandle() => Libc.Close((int)handle) == 0;
    }
}

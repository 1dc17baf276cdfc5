using System.Collections.Concurrent;
using System.Runtime.InteropServices;

namespace Meshgate.Proxy.EventLoop;

/// <summary>
/// One thread waiting in <c>epoll_wait</c> for the sockets registered with it, edge-triggered, and telling each
/// <see cref="EpollSocket"/> what became ready. Whatever awaited that readiness continues right here, on the loop's
/// thread (as the runtime's inline socket completions do, <see cref="InlineIo"/>), so a request forwarded between two
/// of its sockets never changes thread. Nothing running here may block.
/// </summary>
/// <remarks>
/// Each registration carries a <see cref="GCHandle"/> to its socket. A socket closed on any thread is removed from
/// epoll at once, but its handle is freed only between two waits: an event for it may already sit in the batch being
/// dispatched, and must still find the (closed) socket, not freed memory.
/// </remarks>
public sealed unsafe class EpollLoop
{
    private const int BatchSize = 256;

    private static readonly Lazy<EpollLoop> s_shared = new(() => new EpollLoop("meshgate-epoll"));

    private readonly int _epoll;
    private readonly ConcurrentQueue<GCHandle> _released = new();

    private EpollLoop(string name)
    {
        _epoll = Libc.EpollCreate(Libc.EpollCloexec);
        if (_epoll < 0)
        {
            throw Libc.SocketError(Marshal.GetLastPInvokeError());
        }

        new Thread(Run) { IsBackground = true, Name = name }.Start();
    }

    /// <summary>The process's loop, started on first use.</summary>
    public static EpollLoop Shared => s_shared.Value;

    /// <summary>Watches <paramref name="fd"/> for reads, writes and hang-ups, edge-triggered.</summary>
    internal void Add(int fd, GCHandle socket)
    {
        var item = new Libc.EpollEvent
        {
            Events = Libc.EpollIn | Libc.EpollOut | Libc.EpollRdHup | Libc.EpollEdgeTriggered,
            Data = (ulong)GCHandle.ToIntPtr(socket),
        };
        if (Libc.EpollControl(_epoll, Libc.EpollCtlAdd, fd, &item) != 0)
        {
            throw Libc.SocketError(Marshal.GetLastPInvokeError());
        }
    }

    /// <summary>Stops watching <paramref name="fd"/> (still open); its handle is freed after the batch in flight.</summary>
    internal void Remove(int fd, GCHandle socket)
    {
        Libc.EpollControl(_epoll, Libc.EpollCtlDel, fd, null);
        _released.Enqueue(socket);
    }

    private void Run()
    {
        var events = (Libc.EpollEvent*)NativeMemory.Alloc(BatchSize, (nuint)sizeof(Libc.EpollEvent));
        while (true)
        {
            var count = Libc.EpollWait(_epoll, events, BatchSize, -1);
            for (var i = 0; i < count; i++)
            {
                var socket = (EpollSocket)GCHandle.FromIntPtr((nint)events[i].Data).Target!;
                try
                {
                    socket.OnReady(events[i].Events);
                }
                catch (Exception e)
                {
                    // What a socket's continuation throws belongs to its own task; reaching here is a defect, and the
                    // loop must go on serving every other connection.
                    Console.Error.WriteLine($"meshgate: event loop: {e}");
                }
            }

            while (_released.TryDequeue(out var handle))
            {
                handle.Free();
            }
        }
    }
}

using System.Collections.Concurrent;
using System.Runtime.InteropServices;

namespace Meshgate.Proxy.EventLoop;

/// <summary>
/// Threads waiting in <c>epoll_wait</c> for the sockets registered with them, edge-triggered, each telling its
/// <see cref="EpollSocket"/>s what became ready: one thread per core the process may run on (as the runtime's socket
/// engine has with inline completions), each with its own epoll instance. Whatever awaited that readiness continues
/// right there, on the loop's thread (as the runtime's inline socket completions do, <see cref="InlineIo"/>), so a
/// request forwarded between two of its sockets need not change thread. Nothing running here may block.
/// </summary>
/// <remarks>
/// <para>A socket opened on a loop's thread (an upstream connection a request on it needs) is watched by that loop; an
/// accepted connection goes to the next loop in turn, so connections spread over the cores.</para>
/// <para>Each registration carries a <see cref="GCHandle"/> to its socket. A socket closed on any thread is removed from
/// epoll at once, but its handle is freed only between two waits of its loop: an event for it may already sit in the
/// batch being dispatched, and must still find the (closed) socket, not freed memory.</para>
/// </remarks>
public sealed unsafe class EpollLoop
{
    private const int BatchSize = 256;

    private static readonly Lazy<EpollLoop> s_shared = new(() => new EpollLoop("meshgate-epoll", Environment.ProcessorCount));

    // The index of the loop whose thread this is, plus one (0: not a loop thread).
    [ThreadStatic]
    private static int t_loop;

    private readonly Loop[] _loops;
    private int _next;

    private EpollLoop(string name, int threads)
    {
        _loops = new Loop[Math.Max(1, threads)];
        for (var i = 0; i < _loops.Length; i++)
        {
            var epoll = Libc.EpollCreate(Libc.EpollCloexec);
            if (epoll < 0)
            {
                throw Libc.SocketError(Marshal.GetLastPInvokeError());
            }

            _loops[i] = new Loop(epoll, new ConcurrentQueue<GCHandle>());
            var index = i;
            new Thread(() => Run(index)) { IsBackground = true, Name = _loops.Length == 1 ? name : $"{name}-{i}" }.Start();
        }
    }

    /// <summary>True on one of the loops' threads.</summary>
    internal static bool OnLoopThread => t_loop != 0;

    /// <summary>
    /// Runs <paramref name="action"/> now on a loop's thread, where a connection's continuations already run; from any
    /// other thread (a timer, Kestrel's heartbeat, a cancellation) through the thread pool, so that what it resumes never
    /// runs on, and holds up, that shared thread.
    /// </summary>
    internal static void RunHereOrOnPool<TState>(Action<TState> action, TState state)
    {
        if (OnLoopThread)
        {
            action(state);
        }
        else
        {
            ThreadPool.UnsafeQueueUserWorkItem(action, state, preferLocal: false);
        }
    }

    /// <summary>The process's loops, started on first use.</summary>
    public static EpollLoop Shared => s_shared.Value;

    /// <summary>How many threads wait in epoll.</summary>
    public int Threads => _loops.Length;

    /// <summary>
    /// Watches <paramref name="fd"/> for reads, writes and hang-ups, edge-triggered: on this thread's loop when called on
    /// one (unless <paramref name="spread"/>), else on the next loop in turn. Returns the epoll instance it was added to.
    /// </summary>
    internal int Add(int fd, GCHandle socket, bool spread)
    {
        var own = t_loop - 1;
        var loop = own >= 0 && own < _loops.Length && !spread ? _loops[own]
            : _loops[(int)((uint)Interlocked.Increment(ref _next) % (uint)_loops.Length)];
        var item = new Libc.EpollEvent
        {
            Events = Libc.EpollIn | Libc.EpollOut | Libc.EpollRdHup | Libc.EpollEdgeTriggered,
            Data = (ulong)GCHandle.ToIntPtr(socket),
        };
        if (Libc.EpollControl(loop.Epoll, Libc.EpollCtlAdd, fd, &item) != 0)
        {
            throw Libc.SocketError(Marshal.GetLastPInvokeError());
        }

        return loop.Epoll;
    }

    /// <summary>Stops watching <paramref name="fd"/> (still open); its handle is freed after the batch in flight.</summary>
    internal void Remove(int epoll, int fd, GCHandle socket)
    {
        Libc.EpollControl(epoll, Libc.EpollCtlDel, fd, null);
        foreach (var loop in _loops)
        {
            if (loop.Epoll == epoll)
            {
                loop.Released.Enqueue(socket);
                return;
            }
        }
    }

    private void Run(int index)
    {
        t_loop = index + 1;
        var (epoll, released) = _loops[index];
        var events = (Libc.EpollEvent*)NativeMemory.Alloc(BatchSize, (nuint)sizeof(Libc.EpollEvent));
        while (true)
        {
            var count = Libc.EpollWait(epoll, events, BatchSize, -1);
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

            while (released.TryDequeue(out var handle))
            {
                handle.Free();
            }
        }
    }

    private readonly record struct Loop(int Epoll, ConcurrentQueue<GCHandle> Released);
}

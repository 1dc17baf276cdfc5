using System.Diagnostics;
using Meshgate.Proxy.Observability;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;

namespace Meshgate.Proxy.Listeners;

/// <summary>
/// A listener's cap on open downstream connections (Envoy's listener <c>max_connections</c>): the first connection
/// middleware, so a refused connection costs nothing but its socket. Over the cap the connection is closed at once,
/// counted, and logged once per burst (a burst ends when a connection is accepted again, or after a minute).
/// Lock-free: one <see cref="Interlocked"/> counter.
/// </summary>
internal sealed partial class ConnectionLimit(string listener, int max, ProxyMetrics metrics, ILogger logger)
{
    private static readonly long LogEvery = Stopwatch.Frequency * 60;

    private int _open;
    private long _refusing; // timestamp of the burst's log line, 0 when not refusing

    /// <summary>Connections open on the listener now.</summary>
    public int Open => Volatile.Read(ref _open);

    public Func<ConnectionDelegate, ConnectionDelegate> Middleware => next => connection => HandleAsync(connection, next);

    private async Task HandleAsync(ConnectionContext connection, ConnectionDelegate next)
    {
        if (Interlocked.Increment(ref _open) > max)
        {
            Interlocked.Decrement(ref _open);
            metrics.DownstreamConnectionRefused();
            var now = Stopwatch.GetTimestamp();
            var last = Volatile.Read(ref _refusing);
            if ((last == 0 || now - last > LogEvery) && Interlocked.CompareExchange(ref _refusing, now, last) == last)
            {
                Log.Refusing(logger, listener, max);
            }

            connection.Abort();
            return;
        }

        try
        {
            if (Volatile.Read(ref _refusing) != 0)
            {
                Volatile.Write(ref _refusing, 0);
            }

            await next(connection).ConfigureAwait(false);
        }
        finally
        {
            Interlocked.Decrement(ref _open);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(10, LogLevel.Warning, "listener {Name} is at its limit of {Max} connections: refusing new ones (counted in meshgate_downstream_connections_refused_total)")]
        public static partial void Refusing(ILogger logger, string name, int max);
    }
}

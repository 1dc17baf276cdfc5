using Meshgate.Core.ProxyConfiguration;

namespace Meshgate.Proxy.Observability;

/// <summary>
/// The access-log writers of a proxy's snapshots. A snapshot whose access-log settings are unchanged shares its
/// predecessor's writer; a replaced writer stays open while the old snapshot drains, then is flushed and closed.
/// </summary>
internal sealed class AccessLogs(TimeProvider time) : IAsyncDisposable
{
    private readonly Dictionary<AccessLogSink, AccessLogWriter> _writers = [];
    private readonly List<Task> _retiring = [];
    private readonly Lock _lock = new();
    private readonly CancellationTokenSource _disposing = new();

    /// <summary>
    /// A sink for <paramref name="settings"/>: <see cref="AccessLogSink.Off"/> when absent, else a new writer, its format
    /// compiled here, once for the snapshot (the snapshot passed <see cref="ProxyConfigValidator"/>, so it compiles).
    /// </summary>
    public AccessLogSink Open(AccessLogSettings? settings)
    {
        if (settings is null)
        {
            return AccessLogSink.Off;
        }

        var encoding = settings.Encoding == Core.ProxyConfiguration.AccessLogEncoding.Json ? AccessLogEncoding.Json : AccessLogEncoding.Text;
        var writer = AccessLogWriter.Open(settings.Path, AccessLogFormatter.Create(encoding, settings.Format), time: time);
        var sink = AccessLogSink.To(writer);
        lock (_lock)
        {
            _writers[sink] = writer;
        }

        return sink;
    }

    /// <summary>Closes <paramref name="opened"/> at once if it is not <paramref name="current"/> (an update that was refused).</summary>
    public ValueTask CloseUnusedAsync(AccessLogSink current, AccessLogSink opened) =>
        opened == current ? ValueTask.CompletedTask : CloseAsync(opened);

    /// <summary>Closes <paramref name="old"/> after <paramref name="drainTime"/> if <paramref name="next"/> replaced it.</summary>
    public void Retire(AccessLogSink old, AccessLogSink next, TimeSpan drainTime)
    {
        if (old == next)
        {
            return;
        }

        var closing = CloseLaterAsync(old, drainTime);
        lock (_lock)
        {
            _retiring.RemoveAll(t => t.IsCompleted);
            _retiring.Add(closing);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _disposing.CancelAsync().ConfigureAwait(false);
        AccessLogWriter[] writers;
        lock (_lock)
        {
            writers = [.. _writers.Values];
            _writers.Clear();
        }

        foreach (var writer in writers)
        {
            await writer.DisposeAsync().ConfigureAwait(false);
        }

        Task[] retiring;
        lock (_lock)
        {
            retiring = [.. _retiring];
        }

        await Task.WhenAll(retiring).ConfigureAwait(false);
        _disposing.Dispose();
    }

    private async Task CloseLaterAsync(AccessLogSink sink, TimeSpan drainTime)
    {
        // Shutting down cuts the wait short; the writer is flushed and closed either way.
        await Task.Delay(drainTime, time, _disposing.Token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await CloseAsync(sink).ConfigureAwait(false);
    }

    private async ValueTask CloseAsync(AccessLogSink sink)
    {
        AccessLogWriter? writer;
        lock (_lock)
        {
            _writers.Remove(sink, out writer);
        }

        if (writer is not null)
        {
            await writer.DisposeAsync().ConfigureAwait(false);
        }
    }
}

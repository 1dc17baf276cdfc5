using System.Buffers;
using System.Threading.Channels;

namespace Meshgate.Proxy.Observability;

/// <summary>
/// Writes access-log lines off the hot path. Callers enqueue entries into a bounded channel and never block: when it is
/// full the entry is dropped and counted. One background task formats the entries and writes them in batches to the
/// output. <see cref="DisposeAsync"/> stops intake, writes everything queued, and closes the output it opened.
/// </summary>
public sealed class AccessLogWriter : IAsyncDisposable
{
    /// <summary>meshConfig.accessLogFile values that mean the process's own streams.</summary>
    public const string StandardOutput = "/dev/stdout";

    public const string StandardError = "/dev/stderr";

    private readonly Channel<AccessLogEntry> _channel;
    private readonly Stream _output;
    private readonly bool _ownsOutput;
    private readonly AccessLogFormatter _formatter;
    private readonly AccessLogWriterOptions _options;
    private readonly TimeProvider _time;
    private readonly ArrayBufferWriter<byte> _batch;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _loop;
    private long _dropped;
    private long _written;
    private int _disposed;

    /// <param name="output">Where lines go; disposed with the writer when <paramref name="ownsOutput"/>.</param>
    public AccessLogWriter(
        Stream output,
        bool ownsOutput,
        AccessLogFormatter formatter,
        AccessLogWriterOptions? options = null,
        TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(formatter);
        _options = options ?? AccessLogWriterOptions.Default;
        ArgumentOutOfRangeException.ThrowIfLessThan(_options.Capacity, 1, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThan(_options.FlushInterval, TimeSpan.Zero, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThan(_options.MaxBatchBytes, 1, nameof(options));
        _output = output;
        _ownsOutput = ownsOutput;
        _formatter = formatter;
        _time = time ?? TimeProvider.System;
        _batch = new ArrayBufferWriter<byte>(Math.Min(_options.MaxBatchBytes, 64 * 1024) + 4096);

        // Wait mode only so that TryWrite reports a full channel; nobody ever waits to write.
        _channel = Channel.CreateBounded<AccessLogEntry>(new BoundedChannelOptions(_options.Capacity)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = true,
            SingleWriter = false,
            AllowSynchronousContinuations = false,
        });
        _loop = Task.Run(RunAsync);
    }

    /// <summary>
    /// Opens meshConfig.accessLogFile: <see cref="StandardOutput"/>, <see cref="StandardError"/>, or a file appended to.
    /// </summary>
    public static AccessLogWriter Open(
        string path,
        AccessLogEncoding encoding,
        AccessLogWriterOptions? options = null,
        TimeProvider? time = null) =>
        Open(path, AccessLogFormatter.Create(encoding), options, time);

    /// <summary>As <see cref="Open(string, AccessLogEncoding, AccessLogWriterOptions?, TimeProvider?)"/>, with the formatter (a custom format) given.</summary>
    public static AccessLogWriter Open(
        string path,
        AccessLogFormatter formatter,
        AccessLogWriterOptions? options = null,
        TimeProvider? time = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(formatter);
        return path switch
        {
            StandardOutput => new AccessLogWriter(Console.OpenStandardOutput(), ownsOutput: false, formatter, options, time),
            StandardError => new AccessLogWriter(Console.OpenStandardError(), ownsOutput: false, formatter, options, time),
            _ => new AccessLogWriter(
                new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite, bufferSize: 0, FileOptions.Asynchronous),
                ownsOutput: true,
                formatter,
                options,
                time),
        };
    }

    /// <summary>Entries lost: the queue was full, the writer was disposed, or the output failed.</summary>
    public long DroppedCount => Interlocked.Read(ref _dropped);

    /// <summary>Lines written to the output.</summary>
    public long WrittenCount => Interlocked.Read(ref _written);

    /// <summary>Queues the entry; false (and counted in <see cref="DroppedCount"/>) when the queue is full or closed.</summary>
    public bool TryEnqueue(in AccessLogEntry entry)
    {
        if (_channel.Writer.TryWrite(entry))
        {
            return true;
        }

        Interlocked.Increment(ref _dropped);
        return false;
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _channel.Writer.TryComplete();
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
        _stopping.Dispose();
        if (_ownsOutput)
        {
            await _output.DisposeAsync().ConfigureAwait(false);
        }
    }

    private async Task RunAsync()
    {
        var reader = _channel.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            if (_options.FlushInterval > TimeSpan.Zero && !_stopping.IsCancellationRequested)
            {
                // Let the batch gather; disposal cuts the wait short.
                await Task.Delay(_options.FlushInterval, _time, _stopping.Token)
                    .ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }

            var lines = 0;
            while (reader.TryRead(out var entry))
            {
                _formatter.Write(entry, _batch);
                lines++;
                if (_batch.WrittenCount >= _options.MaxBatchBytes)
                {
                    await WriteBatchAsync(lines).ConfigureAwait(false);
                    lines = 0;
                }
            }

            await WriteBatchAsync(lines).ConfigureAwait(false);
        }
    }

    private async ValueTask WriteBatchAsync(int lines)
    {
        if (lines == 0)
        {
            return;
        }

        try
        {
            await _output.WriteAsync(_batch.WrittenMemory).ConfigureAwait(false);
            await _output.FlushAsync().ConfigureAwait(false);
            Interlocked.Add(ref _written, lines);
        }
        catch (Exception exception) when (exception is IOException or ObjectDisposedException or NotSupportedException or UnauthorizedAccessException)
        {
            // A full disk or a closed pipe must not stop the proxy; the lines count as dropped.
            Interlocked.Add(ref _dropped, lines);
        }
        finally
        {
            _batch.ResetWrittenCount();
        }
    }
}

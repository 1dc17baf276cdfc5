namespace Meshgate.Tests.Observability;

/// <summary>
/// A write-only stream that records each write, can hold writes at a gate (a slow disk or a blocked pipe),
/// and can fail a number of writes.
/// </summary>
internal sealed class RecordingStream : Stream
{
    private readonly MemoryStream _data = new();
    private readonly List<int> _writes = [];
    private readonly TaskCompletionSource _firstWriteStarted = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _failuresLeft;

    public RecordingStream(bool blocked = false, int failures = 0)
    {
        if (!blocked)
        {
            _gate.SetResult();
        }

        _failuresLeft = failures;
    }

    /// <summary>Completes when a write has started, whether or not it is held at the gate.</summary>
    public Task FirstWriteStarted => _firstWriteStarted.Task;

    public bool Disposed { get; private set; }

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public void Release() => _gate.TrySetResult();

    /// <summary>Sizes of the writes that reached the stream, in order.</summary>
    public IReadOnlyList<int> Writes
    {
        get
        {
            lock (_writes)
            {
                return [.. _writes];
            }
        }
    }

    public string Text
    {
        get
        {
            lock (_writes)
            {
                return System.Text.Encoding.UTF8.GetString(_data.ToArray());
            }
        }
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        _firstWriteStarted.TrySetResult();
        await _gate.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        if (Interlocked.Decrement(ref _failuresLeft) >= 0)
        {
            throw new IOException("No space left on device");
        }

        lock (_writes)
        {
            _data.Write(buffer.Span);
            _writes.Add(buffer.Length);
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(byte[] buffer, int offset, int count) =>
        WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override void Flush()
    {
    }

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        Disposed = true;
        base.Dispose(disposing);
    }
}

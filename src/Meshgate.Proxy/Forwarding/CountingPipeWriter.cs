using System.IO.Pipelines;

namespace Meshgate.Proxy.Forwarding;

/// <summary>
/// Passes writes through to the server's response <see cref="PipeWriter"/> and counts the bytes (local responses
/// write here; forwarded bodies go through <see cref="CountingStream"/>). Reused per pooled context like it.
/// </summary>
internal sealed class CountingPipeWriter : PipeWriter
{
    private PipeWriter _inner = null!;

    public long Count { get; private set; }

    public void Reset(PipeWriter inner)
    {
        _inner = inner;
        Count = 0;
    }

    public override void Advance(int bytes)
    {
        _inner.Advance(bytes);
        Count += bytes;
    }

    public override Memory<byte> GetMemory(int sizeHint = 0) => _inner.GetMemory(sizeHint);

    public override Span<byte> GetSpan(int sizeHint = 0) => _inner.GetSpan(sizeHint);

    public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default) => _inner.FlushAsync(cancellationToken);

    public override ValueTask<FlushResult> WriteAsync(ReadOnlyMemory<byte> source, CancellationToken cancellationToken = default)
    {
        Count += source.Length;
        return _inner.WriteAsync(source, cancellationToken);
    }

    public override void CancelPendingFlush() => _inner.CancelPendingFlush();

    public override void Complete(Exception? exception = null) => _inner.Complete(exception);

    public override ValueTask CompleteAsync(Exception? exception = null) => _inner.CompleteAsync(exception);

    public override bool CanGetUnflushedBytes => _inner.CanGetUnflushedBytes;

    public override long UnflushedBytes => _inner.UnflushedBytes;
}

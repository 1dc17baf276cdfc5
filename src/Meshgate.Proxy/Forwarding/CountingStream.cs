namespace Meshgate.Proxy.Forwarding;

/// <summary>
/// Passes reads and writes through to the stream it wraps and counts the bytes. One instance lives as long as its
/// pooled <see cref="ProxyRequest"/> and is re-pointed at each request's stream, so counting allocates nothing.
/// Used by one request at a time, so the count needs no synchronisation.
/// </summary>
internal sealed class CountingStream : Stream
{
    private Stream _inner = Null;

    /// <summary>The stream wrapped.</summary>
    public Stream Inner => _inner;

    /// <summary>Bytes read or written since <see cref="Reset"/>.</summary>
    public long Count { get; private set; }

    public void Reset(Stream inner)
    {
        _inner = inner;
        Count = 0;
    }

    public override bool CanRead => _inner.CanRead;

    public override bool CanWrite => _inner.CanWrite;

    public override bool CanSeek => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Counted(_inner.Read(buffer, offset, count));

    public override int Read(Span<byte> buffer) => Counted(_inner.Read(buffer));

    public override async Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        Counted(await _inner.ReadAsync(buffer.AsMemory(offset, count), cancellationToken).ConfigureAwait(false));

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var read = _inner.ReadAsync(buffer, cancellationToken);
        return read.IsCompletedSuccessfully ? new ValueTask<int>(Counted(read.Result)) : AwaitRead(read);
    }

    public override void Write(byte[] buffer, int offset, int count)
    {
        _inner.Write(buffer, offset, count);
        Count += count;
    }

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        _inner.Write(buffer);
        Count += buffer.Length;
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        // Counted when handed over: what the server accepted is what the client will be sent.
        Count += buffer.Length;
        return _inner.WriteAsync(buffer, cancellationToken);
    }

    public override void Flush() => _inner.Flush();

    public override Task FlushAsync(CancellationToken cancellationToken) => _inner.FlushAsync(cancellationToken);

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    // The wrapped stream belongs to the server; disposing the wrapper must not close it.
    protected override void Dispose(bool disposing)
    {
    }

    private int Counted(int read)
    {
        Count += read;
        return read;
    }

    private async ValueTask<int> AwaitRead(ValueTask<int> read) => Counted(await read.ConfigureAwait(false));
}

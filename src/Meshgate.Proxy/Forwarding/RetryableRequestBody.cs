using System.Buffers;

namespace Meshgate.Proxy.Forwarding;

/// <summary>
/// The request body as the forwarder reads it: counts the client's bytes (%BYTES_RECEIVED%) and, while a retry may still
/// send the request again, keeps a copy of what was read, as Envoy's router buffers a body for retries. A retry reads
/// the kept bytes first, then goes on reading the client. A body that outgrows the limit is no longer kept and the
/// request is no longer retried (Envoy's <c>retry_or_shadow_abandoned</c>): it goes on streaming to the attempt in
/// flight. The copy lives in arrays rented from the shared pool and is returned when forwarding ends, so a request
/// allocates nothing for it. One per pooled <see cref="ProxyRequest"/>, used by one request at a time.
/// </summary>
internal sealed class RetryableRequestBody : Stream
{
    private const int InitialCapacity = 4096;

    private Stream _inner = Null;
    private byte[]? _kept;
    private int _length;   // bytes kept
    private int _position; // the next kept byte a retry reads; equal to _length once it reads the client again
    private int _limit;    // 0: not keeping
    private long _expected;

    /// <summary>The stream wrapped (the server's request body).</summary>
    public Stream Inner => _inner;

    /// <summary>Bytes read from the client since <see cref="Reset"/>; a retry's replayed bytes are not counted again.</summary>
    public long Count { get; private set; }

    /// <summary>True once the body outgrew the retry buffer: it cannot be sent again.</summary>
    public bool Abandoned { get; private set; }

    /// <summary>True while the request can be sent again from its first byte: nothing read yet, or all of it kept.</summary>
    public bool CanReplay => !Abandoned && (_limit > 0 || Count == 0);

    public void Reset(Stream inner)
    {
        Release();
        _inner = inner;
        Count = 0;
        Abandoned = false;
    }

    /// <summary>Keeps what is read from now on, up to <paramref name="limit"/> bytes; <paramref name="expected"/> is the Content-Length when known.</summary>
    public void Keep(int limit, long? expected)
    {
        _limit = limit;
        _expected = expected ?? 0;
    }

    /// <summary>
    /// The next read starts again at the body's first byte; false when the body cannot be replayed (see
    /// <see cref="CanReplay"/>). Nothing read from the client before <see cref="Keep"/> can be replayed.
    /// </summary>
    public bool Rewind()
    {
        if (!CanReplay)
        {
            return false;
        }

        _position = 0;
        return true;
    }

    /// <summary>The last attempt: the kept bytes are still replayed, but what the client sends next is not kept.</summary>
    public void StopKeeping() => _limit = 0;

    /// <summary>Returns the kept bytes to the pool; the body can no longer be replayed from its start.</summary>
    public void Release()
    {
        if (_kept is { } kept)
        {
            _kept = null;
            ArrayPool<byte>.Shared.Return(kept);
        }

        if (_length > 0)
        {
            Abandoned = true; // bytes were read and are gone
        }

        _length = 0;
        _position = 0;
        _limit = 0;
    }

    public override bool CanRead => _inner.CanRead;

    public override bool CanWrite => false;

    public override bool CanSeek => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        if (_position < _length)
        {
            return Replay(buffer);
        }

        return Received(buffer, _inner.Read(buffer));
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_position < _length)
        {
            return new ValueTask<int>(Replay(buffer.Span));
        }

        var read = _inner.ReadAsync(buffer, cancellationToken);
        return read.IsCompletedSuccessfully ? new ValueTask<int>(Received(buffer.Span, read.Result)) : AwaitRead(buffer, read);
    }

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    // The wrapped stream belongs to the server; disposing the wrapper must not close it.
    protected override void Dispose(bool disposing)
    {
    }

    private int Replay(Span<byte> buffer)
    {
        var n = Math.Min(buffer.Length, _length - _position);
        _kept.AsSpan(_position, n).CopyTo(buffer);
        _position += n;
        return n;
    }

    private async ValueTask<int> AwaitRead(Memory<byte> buffer, ValueTask<int> read)
    {
        var n = await read.ConfigureAwait(false);
        return Received(buffer.Span, n);
    }

    private int Received(ReadOnlySpan<byte> buffer, int read)
    {
        Count += read;
        if (_limit > 0 && read > 0)
        {
            Append(buffer[..read]);
        }

        return read;
    }

    private void Append(ReadOnlySpan<byte> bytes)
    {
        var needed = _length + bytes.Length;
        if (needed > _limit)
        {
            // Envoy gives up the retry (and the buffer) and keeps streaming to the attempt in flight.
            Release();
            Abandoned = true;
            return;
        }

        if (_kept is null || _kept.Length < needed)
        {
            var first = _expected > 0 ? (int)Math.Min(_expected, _limit) : InitialCapacity;
            var size = Math.Min(_limit, Math.Max(needed, Math.Max(first, (_kept?.Length ?? 0) * 2)));
            var grown = ArrayPool<byte>.Shared.Rent(size);
            if (_kept is { } old)
            {
                old.AsSpan(0, _length).CopyTo(grown);
                ArrayPool<byte>.Shared.Return(old);
            }

            _kept = grown;
        }

        bytes.CopyTo(_kept.AsSpan(_length));
        _length = needed;
        _position = needed;
    }
}

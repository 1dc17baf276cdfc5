namespace Meshgate.Proxy.Forwarding;

/// <summary>What <see cref="ChunkedDecoder.Read"/> found.</summary>
internal enum ChunkedResult
{
    /// <summary>All input consumed; the body goes on.</summary>
    NeedMore,

    /// <summary>A run of body bytes (<c>dataOffset</c>, <c>dataLength</c>); call again with the rest.</summary>
    Data,

    /// <summary>The last chunk and the trailer section ended: the body is complete.</summary>
    Done,

    /// <summary>Not chunked framing (RFC 9112 §7.1).</summary>
    Malformed,
}

/// <summary>
/// Decodes a chunked response body (RFC 9112 §7.1) as it arrives, in place: it finds the runs of body bytes between the
/// chunk framing, so they are written downstream without copying, and the end of the body, so the connection can be
/// reused. Chunk extensions and trailer fields are read and dropped (Kestrel sends no HTTP/1.1 trailers; YARP drops
/// them too). Hand-written: the framework's decoder lives inside SocketsHttpHandler.
/// </summary>
internal struct ChunkedDecoder
{
    // 15 hex digits: the largest chunk a long holds with room to spare.
    private const int MaxSizeDigits = 15;

    private State _state;
    private long _remaining;
    private int _digits;

    private enum State
    {
        Size,
        Extension,
        SizeLineFeed,
        Data,
        DataCarriageReturn,
        DataLineFeed,
        TrailerLineStart,
        TrailerLine,
        EndLineFeed,
        Done,
    }

    public ChunkedResult Read(ReadOnlySpan<byte> input, out int consumed, out int dataOffset, out int dataLength)
    {
        dataOffset = 0;
        dataLength = 0;
        var i = 0;
        while (i < input.Length)
        {
            var b = input[i];
            switch (_state)
            {
                case State.Size:
                    var digit = HexValue(b);
                    if (digit >= 0)
                    {
                        if (++_digits > MaxSizeDigits)
                        {
                            consumed = i;
                            return ChunkedResult.Malformed;
                        }

                        _remaining = (_remaining << 4) | (uint)digit;
                        i++;
                        break;
                    }

                    if (_digits == 0)
                    {
                        consumed = i;
                        return ChunkedResult.Malformed;
                    }

                    _state = b switch
                    {
                        (byte)';' or (byte)' ' or (byte)'\t' => State.Extension,
                        (byte)'\r' => State.SizeLineFeed,
                        _ => State.Done, // marks the error below
                    };
                    if (_state == State.Done)
                    {
                        consumed = i;
                        return ChunkedResult.Malformed;
                    }

                    i++;
                    break;
                case State.Extension:
                    if (b == '\r')
                    {
                        _state = State.SizeLineFeed;
                    }
                    else if (b == '\n')
                    {
                        SizeEnded();
                    }

                    i++;
                    break;
                case State.SizeLineFeed:
                    if (b != '\n')
                    {
                        consumed = i;
                        return ChunkedResult.Malformed;
                    }

                    SizeEnded();
                    i++;
                    break;
                case State.Data:
                    var run = (int)Math.Min(_remaining, input.Length - i);
                    dataOffset = i;
                    dataLength = run;
                    _remaining -= run;
                    if (_remaining == 0)
                    {
                        _state = State.DataCarriageReturn;
                    }

                    consumed = i + run;
                    return ChunkedResult.Data;
                case State.DataCarriageReturn:
                    if (b == '\n')
                    {
                        NextChunk();
                    }
                    else if (b == '\r')
                    {
                        _state = State.DataLineFeed;
                    }
                    else
                    {
                        consumed = i;
                        return ChunkedResult.Malformed;
                    }

                    i++;
                    break;
                case State.DataLineFeed:
                    if (b != '\n')
                    {
                        consumed = i;
                        return ChunkedResult.Malformed;
                    }

                    NextChunk();
                    i++;
                    break;
                case State.TrailerLineStart:
                    _state = b switch
                    {
                        (byte)'\r' => State.EndLineFeed,
                        (byte)'\n' => State.Done,
                        _ => State.TrailerLine,
                    };
                    i++;
                    if (_state == State.Done)
                    {
                        consumed = i;
                        return ChunkedResult.Done;
                    }

                    break;
                case State.TrailerLine:
                    if (b == '\n')
                    {
                        _state = State.TrailerLineStart;
                    }

                    i++;
                    break;
                case State.EndLineFeed:
                    if (b != '\n')
                    {
                        consumed = i;
                        return ChunkedResult.Malformed;
                    }

                    _state = State.Done;
                    consumed = i + 1;
                    return ChunkedResult.Done;
                case State.Done:
                    consumed = i;
                    return ChunkedResult.Done;
            }
        }

        consumed = i;
        return _state == State.Done ? ChunkedResult.Done : ChunkedResult.NeedMore;
    }

    private void SizeEnded() => _state = _remaining == 0 ? State.TrailerLineStart : State.Data;

    private void NextChunk()
    {
        _state = State.Size;
        _remaining = 0;
        _digits = 0;
    }

    private static int HexValue(byte b) => b switch
    {
        >= (byte)'0' and <= (byte)'9' => b - '0',
        >= (byte)'a' and <= (byte)'f' => b - 'a' + 10,
        >= (byte)'A' and <= (byte)'F' => b - 'A' + 10,
        _ => -1,
    };
}

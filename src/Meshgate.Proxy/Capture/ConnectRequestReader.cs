using System.Buffers;
using System.IO.Pipelines;
using System.Text;

namespace Meshgate.Proxy.Capture;

/// <summary>What the first bytes of a connection on an explicit proxy are.</summary>
internal enum ConnectStatus
{
    /// <summary>Not a CONNECT request: Kestrel serves it (absolute-form requests); nothing was consumed.</summary>
    NotConnect,

    /// <summary>A valid <c>CONNECT host:port HTTP/1.x</c>; its head is consumed, the tunnel's bytes follow.</summary>
    Connect,

    /// <summary>A CONNECT whose target is not <c>host:port</c>, or whose head is too long or cut short; consumed.</summary>
    Malformed,
}

/// <summary>
/// Reads the request head on an explicit proxy connection, as Kestrel would, only far enough to tell CONNECT
/// (RFC 9110 §9.3.6, authority-form target RFC 9112 §3.2.3) from everything else. Kestrel serves HTTP/1.1 requests to
/// an application but has no way to hand one the raw connection after a CONNECT, so this runs first, as connection
/// middleware; other requests are left unread (peeked, then rewound) for Kestrel.
/// </summary>
internal static class ConnectRequestReader
{
    /// <summary>Longest CONNECT head accepted (Kestrel's default MaxRequestHeadersTotalSize is 32 KB; a CONNECT is short).</summary>
    public const int MaxHeadLength = 8 * 1024;

    private static readonly byte[] Method = "CONNECT "u8.ToArray();
    private static readonly byte[] EndOfHead = "\r\n\r\n"u8.ToArray();

    /// <returns>The status, and for <see cref="ConnectStatus.Connect"/> the target; for a malformed one, the target text (for the log).</returns>
    public static async Task<(ConnectStatus Status, OriginalDestination Target, string? RawTarget)> ReadAsync(PipeReader input, CancellationToken cancellationToken)
    {
        while (true)
        {
            var read = await input.ReadAsync(cancellationToken).ConfigureAwait(false);
            var buffer = read.Buffer;
            if (buffer.IsEmpty && read.IsCompleted)
            {
                input.AdvanceTo(buffer.Start);
                return (ConnectStatus.NotConnect, default, null);
            }

            var prefix = (int)Math.Min(buffer.Length, Method.Length);
            if (!StartsWith(buffer, Method.AsSpan(0, prefix)))
            {
                input.AdvanceTo(buffer.Start);
                return (ConnectStatus.NotConnect, default, null);
            }

            var reader = new SequenceReader<byte>(buffer);
            if (prefix == Method.Length && reader.TryReadTo(out ReadOnlySequence<byte> head, EndOfHead, advancePastDelimiter: true))
            {
                var parsed = Parse(head); // before advancing: the consumed memory goes back to the pool
                input.AdvanceTo(reader.Position);
                return parsed;
            }

            if (buffer.Length > MaxHeadLength || read.IsCompleted)
            {
                input.AdvanceTo(buffer.End);
                return (ConnectStatus.Malformed, default, null);
            }

            input.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    private static (ConnectStatus, OriginalDestination, string?) Parse(ReadOnlySequence<byte> head)
    {
        if (head.Length > MaxHeadLength)
        {
            return (ConnectStatus.Malformed, default, null);
        }

        Span<byte> bytes = stackalloc byte[(int)head.Length];
        head.CopyTo(bytes);
        var lineEnd = bytes.IndexOf("\r\n"u8);
        var line = lineEnd < 0 ? bytes : bytes[..lineEnd];
        var rest = line[Method.Length..];
        var space = rest.IndexOf((byte)' ');
        var target = space < 0 ? rest : rest[..space];
        var version = space < 0 ? default : rest[(space + 1)..];
        var raw = Printable(target);
        if (space < 0 || !(version.SequenceEqual("HTTP/1.1"u8) || version.SequenceEqual("HTTP/1.0"u8)))
        {
            return (ConnectStatus.Malformed, default, raw);
        }

        return OriginalDestination.TryParse(raw, defaultPort: 0, out var destination)
            ? (ConnectStatus.Connect, destination, raw)
            : (ConnectStatus.Malformed, default, raw);
    }

    /// <summary>The target as text for the log: non-printable bytes become '?', at most 255 characters.</summary>
    private static string Printable(ReadOnlySpan<byte> target)
    {
        var text = new StringBuilder(Math.Min(target.Length, 255));
        foreach (var b in target[..Math.Min(target.Length, 255)])
        {
            text.Append(b is >= 0x21 and < 0x7f ? (char)b : '?');
        }

        return text.ToString();
    }

    private static bool StartsWith(ReadOnlySequence<byte> buffer, ReadOnlySpan<byte> prefix)
    {
        if (buffer.FirstSpan.Length >= prefix.Length)
        {
            return buffer.FirstSpan.StartsWith(prefix);
        }

        Span<byte> first = stackalloc byte[prefix.Length];
        buffer.Slice(0, prefix.Length).CopyTo(first);
        return first.SequenceEqual(prefix);
    }
}

using System.Buffers;
using System.Text;

namespace Meshgate.Proxy.Listeners;

/// <summary>What a peek at the start of a TLS connection found.</summary>
public enum ClientHelloStatus
{
    /// <summary>The ClientHello is complete; <see cref="ClientHello"/> holds what it said.</summary>
    Complete,

    /// <summary>More bytes are needed (the hello spans several TCP segments or TLS records).</summary>
    Incomplete,

    /// <summary>The bytes are not a TLS ClientHello (or break its framing).</summary>
    Invalid,
}

/// <summary>The parts of a ClientHello routing needs. <see cref="ServerName"/> is null when the client sent no SNI.</summary>
/// <param name="MeshTunnel">ALPN offers <c>istio</c>: the mesh's own mutual TLS from another proxy (RFC 7301).</param>
public readonly record struct ClientHello(string? ServerName, int Length, bool MeshTunnel = false);

/// <summary>
/// Reads a TLS ClientHello without consuming it, to route by SNI (RFC 6066 §3) and pass the bytes on
/// untouched. Handles a hello split over several TCP segments and over several TLS records
/// (RFC 8446 §5.1 lets a handshake message span records, as large post-quantum hellos do).
/// Never throws on bad input: it answers <see cref="ClientHelloStatus.Invalid"/>.
/// </summary>
public static class ClientHelloReader
{
    /// <summary>The most bytes a peek may hold; a hello larger than this is refused (64 KiB, above any real one).</summary>
    public const int MaxHelloBytes = 64 * 1024;

    private const byte ContentTypeHandshake = 22;
    private const byte HandshakeTypeClientHello = 1;
    private const ushort ExtensionServerName = 0;
    private const ushort ExtensionAlpn = 16;

    // The mesh tunnel's ALPN protocol name, as it appears in the protocol list (Meshgate.Core UpstreamTls.TunnelProtocol).
    private static ReadOnlySpan<byte> TunnelProtocol => "istio"u8;

    public static ClientHelloStatus TryRead(ReadOnlySequence<byte> buffer, out ClientHello hello)
    {
        hello = default;
        if (buffer.Length > MaxHelloBytes + 5 * 64)
        {
            buffer = buffer.Slice(0, MaxHelloBytes + 5 * 64);
        }

        // Gather the handshake bytes from consecutive handshake records.
        byte[]? rented = null;
        try
        {
            var reader = new SequenceReader<byte>(buffer);
            var handshake = ArrayPool<byte>.Shared.Rent(Math.Min((int)buffer.Length, MaxHelloBytes));
            rented = handshake;
            var collected = 0;
            var needed = -1; // total handshake message length (header + body), once known
            while (needed < 0 || collected < needed)
            {
                if (!reader.TryRead(out var contentType))
                {
                    return ClientHelloStatus.Incomplete;
                }

                if (contentType != ContentTypeHandshake)
                {
                    return ClientHelloStatus.Invalid;
                }

                if (!reader.TryRead(out var major) || !reader.TryRead(out _))
                {
                    return ClientHelloStatus.Incomplete;
                }

                if (major != 3)
                {
                    return ClientHelloStatus.Invalid;
                }

                if (!reader.TryReadBigEndian(out short recordLength))
                {
                    return ClientHelloStatus.Incomplete;
                }

                var length = (ushort)recordLength;
                if (length == 0 || length > 16384 + 2048)
                {
                    return ClientHelloStatus.Invalid; // RFC 8446 §5.1: records hold at most 2^14 bytes (plus expansion)
                }

                var take = (int)Math.Min(length, reader.Remaining);
                if (collected + take > handshake.Length)
                {
                    return ClientHelloStatus.Invalid;
                }

                reader.UnreadSequence.Slice(0, take).CopyTo(handshake.AsSpan(collected));
                reader.Advance(take);
                collected += take;
                if (needed < 0 && collected >= 4)
                {
                    if (handshake[0] != HandshakeTypeClientHello)
                    {
                        return ClientHelloStatus.Invalid;
                    }

                    needed = 4 + (handshake[1] << 16 | handshake[2] << 8 | handshake[3]);
                    if (needed > MaxHelloBytes)
                    {
                        return ClientHelloStatus.Invalid;
                    }
                }

                if (take < length)
                {
                    return ClientHelloStatus.Incomplete; // this record is not all here yet
                }
            }

            var consumed = (int)(buffer.Length - reader.Remaining);
            return ParseClientHello(handshake.AsSpan(4, needed - 4), out var serverName, out var tunnel)
                ? Complete(serverName, consumed, tunnel, out hello)
                : ClientHelloStatus.Invalid;
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    private static ClientHelloStatus Complete(string? serverName, int length, bool tunnel, out ClientHello hello)
    {
        hello = new ClientHello(serverName, length, tunnel);
        return ClientHelloStatus.Complete;
    }

    /// <summary>RFC 8446 §4.1.2: version, random, session id, cipher suites, compression, extensions.</summary>
    private static bool ParseClientHello(ReadOnlySpan<byte> body, out string? serverName, out bool tunnel)
    {
        serverName = null;
        tunnel = false;
        var p = 2 + 32; // legacy_version, random
        if (!Skip8(body, ref p) || !Skip16(body, ref p) || !Skip8(body, ref p))
        {
            return false;
        }

        if (p == body.Length)
        {
            return true; // no extensions at all
        }

        if (!Read16(body, ref p, out var extensionsLength) || p + extensionsLength > body.Length)
        {
            return false;
        }

        var end = p + extensionsLength;
        while (p < end)
        {
            if (!Read16(body, ref p, out var type) || !Read16(body, ref p, out var length) || p + length > end)
            {
                return false;
            }

            if (type == ExtensionServerName && !ParseServerName(body.Slice(p, length), out serverName))
            {
                return false;
            }

            if (type == ExtensionAlpn && !ParseAlpn(body.Slice(p, length), out tunnel))
            {
                return false;
            }

            p += length;
        }

        return p == end;
    }

    /// <summary>RFC 6066 §3: a list of (type, name); type 0 is a DNS host name in ASCII.</summary>
    private static bool ParseServerName(ReadOnlySpan<byte> extension, out string? serverName)
    {
        serverName = null;
        var p = 0;
        if (!Read16(extension, ref p, out var listLength) || listLength + 2 != extension.Length)
        {
            return false;
        }

        while (p < extension.Length)
        {
            if (p + 1 > extension.Length)
            {
                return false;
            }

            var nameType = extension[p++];
            if (!Read16(extension, ref p, out var length) || p + length > extension.Length)
            {
                return false;
            }

            if (nameType == 0)
            {
                var name = extension.Slice(p, length);
                foreach (var b in name)
                {
                    if (b is < 0x21 or > 0x7E)
                    {
                        return false; // host names are printable ASCII
                    }
                }

                serverName = Encoding.ASCII.GetString(name).TrimEnd('.').ToLowerInvariant();
                return serverName.Length > 0;
            }

            p += length;
        }

        return true;
    }

    /// <summary>RFC 7301 §3.1: a list of length-prefixed protocol names; true in <paramref name="tunnel"/> when <c>istio</c> is one.</summary>
    private static bool ParseAlpn(ReadOnlySpan<byte> extension, out bool tunnel)
    {
        tunnel = false;
        var p = 0;
        if (!Read16(extension, ref p, out var listLength) || listLength + 2 != extension.Length)
        {
            return false;
        }

        while (p < extension.Length)
        {
            var length = extension[p++];
            if (length == 0 || p + length > extension.Length)
            {
                return false;
            }

            tunnel |= extension.Slice(p, length).SequenceEqual(TunnelProtocol);
            p += length;
        }

        return true;
    }

    private static bool Skip8(ReadOnlySpan<byte> s, ref int p)
    {
        if (p >= s.Length)
        {
            return false;
        }

        p += 1 + s[p];
        return p <= s.Length;
    }

    private static bool Skip16(ReadOnlySpan<byte> s, ref int p)
    {
        if (!Read16(s, ref p, out var length))
        {
            return false;
        }

        p += length;
        return p <= s.Length;
    }

    private static bool Read16(ReadOnlySpan<byte> s, ref int p, out int value)
    {
        if (p + 2 > s.Length)
        {
            value = 0;
            return false;
        }

        value = s[p] << 8 | s[p + 1];
        p += 2;
        return true;
    }
}

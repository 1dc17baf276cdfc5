namespace Meshgate.Proxy.Forwarding;

/// <summary>
/// <c>x-request-id</c> values: random (version 4) UUIDs, as Envoy generates them. Envoy draws them from its own
/// pseudo-random generator (a request id names a request, it guards nothing); so does this, with the runtime's
/// xoshiro generator, where <see cref="Guid.NewGuid"/> costs a system call per request.
/// </summary>
internal static class RequestIds
{
    public static string NewV4()
    {
        Span<byte> bytes = stackalloc byte[16];
        Random.Shared.NextBytes(bytes);

        // Guid's byte layout is little-endian in its first three fields: byte 7 holds the version's nibble (the 13th hex
        // digit) and byte 8 the variant's bits (the 17th), as RFC 9562 §5.4 places them.
        bytes[7] = (byte)((bytes[7] & 0x0F) | 0x40);
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80);
        return new Guid(bytes).ToString();
    }
}

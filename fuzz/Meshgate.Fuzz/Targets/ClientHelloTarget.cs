using System.Buffers;

using Meshgate.Proxy.Listeners;

namespace Meshgate.Fuzz.Targets;

/// <summary>
/// <see cref="ClientHelloReader.TryRead"/> never throws, and reads the same hello whether the bytes arrive in one
/// segment or in many (a hello split over TCP segments).
/// </summary>
public static class ClientHelloTarget
{
    public static void Run(ReadOnlySpan<byte> input)
    {
        var bytes = input.ToArray();
        var whole = ClientHelloReader.TryRead(new ReadOnlySequence<byte>(bytes), out var hello);
        var split = ClientHelloReader.TryRead(Segments.Split(bytes, 7), out var splitHello);
        if (whole != split || hello != splitHello)
        {
            throw new FuzzAssertionException($"one segment read {whole} {hello}, 7-byte segments {split} {splitHello}");
        }

        if (whole == ClientHelloStatus.Complete && (hello.Length <= 0 || hello.Length > bytes.Length))
        {
            throw new FuzzAssertionException($"a complete hello of {hello.Length} bytes in {bytes.Length} bytes of input");
        }
    }
}

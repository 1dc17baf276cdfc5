using System.Numerics;
using System.Text;

namespace Meshgate.Proxy.Observability;

/// <summary>Prints <see cref="ResponseFlags"/> as Envoy does: short codes in bit order, joined by ','; '-' when none.</summary>
public static class ResponseFlagsFormat
{
    /// <summary>Enough for every flag at once.</summary>
    internal const int MaxLength = 128;

    // Indexed by bit position; ResponseFlags documents each code.
    private static readonly byte[][] s_codes =
    [
        "LH"u8.ToArray(), "UH"u8.ToArray(), "UT"u8.ToArray(), "LR"u8.ToArray(), "UR"u8.ToArray(),
        "UF"u8.ToArray(), "UC"u8.ToArray(), "UO"u8.ToArray(), "NR"u8.ToArray(), "DI"u8.ToArray(),
        "FI"u8.ToArray(), "RL"u8.ToArray(), "UAEX"u8.ToArray(), "RLSE"u8.ToArray(), "DC"u8.ToArray(),
        "URX"u8.ToArray(), "SI"u8.ToArray(), "IH"u8.ToArray(), "DPE"u8.ToArray(), "UMSDR"u8.ToArray(),
        "RFCF"u8.ToArray(), "NFCF"u8.ToArray(), "DT"u8.ToArray(), "UPE"u8.ToArray(), "NC"u8.ToArray(),
        "OM"u8.ToArray(), "DF"u8.ToArray(), "DO"u8.ToArray(), "DR"u8.ToArray(), "SSRF"u8.ToArray(), "DFB"u8.ToArray(),
    ];

    /// <summary>The flags as Envoy prints them, e.g. <c>UF,URX</c>, or <c>-</c>.</summary>
    public static string ToShortString(this ResponseFlags flags)
    {
        Span<byte> buffer = stackalloc byte[MaxLength];
        return Encoding.ASCII.GetString(buffer[..Write(flags, buffer)]);
    }

    /// <summary>Writes the flags as UTF-8 into <paramref name="destination"/> (at least <see cref="MaxLength"/> bytes).</summary>
    internal static int Write(ResponseFlags flags, Span<byte> destination)
    {
        var bits = (uint)flags;
        if (bits == 0)
        {
            destination[0] = (byte)'-';
            return 1;
        }

        var written = 0;
        while (bits != 0)
        {
            var position = BitOperations.TrailingZeroCount(bits);
            bits &= bits - 1;
            if (position >= s_codes.Length)
            {
                continue; // not an Envoy flag: nothing to print
            }

            if (written > 0)
            {
                destination[written++] = (byte)',';
            }

            s_codes[position].CopyTo(destination[written..]);
            written += s_codes[position].Length;
        }

        if (written == 0)
        {
            destination[0] = (byte)'-';
            written = 1;
        }

        return written;
    }
}

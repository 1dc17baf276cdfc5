using System.Text;

namespace Meshgate.Proxy.Upstream;

/// <summary>
/// The name and value strings of the headers of the last response on one upstream connection, by position. An origin
/// answers a kept-alive connection with the same headers again and again (Server, Content-Type, ...): a header line
/// whose bytes equal the one at its position last time reuses its strings, so only what changed (Date, once a second)
/// is made into new strings. Used by one request at a time, as its connection is.
/// </summary>
internal sealed class ResponseHeaderStrings
{
    private const int MaxCached = 32;

    private readonly byte[]?[] _lines = new byte[]?[MaxCached];
    private readonly int[] _lengths = new int[MaxCached];
    private readonly string?[] _names = new string?[MaxCached];
    private readonly string?[] _values = new string?[MaxCached];

    /// <summary>
    /// The strings for the header line at <paramref name="index"/> of a response, whose name is
    /// <c>line[..colon]</c> and whose value (trimmed) is <c>line[valueStart..valueEnd]</c>.
    /// </summary>
    public (string Name, string Value) Get(int index, ReadOnlySpan<byte> line, int colon, int valueStart, int valueEnd)
    {
        if (index >= MaxCached)
        {
            return (Ascii(line[..colon]), Ascii(line[valueStart..valueEnd]));
        }

        if (_lines[index] is { } cached && _lengths[index] == line.Length && line.SequenceEqual(cached.AsSpan(0, line.Length)))
        {
            return (_names[index]!, _values[index]!);
        }

        var previousName = _names[index];
        var name = previousName is not null && previousName.Length == colon && Matches(previousName, line[..colon])
            ? previousName
            : Ascii(line[..colon]);
        var value = Ascii(line[valueStart..valueEnd]);
        var bytes = _lines[index];
        if (bytes is null || bytes.Length < line.Length)
        {
            bytes = new byte[Math.Max(line.Length, 64)];
            _lines[index] = bytes;
        }

        line.CopyTo(bytes);
        _lengths[index] = line.Length;
        _names[index] = name;
        _values[index] = value;
        return (name, value);
    }

    private static bool Matches(string name, ReadOnlySpan<byte> bytes)
    {
        for (var i = 0; i < bytes.Length; i++)
        {
            if (name[i] != bytes[i])
            {
                return false;
            }
        }

        return true;
    }

    // The parser lets through only visible ASCII, spaces and tabs (Http1ResponseHead), so ASCII decodes every byte.
    private static string Ascii(ReadOnlySpan<byte> bytes) => bytes.Length == 0 ? string.Empty : Encoding.ASCII.GetString(bytes);
}

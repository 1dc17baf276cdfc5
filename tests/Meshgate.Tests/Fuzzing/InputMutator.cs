namespace Meshgate.Tests.Fuzzing;

/// <summary>
/// Deterministic mutations of corpus files, in the spirit of AFL's havoc stage: bit flips, interesting bytes, inserts,
/// deletes, duplicated runs, splices with another file and truncation, one to four stacked per input. The same seed
/// gives the same inputs on every machine, so a failure reproduces from its index alone.
/// </summary>
internal sealed class InputMutator(IReadOnlyList<byte[]> corpus, int seed)
{
    // Bytes that end or open structure in the formats under test (JSON, YAML, HTTP, TLS lengths).
    private static readonly byte[] Interesting = [0x00, 0x01, 0x7f, 0x80, 0xff, (byte)'"', (byte)'{', (byte)'}', (byte)'[', (byte)']',
        (byte)':', (byte)',', (byte)'\n', (byte)'\r', (byte)' ', (byte)'-', (byte)'&', (byte)'*', (byte)'\\', (byte)'0', (byte)'9'];

    private readonly Random _random = new(seed);

    public byte[] Next()
    {
        var bytes = new List<byte>(corpus.Count == 0 ? [] : corpus[_random.Next(corpus.Count)]);
        var rounds = 1 + _random.Next(4);
        for (var i = 0; i < rounds; i++)
        {
            Mutate(bytes);
        }

        return [.. bytes];
    }

    private void Mutate(List<byte> bytes)
    {
        var at = bytes.Count == 0 ? 0 : _random.Next(bytes.Count);
        switch (_random.Next(7))
        {
            case 0 when bytes.Count > 0:
                bytes[at] ^= (byte)(1 << _random.Next(8));
                break;
            case 1 when bytes.Count > 0:
                bytes[at] = Interesting[_random.Next(Interesting.Length)];
                break;
            case 2:
                var inserted = new byte[1 + _random.Next(8)];
                _random.NextBytes(inserted);
                bytes.InsertRange(at, inserted);
                break;
            case 3 when bytes.Count > 0:
                bytes.RemoveRange(at, Math.Min(bytes.Count - at, 1 + _random.Next(16)));
                break;
            case 4 when bytes.Count > 0:
                var length = Math.Min(bytes.Count - at, 1 + _random.Next(32));
                bytes.InsertRange(_random.Next(bytes.Count + 1), bytes.GetRange(at, length));
                break;
            case 5 when corpus.Count > 0:
                var other = corpus[_random.Next(corpus.Count)];
                var from = other.Length == 0 ? 0 : _random.Next(other.Length);
                bytes.RemoveRange(at, bytes.Count - at);
                bytes.AddRange(other.AsSpan(from).ToArray());
                break;
            case 6 when bytes.Count > 0:
                bytes.RemoveRange(at, bytes.Count - at);
                break;
            default:
                bytes.Insert(at, Interesting[_random.Next(Interesting.Length)]);
                break;
        }
    }
}

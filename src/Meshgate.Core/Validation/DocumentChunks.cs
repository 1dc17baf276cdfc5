namespace Meshgate.Core.Validation;

/// <summary>
/// Cuts a large YAML stream into a few texts at document markers (a line that is only <c>---</c>), so the parts can be
/// read and validated on several cores. YAML scopes anchors to their document, so each part reads as it would inside
/// the whole; texts this cannot be sure of (directives, document end markers, merge keys, whose expansion YamlDotNet
/// caps per stream) are not cut. A part's line and document numbers start again at 1: callers use the parts only when
/// they have nothing to report, and read the whole text otherwise (<see cref="ResourceParser.ParseText"/>).
/// </summary>
internal static class DocumentChunks
{
    /// <summary>Texts shorter than this are read in one pass: cutting them would gain less than it costs.</summary>
    internal const int MinimumLength = 256 * 1024;

    /// <summary>Each part is at least this long, so a part is worth a thread.</summary>
    private const int MinimumPartLength = 128 * 1024;

    /// <summary>The parts in order (their concatenation is <paramref name="text"/>), or null when it is read whole.</summary>
    public static IReadOnlyList<string>? Split(string text, int? parts = null)
    {
        var count = Math.Min(parts ?? Environment.ProcessorCount, text.Length / MinimumPartLength);
        if (text.Length < MinimumLength || count < 2 || !Cuttable(text))
        {
            return null;
        }

        var chunks = new List<string>(count);
        var start = 0;
        for (var i = 1; i < count && start < text.Length; i++)
        {
            var cut = NextMarker(text, Math.Max(start, (int)((long)text.Length * i / count)));
            if (cut < 0)
            {
                break;
            }

            if (cut > start)
            {
                chunks.Add(text[start..cut]);
                start = cut;
            }
        }

        chunks.Add(text[start..]);
        return chunks.Count < 2 ? null : chunks;
    }

    /// <summary>
    /// False for streams with a byte order mark, a directive (<c>%YAML</c>, <c>%TAG</c>: they belong to the document after
    /// them), a document end marker (<c>...</c>) or a merge key.
    /// </summary>
    private static bool Cuttable(string text) =>
        !text.StartsWith('\uFEFF') && !text.StartsWith('%') && !text.StartsWith("...", StringComparison.Ordinal)
        && !text.Contains("\n%", StringComparison.Ordinal) && !text.Contains("\n...", StringComparison.Ordinal)
        && !text.Contains("<<", StringComparison.Ordinal);

    /// <summary>Where the first line at or after <paramref name="from"/> that is exactly <c>---</c> starts; -1 when none.</summary>
    private static int NextMarker(string text, int from)
    {
        var at = from;
        while (true)
        {
            at = text.IndexOf("\n---", at, StringComparison.Ordinal);
            if (at < 0)
            {
                return -1;
            }

            var end = at + 4;
            if (end == text.Length || text[end] == '\n' || (text[end] == '\r' && end + 1 < text.Length && text[end + 1] == '\n'))
            {
                return at + 1;
            }

            at = end;
        }
    }
}

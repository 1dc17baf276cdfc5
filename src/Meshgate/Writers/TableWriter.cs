namespace Meshgate.Writers;

/// <summary>kubectl's plain tables: upper-case headers, columns padded and separated by three spaces.</summary>
public static class TableWriter
{
    public static string Write(IReadOnlyList<string> headers, IReadOnlyList<IReadOnlyList<string>> rows)
    {
        var widths = headers.Select(h => h.Length).ToArray();
        foreach (var row in rows)
        {
            for (var i = 0; i < widths.Length && i < row.Count; i++)
            {
                widths[i] = Math.Max(widths[i], row[i].Length);
            }
        }

        var text = new System.Text.StringBuilder();
        WriteRow(text, headers, widths);
        foreach (var row in rows)
        {
            WriteRow(text, row, widths);
        }

        return text.ToString();
    }

    private static void WriteRow(System.Text.StringBuilder text, IReadOnlyList<string> cells, int[] widths)
    {
        for (var i = 0; i < cells.Count; i++)
        {
            if (i == cells.Count - 1)
            {
                text.Append(cells[i]);
            }
            else
            {
                text.Append(cells[i].PadRight(widths[i] + 3));
            }
        }

        text.Append('\n');
    }
}

using System.Globalization;

namespace Meshgate.Core.Validation;

/// <summary>Go's duration syntax (<c>time.ParseDuration</c>), which Istio's and Gateway API's duration fields accept.</summary>
public static class Durations
{
    public static bool TryParse(string text, out TimeSpan result)
    {
        result = TimeSpan.Zero;
        if (text.Length == 0)
        {
            return false;
        }

        if (text == "0")
        {
            return true;
        }

        var total = 0.0; // in nanoseconds
        var i = 0;
        while (i < text.Length)
        {
            var start = i;
            while (i < text.Length && (char.IsAsciiDigit(text[i]) || text[i] == '.'))
            {
                i++;
            }

            if (start == i || !double.TryParse(text.AsSpan(start, i - start), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number))
            {
                return false;
            }

            var unitStart = i;
            while (i < text.Length && char.IsAsciiLetter(text[i]) || i < text.Length && text[i] == 'µ')
            {
                i++;
            }

            double scale = text[unitStart..i] switch
            {
                "ns" => 1,
                "us" or "µs" => 1e3,
                "ms" => 1e6,
                "s" => 1e9,
                "m" => 60e9,
                "h" => 3600e9,
                _ => -1,
            };
            if (scale < 0)
            {
                return false;
            }

            total += number * scale;
        }

        if (total > TimeSpan.MaxValue.Ticks * 100.0)
        {
            return false;
        }

        result = TimeSpan.FromTicks((long)(total / 100));
        return true;
    }
}

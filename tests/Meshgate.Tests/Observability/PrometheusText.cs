using System.Globalization;
using System.Text.RegularExpressions;
using Xunit;

namespace Meshgate.Tests.Observability;

/// <summary>One sample of a Prometheus text exposition.</summary>
public sealed record PrometheusSample(string Name, IReadOnlyDictionary<string, string> Labels, double Value);

/// <summary>
/// A strict reader of the Prometheus text exposition format 0.0.4: every line must be a HELP or TYPE comment or a
/// sample with well-formed name, labels and value; each family is typed once before its samples; histograms have
/// cumulative buckets ending in <c>+Inf</c> equal to <c>_count</c>. Fails the test on the first violation.
/// </summary>
public static partial class PrometheusText
{
    public static IReadOnlyList<PrometheusSample> Parse(string text)
    {
        Assert.EndsWith("\n", text, StringComparison.Ordinal);
        var types = new Dictionary<string, string>(StringComparer.Ordinal);
        var samples = new List<PrometheusSample>();
        var lines = text[..^1].Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i];
            if (line.StartsWith('#'))
            {
                var comment = Comment().Match(line);
                Assert.True(comment.Success, $"line {i + 1}: not a HELP or TYPE comment: {line}");
                if (comment.Groups["kind"].Value == "TYPE")
                {
                    Assert.True(types.TryAdd(comment.Groups["name"].Value, comment.Groups["rest"].Value), $"line {i + 1}: {comment.Groups["name"].Value} typed twice");
                    Assert.Contains(comment.Groups["rest"].Value, new[] { "counter", "gauge", "histogram", "summary", "untyped" });
                }

                continue;
            }

            var sample = Sample().Match(line);
            Assert.True(sample.Success, $"line {i + 1}: not a sample: {line}");
            var labels = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (Match label in Label().Matches(sample.Groups["labels"].Value))
            {
                Assert.True(labels.TryAdd(label.Groups["name"].Value, Unescape(label.Groups["value"].Value)), $"line {i + 1}: label {label.Groups["name"].Value} twice");
            }

            var name = sample.Groups["name"].Value;
            var family = types.Keys.FirstOrDefault(f => name == f || (types[f] == "histogram" && (name == f + "_bucket" || name == f + "_sum" || name == f + "_count")));
            Assert.True(family is not null, $"line {i + 1}: {name} has no TYPE before it");
            var value = sample.Groups["value"].Value switch
            {
                "+Inf" => double.PositiveInfinity,
                "-Inf" => double.NegativeInfinity,
                "NaN" => double.NaN,
                var number => double.Parse(number, NumberStyles.Float, CultureInfo.InvariantCulture),
            };
            samples.Add(new PrometheusSample(name, labels, value));
        }

        CheckHistograms(samples, types);
        return samples;
    }

    /// <summary>The samples of <paramref name="name"/> whose labels include all of <paramref name="labels"/>.</summary>
    public static IEnumerable<PrometheusSample> Where(this IEnumerable<PrometheusSample> samples, string name, params (string Name, string Value)[] labels) =>
        samples.Where(s => s.Name == name && labels.All(l => s.Labels.TryGetValue(l.Name, out var v) && v == l.Value));

    private static void CheckHistograms(List<PrometheusSample> samples, Dictionary<string, string> types)
    {
        foreach (var histogram in types.Where(t => t.Value == "histogram").Select(t => t.Key))
        {
            var series = samples.Where(s => s.Name == histogram + "_bucket")
                .GroupBy(s => string.Join(',', s.Labels.Where(l => l.Key != "le").OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => $"{l.Key}={l.Value}")));
            foreach (var buckets in series)
            {
                var previous = 0.0;
                foreach (var bucket in buckets)
                {
                    Assert.True(bucket.Value >= previous, $"{histogram}: buckets not cumulative at le={bucket.Labels["le"]}");
                    previous = bucket.Value;
                }

                Assert.Equal("+Inf", buckets.Last().Labels["le"]);
                var count = samples.Single(s => s.Name == histogram + "_count"
                    && string.Join(',', s.Labels.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => $"{l.Key}={l.Value}")) == buckets.Key);
                Assert.Equal(buckets.Last().Value, count.Value);
            }
        }
    }

    private static string Unescape(string value) =>
        value.Replace("\\n", "\n", StringComparison.Ordinal).Replace("\\\"", "\"", StringComparison.Ordinal).Replace("\\\\", "\\", StringComparison.Ordinal);

    [GeneratedRegex("""^# (?<kind>HELP|TYPE) (?<name>[a-zA-Z_:][a-zA-Z0-9_:]*) (?<rest>.*)$""")]
    private static partial Regex Comment();

    [GeneratedRegex("""^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>([a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\[\\"n])*",?)*)\})? (?<value>[-+]?(\d+(\.\d+)?([eE][-+]?\d+)?|Inf|NaN))$""")]
    private static partial Regex Sample();

    [GeneratedRegex(@"(?<name>[a-zA-Z_][a-zA-Z0-9_]*)=""(?<value>([^""\\\n]|\\[\\""n])*)""")]
    private static partial Regex Label();
}

using System.Diagnostics;
using System.Globalization;
using System.Text;
using Meshgate.ControlPlane.Push;
using Meshgate.ControlPlane.Store;
using Meshgate.Core.Resources;
using Meshgate.Core.Validation;
using Meshgate.Core.Yaml;
using Meshgate.Tests.Translation;
using Xunit;
using Xunit.Abstractions;

namespace Meshgate.Tests.ControlPlane;

/// <summary>
/// The server's side of bench/scale.sh in one process: 10,000 ServiceEntries and 10,000 VirtualServices read,
/// validated, stored in one transaction and translated, then one more ServiceEntry. Each stage's time is printed
/// (never asserted) so the apply path's cost can be read stage by stage.
/// </summary>
public sealed class ApplyScaleTests(ITestOutputHelper output) : IDisposable
{
    private const int Count = 10_000;

    private readonly string _data = Directory.CreateTempSubdirectory("meshgate-apply-scale-").FullName;

    public void Dispose() => Directory.Delete(_data, recursive: true);

    /// <summary>The same configuration bench/scale.sh applies.</summary>
    public static string Config(int count)
    {
        var text = new StringBuilder();
        for (var i = 0; i < count; i++)
        {
            text.Append("""
                apiVersion: networking.istio.io/v1
                kind: ServiceEntry
                metadata:
                  name: svc-@I
                spec:
                  hosts: [svc-@I.example.com]
                  ports: [{number: 80, name: http, protocol: HTTP}]
                  resolution: DNS
                ---
                apiVersion: networking.istio.io/v1
                kind: VirtualService
                metadata:
                  name: svc-@I
                spec:
                  hosts: [svc-@I.example.com]
                  http:
                  - name: svc-@I
                    timeout: 5s
                    route:
                    - destination: {host: svc-@I.example.com, port: {number: 80}}
                ---

                """.Replace("@I", i.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal));
        }

        return text.ToString();
    }

    [Fact]
    public void Apply_TwentyThousandObjects_StoredOnceAndTranslated()
    {
        var yaml = Config(Count);
        using var store = ResourceStore.Open(_data);
        var timings = new List<string>();
        T Timed<T>(string stage, Func<T> work)
        {
            var wall = Stopwatch.StartNew();
            var result = work();
            timings.Add($"  {stage}: {wall.ElapsedMilliseconds} ms");
            return result;
        }

        var documents = Timed("YAML read (YamlReader.Read)", () => YamlReader.Read(yaml, "config.yaml"));
        var parsed = Timed("YAML read + validate (ResourceParser.ParseText)", () => ResourceParser.ParseText(yaml, "config.yaml"));
        var outcomes = Timed("store (ResourceStore.Apply, one transaction)", () => store.Apply(parsed.Resources));
        var node = TranslationFixtures.Sleep();
        var first = Timed("first translation at the revision (registry + specs)", () => PushService.Translate(store.Current, node, "1"));
        var again = Timed("same key again", () => PushService.Translate(store.Current, node with { Namespace = "other" }, "1"));
        var more = ResourceParser.ParseText(Config(1).Replace("svc-0", "one-more", StringComparison.Ordinal), "more.yaml");
        Timed("one more ServiceEntry and VirtualService stored", () => store.Apply(more.Resources));
        var afterOne = Timed("first translation after it", () => PushService.Translate(store.Current, node, "2"));

        output.WriteLine($"{Count} ServiceEntries + {Count} VirtualServices ({yaml.Length / 1024} KiB of YAML), wall time per stage:");
        timings.ForEach(output.WriteLine);
        output.WriteLine($"  (load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]} on {Environment.ProcessorCount} cores)");

        Assert.Equal(2 * Count, documents.Count);
        Assert.True(parsed.Ok, string.Join("\n", parsed.Errors.Take(3)));
        Assert.Equal(2 * Count, outcomes.Count(o => o.Action == ApplyAction.Created));
        Assert.Equal(Count + 1, store.Current.List(ResourceTypes.ServiceEntry).Count);
        Assert.Equal(Count + 2, first.Clusters.Count); // + BlackHole and Passthrough
        Assert.Equal(first.Clusters.Count, again.Clusters.Count);
        Assert.Equal(Count + 3, afterOne.Clusters.Count);
    }
}

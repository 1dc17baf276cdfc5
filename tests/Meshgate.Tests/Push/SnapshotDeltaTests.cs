using System.Globalization;
using System.Text;
using Meshgate.ControlPlane.Push;
using Meshgate.Core.ProxyConfiguration;
using Meshgate.Tests.ControlPlane;
using Meshgate.Tests.ProxyConfiguration;
using Meshgate.Tests.Translation;
using Xunit;
using Xunit.Abstractions;

namespace Meshgate.Tests.Push;

/// <summary>
/// Deltas end to end in memory: the control plane's diff of two serialized snapshots (<see cref="SnapshotIndex.Diff"/>),
/// applied by the proxy's reader to the first (<see cref="ProxyConfigDelta.Apply"/>), must give the second exactly:
/// equal as a value, in the same order, byte for byte when written again.
/// </summary>
public sealed class SnapshotDeltaTests(ITestOutputHelper output)
{
    [Fact]
    public void DiffThenApply_RandomEdits_GiveTheNewSnapshotExactly()
    {
        var random = new Random(4242);
        int deltas = 0, refused = 0;
        for (var i = 0; i < 400; i++)
        {
            var before = Generated(random.Next(0, 40));
            var after = before;
            var reordered = false;
            var edits = new List<string>();
            for (var n = random.Next(1, 5); n > 0; n--)
            {
                (after, var edit, var reorders) = Edit(after, random);
                edits.Add(edit);
                reordered |= reorders;
            }

            after = after with { Version = "2" };
            var delta = Diff(before, after);
            if (delta is null)
            {
                Assert.True(reordered, $"case {i} ({string.Join(", ", edits)}): no delta, though nothing kept was reordered");
                refused++;
                continue;
            }

            AssertApplies(before, after, delta, $"case {i} ({string.Join(", ", edits)})");
            deltas++;
        }

        output.WriteLine($"{deltas} deltas applied exactly; {refused} cases reordered kept objects and got none (the whole snapshot goes instead)");
        Assert.True(deltas > 300);
    }

    [Fact]
    public void DiffThenApply_RealTranslationOfThreeHundredServices_SmallAndExact()
    {
        var node = TranslationFixtures.Sleep();
        var resources = TranslationFixtures.Parse(ApplyScaleTests.Config(300));
        var before = PushService.Translate(resources, node, "1");

        // One service more, one VirtualService routing elsewhere, one service gone.
        var documents = ApplyScaleTests.Config(301).Split("---\n")
            .Where(d => !d.Contains("[svc-5.example.com]", StringComparison.Ordinal))
            .Select(d => d.Replace("{host: svc-7.example.com,", "{host: svc-8.example.com,", StringComparison.Ordinal));
        var after = PushService.Translate(TranslationFixtures.Parse(string.Join("---\n", documents)), node, "2");
        Assert.Equal(before.Clusters.Count, after.Clusters.Count);

        var full = ProxyConfigLoader.ToJsonUtf8(after);
        var delta = Diff(before, after);
        Assert.NotNull(delta);
        output.WriteLine($"whole snapshot {full.Length} bytes, delta {delta.Length} bytes:\n{Encoding.UTF8.GetString(delta)}");
        Assert.True(delta.Length * 20 < full.Length, $"a delta of {delta.Length} bytes for a {full.Length}-byte snapshot");
        AssertApplies(before, after, delta, "300 services, one more");
    }

    [Fact]
    public void Diff_NothingChanged_WritesOnlyTheVersions()
    {
        var before = TestSnapshots.Gateway();
        var delta = Diff(before, before with { Version = "8" });

        Assert.Equal("""{"version":"8","baseVersion":"7"}""", Encoding.UTF8.GetString(delta!));
        var made = ProxyConfigDelta.Apply(before, delta);
        Assert.Equal(before with { Version = "8" }, made.Config);
        Assert.Same(before.Clusters[0], made.Config!.Clusters[0]);
    }

    [Fact]
    public void Apply_KeepsEveryUntouchedObjectAsTheSameInstance()
    {
        var before = TestSnapshots.Gateway();
        var after = before with
        {
            Version = "8",
            Clusters = before.Clusters.With(3, c => c with { ConnectTimeout = TimeSpan.FromSeconds(3) }),
        };

        var made = ProxyConfigDelta.Apply(before, Diff(before, after)).Config!;

        Assert.Equal(after, made);
        Assert.Same(before.Clusters[0], made.Clusters[0]);
        Assert.NotSame(before.Clusters[3], made.Clusters[3]);
        Assert.Same(before.RouteTables[0], made.RouteTables[0]);
        Assert.Same(before.Listeners[1], made.Listeners[1]);
    }

    [Fact]
    public void Build_TopLevelFieldItDoesNotIndex_RefusedRatherThanTakenForUnchanged()
    {
        var json = Encoding.UTF8.GetBytes("""{"version":"1","node":null,"listeners":null,"somethingNew":{"a":1}}""");

        // A field the index missed would make every change to it look like no change at all; the push logs the failure
        // and proxies keep their snapshot, which a test of the new field would show at once.
        Assert.Throws<InvalidOperationException>(() => SnapshotIndex.Build(json));
        var index = SnapshotIndex.Build(ProxyConfigLoader.ToJsonUtf8(TestSnapshots.Gateway()));
        Assert.Equal(6, index.Clusters.Items.Length);
        Assert.Equal(["edition.cnn.com:80", "blackhole"], index.RouteTables.Items[0].Children!.Items.Select(h => h.Name));
    }

    public static TheoryData<string, string> RefusedDeltas => new()
    {
        { """{"version":"8","baseVersion":"6"}""", "delta 8 applies to version 6, but this proxy runs 7" },
        { """{"version":"8","baseVersion":"7","clusters":{"remove":["nope"]}}""", "the delta removes cluster \"nope\", which the base version does not have" },
        { """{"version":"8","baseVersion":"7","clusters":{"remove":["static","static"]}}""", "the delta removes cluster \"static\" twice" },
        { """{"version":"8","baseVersion":"7","clusters":{"remove":["static"],"put":[{"index":0,"value":{"name":"static","discovery":"STATIC","endpoints":null,"connectTimeout":null,"tls":null}}]}}""", "the delta both removes and puts cluster \"static\"" },
        { """{"version":"8","baseVersion":"7","clusters":{"put":[{"index":7,"value":{"name":"new","discovery":"STATIC","endpoints":null,"connectTimeout":null,"tls":null}}]}}""", "the delta puts cluster \"new\" at index 7, which is not in 0-6 after the one before it" },
        { """{"version":"8","baseVersion":"7","routeTables":{"put":[{"index":0,"name":"http.8080","virtualHosts":{"remove":["none"]}}]}}""", "the delta removes virtual host of route table \"http.8080\" \"none\", which the base version does not have" },
        { """{"version":"8","baseVersion":"7","clusters":{"put":[{"index":0,"value":{"name":"x"}}]}}""", "the delta does not read as one at byte 82 (clusters.put[0])" },
        { """{"version":"8","baseVersion":"7","routeTables":{"put":[{"index":0,"name":"t","virtualHosts":{"put":[{"index":0,"value":7}]}}]}}""", "(routeTables.put[0].virtualHosts.put[0])" },
        { """{"version":"8","baseVersion":"7","listeners":{"put":[{"index":-1,"value":{}}]}}""", "the delta does not read as one at byte " },
        { """{"version":"8","baseVersion":"7","surprise":true}""", "the delta does not read as one at byte 33" },
        { """{"version":"8","baseVersion":"7",""", "the delta is not JSON at byte " },
        { "", "the delta is not JSON at byte 0" },
    };

    [Theory]
    [MemberData(nameof(RefusedDeltas))]
    public void Apply_BadDelta_RefusedWithWhereAndWhy(string delta, string expected)
    {
        var result = ProxyConfigDelta.Apply(TestSnapshots.Gateway(), Encoding.UTF8.GetBytes(delta));

        Assert.Null(result.Config);
        Assert.Contains(result.Errors, e => e.Contains(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void Apply_EveryTruncationOfARealDelta_RefusedWithoutThrowing()
    {
        var before = TestSnapshots.Gateway();
        var after = before with
        {
            Version = "8",
            Clusters = before.Clusters.With(0, c => c with { ConnectTimeout = TimeSpan.FromSeconds(3) }),
            RouteTables = before.RouteTables.With(0, t => t with { VirtualHosts = t.VirtualHosts.With(0, h => h with { Domains = ["cnn.example"] }) }),
        };
        var delta = Diff(before, after)!;

        for (var length = 0; length < delta.Length; length++)
        {
            Assert.Null(ProxyConfigDelta.Apply(before, delta.AsSpan(0, length)).Config);
        }

        Assert.Equal(after, ProxyConfigDelta.Apply(before, delta).Config);
    }

    private static byte[]? Diff(ProxyConfig before, ProxyConfig after) =>
        SnapshotIndex.Diff(SnapshotIndex.Build(ProxyConfigLoader.ToJsonUtf8(before)), before.Version, SnapshotIndex.Build(ProxyConfigLoader.ToJsonUtf8(after)), after.Version);

    /// <summary>The delta, applied to <paramref name="before"/> as the proxy read it, gives <paramref name="after"/> as the proxy would read it whole.</summary>
    private static void AssertApplies(ProxyConfig before, ProxyConfig after, byte[] delta, string what)
    {
        // Read without the consistency check: random edits leave dangling references, which deltas carry as they are.
        Assert.True(ProxyConfigReader.TryRead(ProxyConfigLoader.ToJsonUtf8(before), out var running));
        var made = ProxyConfigDelta.Apply(running, delta);
        Assert.True(made.Config is not null, $"{what}: {string.Join("; ", made.Errors)}\n{Encoding.UTF8.GetString(delta)}");
        var whole = ProxyConfigLoader.ToJsonUtf8(after);
        Assert.Equal(Encoding.UTF8.GetString(whole), Encoding.UTF8.GetString(ProxyConfigLoader.ToJsonUtf8(made.Config)));
        Assert.True(ProxyConfigReader.TryRead(whole, out var read));
        Assert.Equal(read, made.Config);
    }

    /// <summary>A snapshot with a little of everything, its lists long enough for edits to land anywhere.</summary>
    private static ProxyConfig Generated(int size)
    {
        var baseline = TestSnapshots.Gateway();
        var clusters = new List<Cluster>(baseline.Clusters);
        var hosts = new List<VirtualHost>(baseline.RouteTables[0].VirtualHosts);
        for (var i = 0; i < size; i++)
        {
            clusters.Add(NewCluster($"svc-{i}"));
            hosts.Insert(hosts.Count - 1, NewHost($"svc-{i}"));
        }

        return baseline with
        {
            Version = "1",
            Clusters = EquatableArray.From(clusters),
            RouteTables = [baseline.RouteTables[0] with { VirtualHosts = EquatableArray.From(hosts) }, new RouteTable { Name = "http.9090", VirtualHosts = [NewHost("other")] }],
        };
    }

    private static Cluster NewCluster(string name) => new()
    {
        Name = $"outbound|80||{name}.example.com",
        Discovery = ClusterDiscovery.StrictDns,
        Endpoints = [new Endpoint { Address = $"{name}.example.com", Port = 80 }],
    };

    private static VirtualHost NewHost(string name) => new()
    {
        Name = $"{name}.example.com:80",
        Domains = [$"{name}.example.com"],
        Routes = [new Route { Forward = new ForwardAction { Clusters = [new WeightedCluster { Name = $"outbound|80||{name}.example.com" }] } }],
    };

    private static int _serial;

    /// <summary>One random edit: what it did, and whether it moved objects that stay unchanged.</summary>
    private static (ProxyConfig Config, string What, bool Reorders) Edit(ProxyConfig config, Random random)
    {
        var fresh = $"new-{Interlocked.Increment(ref _serial).ToString(CultureInfo.InvariantCulture)}";
        switch (random.Next(13))
        {
            case 0:
                return (config with { Clusters = Insert(config.Clusters, NewCluster(fresh), random) }, "add cluster", false);
            case 1 when config.Clusters.Count > 0:
                return (config with { Clusters = RemoveAt(config.Clusters, random.Next(config.Clusters.Count)) }, "remove cluster", false);
            case 2 when config.Clusters.Count > 0:
                return (config with { Clusters = config.Clusters.With(random.Next(config.Clusters.Count), c => c with { ConnectTimeout = TimeSpan.FromSeconds(random.Next(1, 60)) }) }, "change cluster", false);
            case 3 when config.RouteTables.Count > 0:
                {
                    var t = random.Next(config.RouteTables.Count);
                    return (config with { RouteTables = config.RouteTables.With(t, table => table with { VirtualHosts = Insert(table.VirtualHosts, NewHost(fresh), random) }) }, "add virtual host", false);
                }

            case 4 when config.RouteTables.Count > 0 && config.RouteTables[0].VirtualHosts.Count > 0:
                return (config with { RouteTables = config.RouteTables.With(0, table => table with { VirtualHosts = RemoveAt(table.VirtualHosts, random.Next(table.VirtualHosts.Count)) }) }, "remove virtual host", false);
            case 5 when config.RouteTables.Count > 0 && config.RouteTables[0].VirtualHosts.Count > 0:
                return (config with
                {
                    RouteTables = config.RouteTables.With(0, table => table with
                    {
                        VirtualHosts = table.VirtualHosts.With(random.Next(table.VirtualHosts.Count), h => h with { Domains = [.. h.Domains, $"{fresh}.example.com"] }),
                    }),
                }, "change virtual host", false);
            case 6:
                return (config with { RouteTables = Insert(config.RouteTables, new RouteTable { Name = fresh, VirtualHosts = [NewHost(fresh)] }, random) }, "add route table", false);
            case 7 when config.RouteTables.Count > 0:
                return (config with { RouteTables = RemoveAt(config.RouteTables, random.Next(config.RouteTables.Count)) }, "remove route table", false);
            case 8:
                return (config with
                {
                    Listeners = Insert(config.Listeners, new Listener { Name = fresh, Address = "127.0.0.1", Port = random.Next(1024, 60000), Protocol = ListenerProtocol.Tcp, DefaultFilterChain = new FilterChain { Cluster = Cluster.BlackHole } }, random),
                }, "add listener", false);
            case 9 when config.Listeners.Count > 0:
                return (config with { Listeners = config.Listeners.With(random.Next(config.Listeners.Count), l => l with { Port = random.Next(1024, 60000) }) }, "change listener", false);
            case 10:
                return random.Next(2) == 0
                    ? (config with { Secrets = Insert(config.Secrets, new Secret { Name = fresh, TrustedCa = "ca" }, random) }, "add secret", false)
                    : (config with { Secrets = config.Secrets.IsEmpty ? config.Secrets : RemoveAt(config.Secrets, 0) }, "remove secret", false);
            case 11 when random.Next(2) == 0:
                return (config with { AccessLog = random.Next(3) == 0 ? null : new AccessLogSettings { Path = $"/tmp/{fresh}.log" } }, "change access log", false);
            case 11:
                return (config with { Egress = random.Next(3) == 0 ? null : new EgressSettings { AllowedCidrs = [$"10.{random.Next(256)}.0.0/16"] } }, "change egress", false);
            case 12 when config.Clusters.Count > 1:
                {
                    // Two neighbours swap places, unchanged.
                    var at = random.Next(config.Clusters.Count - 1);
                    var items = config.Clusters.ToArray();
                    (items[at], items[at + 1]) = (items[at + 1], items[at]);
                    return (config with { Clusters = EquatableArray.From(items) }, "swap clusters", true);
                }

            default:
                return (config with { Clusters = Insert(config.Clusters, NewCluster(fresh), random) }, "add cluster", false);
        }
    }

    private static EquatableArray<T> Insert<T>(EquatableArray<T> items, T item, Random random)
    {
        var list = new List<T>(items);
        list.Insert(random.Next(list.Count + 1), item);
        return EquatableArray.From(list);
    }

    private static EquatableArray<T> RemoveAt<T>(EquatableArray<T> items, int index)
    {
        var list = new List<T>(items);
        list.RemoveAt(index);
        return EquatableArray.From(list);
    }
}

using System.Collections.Immutable;
using System.Text;
using Meshgate.ControlPlane.Push;
using Meshgate.Core.ProxyConfiguration;
using Meshgate.Core.Resources;
using Meshgate.Core.Translation;
using Meshgate.Tests.Translation;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Meshgate.Tests.Push;

/// <summary>
/// Sidecars whose labels no configuration reads share one node key (<see cref="Translator.KeyFor"/>), so they are
/// translated once; a VirtualService matching on <c>sourceLabels</c> splits them again, and both still sync.
/// </summary>
public sealed class EffectiveNodeKeyTests
{
    private const string ServiceEntry = """
        apiVersion: networking.istio.io/v1
        kind: ServiceEntry
        metadata:
          name: cnn
        spec:
          hosts: [edition.cnn.com]
          ports: [{number: 80, name: http, protocol: HTTP}]
          resolution: DNS
        """;

    private const string SourceLabelsVirtualService = """
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata:
          name: cnn-for-sleep-a
        spec:
          hosts: [edition.cnn.com]
          http:
          - match: [{sourceLabels: {app: sleep-a}}]
            timeout: 3s
            route: [{destination: {host: edition.cnn.com}}]
          - route: [{destination: {host: edition.cnn.com}}]
        """;

    private const string SelectedDestinationRule = """
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata:
          name: cnn-for-sleep-a
        spec:
          host: edition.cnn.com
          workloadSelector: {matchLabels: {app: sleep-a}}
          trafficPolicy: {connectionPool: {tcp: {connectTimeout: 7s}}}
        """;

    private readonly FakeTimeProvider _time = new();
    private ResourceSet _resources = TranslationFixtures.Parse(ServiceEntry);
    private int _translations;

    private PushService Create() => new(() => _resources, null, Translate, _time, NullLogger.Instance);

    private ProxyConfig Translate(ResourceSet resources, ProxyNode node, string version)
    {
        Interlocked.Increment(ref _translations);
        return PushService.Translate(resources, node, version);
    }

    private static ProxyNode Sidecar(string name, string app, string ip, string ns = "default") => new()
    {
        Role = ProxyRole.Sidecar,
        Name = name,
        Namespace = ns,
        ServiceAccount = "sleep",
        Labels = ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, [KeyValuePair.Create("app", app)]),
        Addresses = [ip],
    };

    private void Apply(string yaml)
    {
        var objects = _resources.Objects.SetItems(TranslationFixtures.Parse(yaml).Objects);
        _resources = new ResourceSet(_resources.Revision + 1, objects);
    }

    /// <summary>What the proxy would do: take the snapshot in its outbox, send it and acknowledge it.</summary>
    private static PushedSnapshot Acknowledge(ProxyConnection connection)
    {
        Assert.True(connection.Outbox.TryRead(out var snapshot));
        Assert.False(connection.Outbox.TryRead(out _));
        connection.Sent(snapshot!);
        Assert.True(connection.Answered(snapshot!.Version, snapshot.Nonce, null));
        return snapshot;
    }

    /// <summary>The snapshot with the proxy's own node id taken out: what the key decides.</summary>
    private static string Content(PushedSnapshot snapshot, ProxyConnection connection) =>
        Encoding.UTF8.GetString(snapshot.ToBytes().Span).Replace(connection.Node.Id, "NODE", StringComparison.Ordinal);

    private static List<TimeSpan?> Timeouts(PushedSnapshot snapshot) =>
        [.. ProxyConfigLoader.Load(Encoding.UTF8.GetString(snapshot.ToBytes().Span), "sent").Config!.RouteTables
            .SelectMany(t => t.VirtualHosts).SelectMany(h => h.Routes).Select(r => r.Forward?.Timeout)];

    [Fact]
    public async Task PushAll_TwoSidecarsWithDifferentLabelsNothingReadsThem_OneTranslationSameSnapshot()
    {
        await using var push = Create();
        var a = push.Connect(Sidecar("sleep-a", "sleep-a", "10.0.0.1"), 15000, "test");
        var b = push.Connect(Sidecar("sleep-b", "sleep-b", "10.0.0.2"), 15000, "test");

        Assert.Equal(1, _translations);
        var sentA = Acknowledge(a);
        var sentB = Acknowledge(b);
        Assert.Equal(sentA.Version, sentB.Version);
        Assert.Equal(Content(sentA, a), Content(sentB, b));
        Assert.Contains("sleep-b.default", Encoding.UTF8.GetString(sentB.ToBytes().Span), StringComparison.Ordinal);
        Assert.True(push.IsSynced(_resources.Revision));

        _translations = 0;
        Apply(ServiceEntry.Replace("cnn", "cnn-2", StringComparison.Ordinal).Replace("edition.cnn-2.com", "edition.cnn.org", StringComparison.Ordinal));
        push.PushAll();

        Assert.Equal(1, _translations);
        Assert.Equal(Acknowledge(a).Version, Acknowledge(b).Version);
        Assert.True(push.IsSynced(_resources.Revision));

        // The status keeps naming each proxy's own key.
        Assert.Equal(["sidecar|default|sleep|app=sleep-a|explicit", "sidecar|default|sleep|app=sleep-b|explicit"], push.Statuses().Select(s => s.NodeKey));
        Assert.All(push.Statuses(), s => Assert.Equal(_resources.Revision, s.SyncedRevision));
    }

    [Fact]
    public async Task PushAll_VirtualServiceWithSourceLabelsAppears_SidecarsSplitAndBothSync()
    {
        await using var push = Create();
        var a = push.Connect(Sidecar("sleep-a", "sleep-a", "10.0.0.1"), 15000, "test");
        var b = push.Connect(Sidecar("sleep-b", "sleep-b", "10.0.0.2"), 15000, "test");
        Acknowledge(a);
        Acknowledge(b);
        _translations = 0;

        Apply(SourceLabelsVirtualService);
        Assert.False(push.IsSynced(_resources.Revision)); // not pushed yet: the keys moved
        push.PushAll();

        Assert.Equal(2, _translations);
        var sentA = Acknowledge(a);
        var sentB = Acknowledge(b);
        Assert.NotEqual(Content(sentA, a), Content(sentB, b));
        Assert.Contains(TimeSpan.FromSeconds(3), Timeouts(sentA)); // the sourceLabels rule, for sleep-a only
        Assert.DoesNotContain(TimeSpan.FromSeconds(3), Timeouts(sentB));
        Assert.True(push.IsSynced(_resources.Revision));
        Assert.All(push.Statuses(), s => Assert.Equal(_resources.Revision, s.SyncedRevision));

        // And back: without the VirtualService they share a key again, and sync again.
        _resources = new ResourceSet(_resources.Revision + 1, _resources.Objects.RemoveRange(
            _resources.Objects.Keys.Where(k => k.Type == ResourceTypes.VirtualService)));
        _translations = 0;
        push.PushAll();

        Assert.Equal(1, _translations);
        sentA = Acknowledge(a);
        sentB = Acknowledge(b);
        Assert.Equal(sentA.Version, sentB.Version);
        Assert.True(push.IsSynced(_resources.Revision));
    }

    [Fact]
    public async Task PushAll_UnackedAfterKeyChange_NotSynced()
    {
        await using var push = Create();
        var a = push.Connect(Sidecar("sleep-a", "sleep-a", "10.0.0.1"), 15000, "test");
        var b = push.Connect(Sidecar("sleep-b", "sleep-b", "10.0.0.2"), 15000, "test");
        Acknowledge(a);
        Acknowledge(b);

        Apply(SourceLabelsVirtualService);
        push.PushAll();
        Acknowledge(a);

        Assert.False(push.IsSynced(_resources.Revision)); // sleep-b was offered its new key's snapshot, not acknowledged
        Assert.Null(push.Statuses().Single(s => s.Name == "sleep-b").SyncedRevision);
    }

    [Fact]
    public async Task IsSynced_ProxyOfTheKeyConnectsBeforeThePush_TheOthersAreNotSyncedUntilOfferedTheNewVersion()
    {
        await using var push = Create();
        var a = push.Connect(Sidecar("sleep-a", "sleep-a", "10.0.0.1"), 15000, "test");
        var old = Acknowledge(a);

        // A change, then (before the debounced push) another sidecar of the same key connects: the key is
        // translated afresh for it, at the new revision, while sleep-a still runs the old version.
        Apply(ServiceEntry.Replace("cnn", "cnn-2", StringComparison.Ordinal).Replace("edition.cnn-2.com", "edition.cnn.org", StringComparison.Ordinal));
        var c = push.Connect(Sidecar("sleep-c", "sleep-c", "10.0.0.3"), 15000, "test");
        var fresh = Acknowledge(c);
        Assert.NotEqual(old.Version, fresh.Version);

        Assert.False(push.IsSynced(_resources.Revision));
        Assert.Null(push.Statuses().Single(s => s.Name == "sleep-a").SyncedRevision);

        push.PushAll();
        Assert.Equal(fresh.Version, Acknowledge(a).Version);
        Assert.True(push.IsSynced(_resources.Revision));
    }

    [Fact]
    public void KeyFor_SidecarLabelsReadOnlyBySourceLabelsAndWorkloadSelectors_GatewaysAlwaysKeepThem()
    {
        var a = Sidecar("sleep-a", "sleep-a", "10.0.0.1");
        var b = Sidecar("sleep-b", "sleep-b", "10.0.0.2");
        var plain = TranslationFixtures.Parse(ServiceEntry);
        Assert.Equal("sidecar|default|sleep|*|explicit", Translator.KeyFor(plain, a));
        Assert.Equal(Translator.KeyFor(plain, a), Translator.KeyFor(plain, b));

        // Everything else that shapes the snapshot stays in the key.
        Assert.NotEqual(Translator.KeyFor(plain, a), Translator.KeyFor(plain, Sidecar("sleep-c", "sleep-a", "10.0.0.3", ns: "other")));
        Assert.NotEqual(Translator.KeyFor(plain, a), Translator.KeyFor(plain, a with { ServiceAccount = "other" }));
        Assert.NotEqual(Translator.KeyFor(plain, a), Translator.KeyFor(plain, a with { Capture = CaptureMode.Transparent }));
        Assert.Equal(TranslationFixtures.EgressGateway().Key, Translator.KeyFor(plain, TranslationFixtures.EgressGateway()));

        foreach (var yaml in new[] { SourceLabelsVirtualService, SelectedDestinationRule })
        {
            var set = TranslationFixtures.Parse(ServiceEntry + "\n---\n" + yaml);
            Assert.Equal(a.Key, Translator.KeyFor(set, a));
            Assert.NotEqual(Translator.KeyFor(set, a), Translator.KeyFor(set, b));
        }
    }

    [Fact]
    public void Translate_DestinationRuleWorkloadSelector_SnapshotsDifferByLabels()
    {
        // The reason workloadSelector keeps labels in the key: the selected sidecar gets the rule, the other does not.
        var set = TranslationFixtures.Parse(ServiceEntry + "\n---\n" + SelectedDestinationRule);
        var mesh = Translator.MeshSettingsFrom(set);
        var a = Translator.Translate(set, mesh, Sidecar("sleep-a", "sleep-a", "10.0.0.1"), "1");
        var b = Translator.Translate(set, mesh, Sidecar("sleep-b", "sleep-b", "10.0.0.2"), "1");

        Assert.Equal(TimeSpan.FromSeconds(7), a.Clusters.Single(c => c.Name == "outbound|80||edition.cnn.com").ConnectTimeout);
        Assert.NotEqual(TimeSpan.FromSeconds(7), b.Clusters.Single(c => c.Name == "outbound|80||edition.cnn.com").ConnectTimeout);
    }
}

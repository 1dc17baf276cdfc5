using System.Collections.Immutable;
using System.Text;
using Meshgate.ControlPlane.Push;
using Meshgate.Core.ProxyConfiguration;
using Meshgate.Core.Resources;
using Meshgate.Core.Translation;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Meshgate.Tests.Push;

/// <summary>What the push loop sends: one translation per node key, only changes, latest wins, per-send nonces.</summary>
public sealed class PushServiceTests
{
    private readonly FakeTimeProvider _time = new();
    private ResourceSet _resources = new(1, ImmutableDictionary<ObjectKey, Resource>.Empty);
    private int _port = 18080;
    private int _translations;

    private PushService Create() => new(() => _resources, null, Translate, _time, NullLogger.Instance);

    private ProxyConfig Translate(ResourceSet resources, ProxyNode node, string version)
    {
        Interlocked.Increment(ref _translations);
        return new ProxyConfig
        {
            Version = version,
            Node = new Node { Id = node.Id, Role = node.Role, Namespace = node.Namespace },
            Listeners = [new Listener { Name = "tcp", Address = "127.0.0.1", Port = _port, Protocol = ListenerProtocol.Tcp, DefaultFilterChain = new FilterChain { Cluster = Cluster.BlackHole } }],
            Clusters = [Cluster.BlackHoleCluster],
        };
    }

    private static ProxyNode Sidecar(string name, string ip) => new()
    {
        Role = ProxyRole.Sidecar,
        Name = name,
        Namespace = "default",
        ServiceAccount = "sleep",
        Labels = ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, [KeyValuePair.Create("app", "sleep")]),
        Addresses = [ip],
    };

    private static List<PushedSnapshot> Drain(ProxyConnection connection)
    {
        var result = new List<PushedSnapshot>();
        while (connection.Outbox.TryRead(out var snapshot))
        {
            result.Add(snapshot);
        }

        return result;
    }

    private void Change(int port)
    {
        _port = port;
        _resources = new ResourceSet(_resources.Revision + 1, _resources.Objects);
    }

    [Fact]
    public async Task Connect_NewProxy_GetsCurrentSnapshotWithItsOwnNodeId()
    {
        await using var push = Create();

        var connection = push.Connect(Sidecar("sleep-1", "10.0.0.1"), 15000, "test");

        var sent = Assert.Single(Drain(connection));
        Assert.Equal("1-1", sent.Version);
        var config = ProxyConfigLoader.Load(Encoding.UTF8.GetString(sent.ToBytes().Span), "sent").Config!;
        Assert.Equal("1-1", config.Version);
        Assert.Equal("sidecar~10.0.0.1~sleep-1.default~default.svc.cluster.local", config.Node!.Id);
        Assert.Equal(18080, config.Listeners[0].Port);
    }

    [Fact]
    public async Task PushAll_SlowProxy_GetsOnlyTheNewestSnapshot()
    {
        await using var push = Create();
        var connection = push.Connect(Sidecar("sleep-1", "10.0.0.1"), 15000, "test");

        Change(18081);
        push.PushAll();
        Change(18082);
        push.PushAll();
        Change(18083);
        push.PushAll();

        var sent = Assert.Single(Drain(connection));
        Assert.Equal("4-4", sent.Version);
        Assert.Contains("18083", Encoding.UTF8.GetString(sent.ToBytes().Span), StringComparison.Ordinal);
    }

    [Fact]
    public async Task PushAll_SameContentAtNewRevision_SendsNothing()
    {
        await using var push = Create();
        var connection = push.Connect(Sidecar("sleep-1", "10.0.0.1"), 15000, "test");
        Drain(connection);

        Change(18080);
        push.PushAll();

        Assert.Empty(Drain(connection));
    }

    [Fact]
    public async Task PushAll_TwoProxiesOneKey_TranslatesOnceAndSendsBothWithDistinctNonces()
    {
        await using var push = Create();
        var first = push.Connect(Sidecar("sleep-1", "10.0.0.1"), 15000, "test");
        var second = push.Connect(Sidecar("sleep-2", "10.0.0.2"), 15000, "test");
        Drain(first);
        Drain(second);
        _translations = 0;

        Change(18090);
        push.PushAll();

        Assert.Equal(1, _translations);
        var a = Assert.Single(Drain(first));
        var b = Assert.Single(Drain(second));
        Assert.Equal(a.Version, b.Version);
        Assert.NotEqual(a.Nonce, b.Nonce);
        Assert.Contains("sleep-2.default", Encoding.UTF8.GetString(b.ToBytes().Span), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Answered_AckNackAndStale_ReportedInStatus()
    {
        await using var push = Create();
        var connection = push.Connect(Sidecar("sleep-1", "10.0.0.1"), 15000, "test");
        var first = Drain(connection)[0];
        connection.Sent(first);
        Assert.True(connection.Answered(first.Version, first.Nonce, null));
        Assert.Equal(first.Version, push.Statuses()[0].AckedVersion);

        Change(18081);
        push.PushAll();
        var second = Drain(connection)[0];
        connection.Sent(second);
        Assert.False(connection.Answered(first.Version, first.Nonce, null)); // stale nonce
        Assert.True(connection.Answered(first.Version, second.Nonce, "listener \"tcp\": address already in use"));

        var status = Assert.Single(push.Statuses());
        Assert.Equal(first.Version, status.AckedVersion);
        Assert.Equal(second.Version, status.SentVersion);
        Assert.Equal(second.Version, status.NackedVersion);
        Assert.Contains("address already in use", status.NackError, StringComparison.Ordinal);

        push.Disconnect(connection);
        Assert.False(Assert.Single(push.Statuses()).Connected);
    }

    [Fact]
    public async Task PushAll_InvalidTranslation_NotPushed()
    {
        await using var push = Create();
        var connection = push.Connect(Sidecar("sleep-1", "10.0.0.1"), 15000, "test");
        Drain(connection);

        Change(0); // port 0 is refused by the validator
        push.PushAll();

        Assert.Empty(Drain(connection));
    }

    [Fact]
    public async Task Connect_SnapshotBytes_MadeWhenReadNotHeldByTheOutbox()
    {
        await using var push = Create();
        var first = push.Connect(Sidecar("sleep-1", "10.0.0.1"), 15000, "test");
        var second = push.Connect(Sidecar("sleep-2", "10.0.0.2"), 15000, "test");

        var a = Assert.Single(Drain(first));
        var b = Assert.Single(Drain(second));

        // Each read splices the proxy's node id into the key's shared bytes afresh: equal content, no copy kept.
        var once = b.ToBytes();
        var again = b.ToBytes();
        Assert.Equal(once.ToArray(), again.ToArray());
        Assert.False(once.Span == again.Span); // two copies: the outbox holds none
        Assert.Equal(
            Encoding.UTF8.GetString(a.ToBytes().Span).Replace("10.0.0.1~sleep-1", "X", StringComparison.Ordinal),
            Encoding.UTF8.GetString(b.ToBytes().Span).Replace("10.0.0.2~sleep-2", "X", StringComparison.Ordinal));
    }

    [Fact]
    public async Task PushAll_ProxyRunsTheBase_ChangeGoesAsADeltaThatMakesTheNewSnapshot()
    {
        await using var push = Create();
        var connection = push.Connect(Sidecar("sleep-1", "10.0.0.1"), 15000, "test", acceptsDelta: true);
        var first = Assert.Single(Drain(connection));
        Assert.Null(first.Delta);
        Assert.False(connection.TakesDelta(first));
        connection.Sent(first);
        connection.Answered(first.Version, first.Nonce, null);

        Change(18081);
        push.PushAll();

        var second = Assert.Single(Drain(connection));
        Assert.Equal(first.Version, second.Delta!.BaseVersion);
        Assert.True(connection.TakesDelta(second));
        var running = ProxyConfigLoader.LoadJson(first.ToBytes(), "first").Config!;
        var made = ProxyConfigDelta.Apply(running, second.Delta.Bytes);
        Assert.Equal(ProxyConfigLoader.LoadJson(second.ToBytes(), "second").Config, made.Config);
        Assert.Contains("\"listeners\"", Encoding.UTF8.GetString(second.Delta.Bytes), StringComparison.Ordinal);
        Assert.DoesNotContain("\"clusters\"", Encoding.UTF8.GetString(second.Delta.Bytes), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TakesDelta_OnlyWhenTheProxyAnsweredEverythingAndRunsTheBase()
    {
        await using var push = Create();
        var deltas = push.Connect(Sidecar("sleep-1", "10.0.0.1"), 15000, "test", acceptsDelta: true);
        var whole = push.Connect(Sidecar("sleep-2", "10.0.0.2"), 15000, "test");
        var first = Drain(deltas)[0];
        var firstWhole = Drain(whole)[0];
        deltas.Sent(first);
        whole.Sent(firstWhole);
        whole.Answered(firstWhole.Version, firstWhole.Nonce, null);

        Change(18081);
        push.PushAll();
        var second = Drain(deltas)[0];

        // First still unanswered: what the proxy will run is not known yet.
        Assert.False(deltas.TakesDelta(second));
        deltas.Answered(first.Version, first.Nonce, null);
        Assert.True(deltas.TakesDelta(second));

        // A proxy that did not ask for deltas never gets one.
        Assert.NotNull(Drain(whole)[0].Delta);
        Assert.False(whole.TakesDelta(second));

        // Refused: the proxy runs the first still; a delta on the second would not apply.
        deltas.Sent(second, asDelta: true);
        deltas.Answered(first.Version, second.Nonce, "the delta removes cluster \"x\", which the base version does not have");
        Assert.True(push.Statuses()[0].SentDelta);
        Change(18082);
        push.PushAll();
        var third = Drain(deltas)[0];
        Assert.Equal(second.Version, third.Delta!.BaseVersion);
        Assert.False(deltas.TakesDelta(third));
    }

    [Fact]
    public async Task OfferWhole_AfterARefusedDelta_OffersTheSameVersionWithoutDelta()
    {
        await using var push = Create();
        var connection = push.Connect(Sidecar("sleep-1", "10.0.0.1"), 15000, "test", acceptsDelta: true);
        var first = Drain(connection)[0];
        connection.Sent(first);
        connection.Answered(first.Version, first.Nonce, null);
        Change(18081);
        push.PushAll();
        var second = Drain(connection)[0];
        connection.Sent(second, asDelta: true);
        connection.Answered(first.Version, second.Nonce, "cannot apply");

        push.OfferWhole(connection);

        var again = Assert.Single(Drain(connection));
        Assert.Equal(second.Version, again.Version);
        Assert.NotEqual(second.Nonce, again.Nonce);
        Assert.Null(again.Delta);
        Assert.Equal(second.ToBytes().ToArray(), again.ToBytes().ToArray());
    }
}

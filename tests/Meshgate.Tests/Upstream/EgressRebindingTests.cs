using System.Net;
using Meshgate.Core.ProxyConfiguration;
using Meshgate.Proxy.Capture;
using Meshgate.Proxy.Upstream;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Meshgate.Tests.Upstream;

/// <summary>
/// DNS rebinding against the egress guard: a name answers a public address first and a private one next. The target a
/// cluster picks carries the address it was resolved to, that address is what the guard checks and what the connection
/// dials (the destination prefix is the IP, never the name), so the private answer is refused when it comes, and an
/// address vetted before a CONNECT tunnel is dialled without resolving again.
/// </summary>
public sealed class EgressRebindingTests
{
    private readonly ScriptedLookup _lookup = new() { Next = ScriptedLookup.Answer("93.184.216.34", 1) };
    private readonly FakeTimeProvider _time = new();

    private ClusterState Cluster(ClusterDiscovery discovery) => new(
        discovery == ClusterDiscovery.OriginalDestination
            ? Core.ProxyConfiguration.Cluster.PassthroughCluster
            : new Cluster { Name = "outbound|80||rebind.test", Discovery = discovery, Endpoints = [new Endpoint { Address = "rebind.test", Port = 80 }] },
        new EndpointResolver(_lookup, _time));

    [Theory]
    [InlineData(ClusterDiscovery.StrictDns)]
    [InlineData(ClusterDiscovery.LogicalDns)]
    public async Task PublicThenPrivate_TheVettedAddressIsDialled_TheRebindingAnswerIsRefused(ClusterDiscovery discovery)
    {
        using var state = Cluster(discovery);

        var first = await state.PickTargetAsync(null, EgressPolicy.Strict, CancellationToken.None);
        Assert.NotNull(first);
        Assert.Equal("93.184.216.34:80", first.EndPoint.ToString());
        Assert.Equal("http://93.184.216.34:80", first.Prefix); // what the connection dials: the address, not the name
        Assert.True(EgressPolicy.Strict.Allows(first));

        _lookup.Next = ScriptedLookup.Answer("127.0.0.1", 1);
        _time.Advance(TimeSpan.FromSeconds(2)); // the TTL ran out: the next pick resolves again

        var second = await state.PickTargetAsync(null, EgressPolicy.Strict, CancellationToken.None);
        Assert.NotNull(second);
        Assert.Equal("127.0.0.1:80", second.EndPoint.ToString());
        Assert.Equal(AddressClass.Loopback, second.Class);
        Assert.False(EgressPolicy.Strict.Allows(second));
        Assert.Equal(2, _lookup.Calls); // one resolution per answer; the check and the dial share it
    }

    [Fact]
    public async Task MixedAnswer_AnAllowedAddressIsPicked_NeverTheRefusedOne()
    {
        _lookup.Next = LookupResult.Answer([IPAddress.Parse("127.0.0.1"), IPAddress.Parse("93.184.216.34")], TimeSpan.FromSeconds(30));
        using var state = Cluster(ClusterDiscovery.StrictDns);

        for (var i = 0; i < 4; i++)
        {
            var target = await state.PickTargetAsync(null, EgressPolicy.Strict, CancellationToken.None);
            Assert.Equal("93.184.216.34:80", target!.EndPoint.ToString());
        }
    }

    [Fact]
    public async Task OriginalDestination_ByName_ResolvedThenClassified_AVettedAddressIsNotResolvedAgain()
    {
        using var state = Cluster(ClusterDiscovery.OriginalDestination);
        var connect = new OriginalDestination("rebind.test", null, 443);

        var vetted = await state.PickTargetAsync(connect, EgressPolicy.Strict, CancellationToken.None);
        Assert.Equal("93.184.216.34:443", vetted!.EndPoint.ToString());
        Assert.Equal(1, _lookup.Calls);

        // The name rebinds after the CONNECT was vetted: the relay dials what was vetted, without asking again.
        _lookup.Next = ScriptedLookup.Answer("169.254.169.254", 1);
        _time.Advance(TimeSpan.FromSeconds(2));
        var relayed = await state.PickTargetAsync(connect with { Vetted = vetted.EndPoint.Address }, EgressPolicy.Strict, CancellationToken.None);
        Assert.Equal("93.184.216.34:443", relayed!.EndPoint.ToString());
        Assert.Equal(1, _lookup.Calls);

        // Asked afresh, the rebinding answer is refused.
        var fresh = await state.PickTargetAsync(connect, EgressPolicy.Strict, CancellationToken.None);
        Assert.Equal(AddressClass.LinkLocal, fresh!.Class);
        Assert.False(EgressPolicy.Strict.Allows(fresh));
    }

    [Fact]
    public async Task OperatorDeclaredEndpoints_NotChecked_ResolvedOnesAre()
    {
        using var declared = new ClusterState(
            new Cluster { Name = "outbound|80||db.internal", Discovery = ClusterDiscovery.StrictDns, Endpoints = [new Endpoint { Address = "10.0.0.5", Port = 5432 }] },
            new EndpointResolver(_lookup, _time));
        using var eds = new ClusterState(
            new Cluster { Name = "outbound|80||svc.ns.svc.cluster.local", Discovery = ClusterDiscovery.Eds, Endpoints = [new Endpoint { Address = "10.244.1.7", Port = 80 }] },
            new EndpointResolver(_lookup, _time));

        Assert.Equal(AddressClass.Declared, (await declared.PickTargetAsync(null, EgressPolicy.Strict, CancellationToken.None))!.Class);
        Assert.Equal(AddressClass.Declared, (await eds.PickTargetAsync(null, EgressPolicy.Strict, CancellationToken.None))!.Class);
        Assert.Equal(0, _lookup.Calls);
    }
}

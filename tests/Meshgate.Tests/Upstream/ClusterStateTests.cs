using System.Net;
using Meshgate.Core.ProxyConfiguration;
using Meshgate.Proxy.Upstream;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Meshgate.Tests.Upstream;

public sealed class ClusterStateTests
{
    private readonly ScriptedLookup _lookup = new()
    {
        Next = LookupResult.Answer([IPAddress.Parse("127.0.0.77"), IPAddress.Parse("127.0.0.78")], TimeSpan.FromSeconds(30)),
    };

    private async Task<List<string>> PickAsync(ClusterDiscovery discovery, int count)
    {
        using var state = new ClusterState(
            new Cluster { Name = "outbound|80||edition.cnn.com", Discovery = discovery, Endpoints = [new Endpoint { Address = "edition.cnn.com", Port = 80 }] },
            new EndpointResolver(_lookup, new FakeTimeProvider()));
        var picked = new List<string>();
        for (var i = 0; i < count; i++)
        {
            picked.Add((await state.PickAsync(CancellationToken.None))!.ToString());
        }

        return picked;
    }

    [Fact]
    public async Task PickAsync_StrictDns_EveryAddressOfTheAnswerInTurn()
    {
        Assert.Equal(["127.0.0.77:80", "127.0.0.78:80", "127.0.0.77:80", "127.0.0.78:80"], await PickAsync(ClusterDiscovery.StrictDns, 4));
    }

    [Fact]
    public async Task PickAsync_LogicalDns_FirstAddressOfTheAnswer()
    {
        Assert.Equal(["127.0.0.77:80", "127.0.0.77:80", "127.0.0.77:80"], await PickAsync(ClusterDiscovery.LogicalDns, 3));
    }

    [Fact]
    public async Task PickAsync_NameWithoutAddress_Null()
    {
        _lookup.Next = LookupResult.Answer([], TimeSpan.FromSeconds(5));

        using var state = new ClusterState(
            new Cluster { Name = "outbound|80||gone.example", Discovery = ClusterDiscovery.StrictDns, Endpoints = [new Endpoint { Address = "gone.example", Port = 80 }] },
            new EndpointResolver(_lookup, new FakeTimeProvider()));

        Assert.Null(await state.PickAsync(CancellationToken.None));
    }
}

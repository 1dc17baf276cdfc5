using Meshgate.Core.ProxyConfiguration;

using Xunit;

namespace Meshgate.Tests.ProxyConfiguration;

public class ProxyConfigEqualityTests
{
    [Fact]
    public void Equals_SnapshotsBuiltFromSameInput_AreEqualWithEqualHashCodes()
    {
        var first = TestSnapshots.Gateway();
        var second = TestSnapshots.Gateway();

        Assert.NotSame(first, second);
        Assert.NotSame(first.Listeners[1].FilterChains[0], second.Listeners[1].FilterChains[0]);
        Assert.Equal(first, second);
        Assert.Equal(first.GetHashCode(), second.GetHashCode());
    }

    [Fact]
    public void Equals_DeepCollectionElementDiffers_NotEqual()
    {
        var original = TestSnapshots.Gateway();
        var changed = original with
        {
            Listeners = original.Listeners.With(1, l => l with
            {
                FilterChains = l.FilterChains.With(0, c => c with { ServerNames = ["EDITION.cnn.com"] }),
            }),
        };

        Assert.NotEqual(original, changed);
        Assert.Equal(original, changed with { Listeners = TestSnapshots.Gateway().Listeners });
    }

    [Fact]
    public void Equals_SameItemsInOtherOrder_NotEqual()
    {
        var original = TestSnapshots.Gateway();
        var reordered = original with { Clusters = EquatableArray.From(original.Clusters.Reverse()) };

        Assert.NotEqual(original, reordered);
    }

    [Fact]
    public void Equals_WeightDiffers_NotEqual()
    {
        var original = TestSnapshots.Gateway();
        var changed = original with
        {
            RouteTables = original.RouteTables.With(0, t => t with
            {
                VirtualHosts = t.VirtualHosts.With(0, h => h with
                {
                    Routes = h.Routes.With(0, r => r with
                    {
                        Forward = r.Forward! with { Clusters = r.Forward.Clusters.With(1, c => c with { Weight = 11 }) },
                    }),
                }),
            }),
        };

        Assert.NotEqual(original, changed);
    }

    [Fact]
    public void EquatableArray_DefaultAndEmpty_AreEqualAndEmpty()
    {
        EquatableArray<string> empty = [];

        Assert.Equal(default, empty);
        Assert.True(empty.IsEmpty);
        Assert.Empty(empty);
        Assert.Equal(default(EquatableArray<string>).GetHashCode(), empty.GetHashCode());
        Assert.Equal("[]", empty.ToString());
    }

    [Fact]
    public void EquatableArray_ToString_ListsItems()
    {
        EquatableArray<int> codes = [503, 504];

        Assert.Equal("[503, 504]", codes.ToString());
    }

    [Fact]
    public void ToJson_LoadedBack_EqualsOriginal()
    {
        var original = TestSnapshots.Gateway();

        var json = ProxyConfigLoader.ToJson(original, indented: true);
        var result = ProxyConfigLoader.Load(json, "dump.json");

        Assert.Empty(result.Errors);
        Assert.Equal(original, result.Config);
        Assert.Contains("\"timeout\": \"2500ms\"", json, StringComparison.Ordinal);
        Assert.Contains("\"connectTimeout\": \"10s\"", json, StringComparison.Ordinal);
        Assert.Contains("\"discovery\": \"STRICT_DNS\"", json, StringComparison.Ordinal);
        Assert.Contains("\"retryOn\": [\n", json, StringComparison.Ordinal);
        Assert.DoesNotContain("endpoint\"", json, StringComparison.Ordinal); // Listener.Endpoint is derived, not data
    }

    [Fact]
    public void ToString_Secret_NeverPrintsTheKey()
    {
        var secret = TestSnapshots.Gateway().Secrets[0];

        Assert.Equal("Secret { Name = default, CertificateChain = PEM, PrivateKey = (redacted), TrustedCa = - }", secret.ToString());
    }

    [Fact]
    public void IstioDefault_RetryPolicy_IsTwoAttemptsOnIstioConditions()
    {
        var policy = RetryPolicy.IstioDefault;

        Assert.Equal(2, policy.Attempts);
        Assert.Equal([RetryCondition.ConnectFailure, RetryCondition.RefusedStream, RetryCondition.Unavailable, RetryCondition.Cancelled], policy.RetryOn);
        Assert.Equal([503], policy.RetriableStatusCodes);
        Assert.Null(policy.PerTryTimeout);
    }
}

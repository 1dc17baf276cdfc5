using System.Text.RegularExpressions;
using Xunit;

namespace Meshgate.Tests.Kubernetes;

/// <summary>
/// The real kubectl applies the YAML of Istio's other egress pages (TestData/IstioDocs: egress control, TLS origination
/// at the sidecar and the gateway, Kubernetes services for external access, wildcard hosts, an external HTTPS proxy)
/// as the pages write it: created, then unchanged on a second apply, then read back with <c>kubectl get -f</c>.
/// </summary>
public sealed partial class KubectlIstioDocsTests : IAsyncLifetime
{
    private readonly KubectlHarness _k = new();

    public Task InitializeAsync() => _k.InitializeAsync();

    public Task DisposeAsync() => _k.DisposeAsync();

    public static TheoryData<string> Files() =>
    [
        // Fragments without a kind are IstioOperator specs for `istioctl install -f` (see IstioDocExamplesTests), not for kubectl.
        .. Directory.GetFiles(Path.Combine(TestPaths.TestData, "IstioDocs"), "*.yaml")
            .Where(f => File.ReadAllText(f).Contains("\nkind: ", StringComparison.Ordinal) || File.ReadAllText(f).StartsWith("kind: ", StringComparison.Ordinal))
            .Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal),
    ];

    [Theory]
    [MemberData(nameof(Files))]
    public async Task Apply_IstioEgressPageExample_CreatedThenUnchanged(string file)
    {
        // The page's shell variables, as its earlier steps set them (the HTTPS proxy page: the proxy's address and port).
        var text = (await File.ReadAllTextAsync(Path.Combine(TestPaths.TestData, "IstioDocs", file)))
            .Replace("$PROXY_IP", "192.0.2.10", StringComparison.Ordinal)
            .Replace("$PROXY_PORT", "3128", StringComparison.Ordinal);
        var path = Path.Combine(_k.Home, file);
        await File.WriteAllTextAsync(path, text);
        foreach (var ns in NamespaceField().Matches(text).Select(m => m.Groups[1].Value).Where(n => n != "default").Distinct())
        {
            await _k.OkAsync("create", "namespace", ns);
        }

        var created = (await _k.OkAsync("apply", "-f", path)).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var again = (await _k.OkAsync("apply", "-f", path)).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var names = (await _k.OkAsync("get", "-f", path, "-o", "name")).Split('\n', StringSplitOptions.RemoveEmptyEntries);

        Assert.NotEmpty(created);
        Assert.All(created, line => Assert.EndsWith(" created", line));
        Assert.Equal(created.Length, again.Length);
        Assert.All(again, line => Assert.EndsWith(" unchanged", line));
        Assert.Equal(created.Length, names.Length);
    }

    [GeneratedRegex(@"^\s*namespace:\s*([a-z0-9-]+)\s*$", RegexOptions.Multiline)]
    private static partial Regex NamespaceField();
}

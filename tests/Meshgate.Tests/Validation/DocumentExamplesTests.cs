using Meshgate.Core.Validation;
using Xunit;

namespace Meshgate.Tests.Validation;

/// <summary>Every YAML block of the specification and of Istio's egress pages is accepted as written.</summary>
public class DocumentExamplesTests
{
    // Not Kubernetes objects: IstioOperator fragments (spec.components / meshConfig), and a page whose
    // heredoc is expanded by the shell ($PROXY_IP) before kubectl sees it.
    private static readonly HashSet<string> NotObjects =
    [
        "egress-gateway--deploy_istio_egress_gateway_2.yaml",
        "egress-control--change_to_the_blockingbydefault_policy_1.yaml",
        "http-proxy--configure_traffic_to_external_https_proxy_1.yaml",
    ];

    public static TheoryData<string> SeedFiles() => Files("Seed");

    public static TheoryData<string> IstioDocFiles() => Files("IstioDocs");

    [Theory]
    [MemberData(nameof(SeedFiles))]
    public void ParseText_SeedDocument_IsAcceptedVerbatim(string file) => AssertAccepted("Seed", file);

    [Theory]
    [MemberData(nameof(IstioDocFiles))]
    public void ParseText_IstioEgressPageExample_IsAcceptedVerbatim(string file) => AssertAccepted("IstioDocs", file);

    [Theory]
    [InlineData("samples/sleep.yaml", 3)]
    [InlineData("samples/egress/http-cnn.yaml", 4)]
    [InlineData("samples/egress/https-cnn.yaml", 4)]
    public void ParseText_ShippedSample_IsValid(string file, int objects)
    {
        var path = Path.Combine(TestPaths.RepositoryRoot, file);

        var result = ResourceParser.ParseText(File.ReadAllText(path), file);

        Assert.True(result.Ok, string.Join("\n", result.Errors));
        Assert.Equal(objects, result.Resources.Count);
    }

    [Fact]
    public void ParseText_ShellVariableLeftInAddress_IsRefusedWithTheField()
    {
        var text = File.ReadAllText(Path.Combine(TestPaths.TestData, "IstioDocs", "http-proxy--configure_traffic_to_external_https_proxy_1.yaml"));

        var raw = ResourceParser.ParseText(text, "proxy.yaml");
        var withPort = ResourceParser.ParseText(text.Replace("$PROXY_PORT", "3128"), "proxy.yaml");

        Assert.Equal("ServiceEntry default/proxy (proxy.yaml, document 1, line 11): spec.ports[0].number: expected an integer, got string \"$PROXY_PORT\"", Assert.Single(raw.Errors).ToString());
        Assert.Equal("ServiceEntry default/proxy (proxy.yaml, document 1, line 9): spec.addresses[0]: \"$PROXY_IP/32\" is not an IP address or CIDR block (such as 192.0.2.10 or 192.0.2.0/24)", Assert.Single(withPort.Errors).ToString());
    }

    private static void AssertAccepted(string folder, string file)
    {
        var text = File.ReadAllText(Path.Combine(TestPaths.TestData, folder, file));

        var result = ResourceParser.ParseText(text, file);

        Assert.True(result.Ok, string.Join("\n", result.Errors));
        Assert.NotEmpty(result.Resources);
    }

    private static TheoryData<string> Files(string folder)
    {
        var data = new TheoryData<string>();
        foreach (var path in Directory.GetFiles(Path.Combine(TestPaths.TestData, folder), "*.yaml").Order(StringComparer.Ordinal))
        {
            var name = Path.GetFileName(path);
            if (!NotObjects.Contains(name))
            {
                data.Add(name);
            }
        }

        return data;
    }
}

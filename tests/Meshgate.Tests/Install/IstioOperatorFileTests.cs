using Meshgate.Commands;
using Meshgate.Install;
using Xunit;

namespace Meshgate.Tests.Install;

/// <summary><c>meshgate install -f</c>: an IstioOperator's fields as the settings <c>--set</c> takes; anything else refused by its path.</summary>
public sealed class IstioOperatorFileTests
{
    [Fact]
    public void SeedFragment_BecomesTheGatewaySettings()
    {
        var (profile, sets) = Read("""
            apiVersion: install.istio.io/v1alpha1
            kind: IstioOperator
            spec:
              profile: demo
              meshConfig:
                accessLogFile: /dev/stdout
                outboundTrafficPolicy:
                  mode: REGISTRY_ONLY
              components:
                egressGateways:
                - name: istio-egressgateway
                  enabled: true
            """);
        Assert.Equal("demo", profile);
        Assert.Equal(
            ["meshConfig.accessLogFile=/dev/stdout", "meshConfig.outboundTrafficPolicy.mode=REGISTRY_ONLY", "components.egressGateways[0].name=istio-egressgateway", "components.egressGateways[0].enabled=true"],
            sets);
        Assert.True(InstallSettings.Parse(profile!, sets).EgressGatewayEnabled);
    }

    [Theory]
    [InlineData("spec:\n  values:\n    global:\n      proxy:\n        privileged: true\n", "spec.values is not a setting Meshgate supports")]
    [InlineData("spec:\n  meshConfig:\n    enableTracing: true\n", "spec.meshConfig.enableTracing is not a setting Meshgate supports")]
    [InlineData("spec:\n  components:\n    ingressGateways:\n    - name: istio-ingressgateway\n", "spec.components.ingressGateways is not a setting Meshgate supports")]
    [InlineData("spec:\n  components:\n    egressGateways:\n    - name: a\n      k8s:\n        replicaCount: 2\n", "spec.components.egressGateways[0].k8s is not a setting Meshgate supports")]
    public void Unsupported_RefusedByPath(string spec, string message)
    {
        var error = Assert.Throws<CliException>(() => Read("apiVersion: install.istio.io/v1alpha1\nkind: IstioOperator\n" + spec));
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AnotherKind_Refused()
    {
        var error = Assert.Throws<CliException>(() => Read("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n"));
        Assert.Contains("meshgate install -f takes an IstioOperator", error.Message, StringComparison.Ordinal);
    }

    private static (string? Profile, IReadOnlyList<string> Sets) Read(string yaml)
    {
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, yaml);
            return IstioOperatorFile.Read(path);
        }
        finally
        {
            File.Delete(path);
        }
    }
}

using Meshgate.Core.ProxyConfiguration;
using Meshgate.Core.Resources;
using Meshgate.Core.Translation;

using Xunit;

namespace Meshgate.Tests.Translation;

/// <summary>ConfigMap <c>istio</c>, key <c>mesh</c>, in istio-system: Istio's meshConfig as YAML.</summary>
public class MeshConfigReaderTests
{
    private static ResourceSet WithMesh(string mesh) => TranslationFixtures.Parse($"""
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: istio
          namespace: istio-system
        data:
          mesh: |
        {string.Join("\n", mesh.Split('\n').Select(l => "    " + l))}
        """);

    [Fact]
    public void MeshSettingsFrom_NoConfigMap_IstioDefaults()
    {
        var settings = Translator.MeshSettingsFrom(ResourceSet.Empty);

        Assert.Equal(new MeshSettings(), settings);
        Assert.Equal(OutboundTrafficPolicyMode.AllowAny, settings.OutboundTrafficPolicy);
        Assert.Equal("", settings.AccessLogFile);
    }

    [Fact]
    public void MeshSettingsFrom_DemoProfileWithRegistryOnly_ReadsEveryField()
    {
        var resources = WithMesh("""
            accessLogFile: /dev/stdout
            accessLogEncoding: JSON
            outboundTrafficPolicy:
              mode: REGISTRY_ONLY
            trustDomain: example.org
            defaultConfig:
              holdApplicationUntilProxyStarts: true
            """);

        var (settings, problems) = MeshConfigReader.Read(resources);

        Assert.Empty(problems);
        Assert.Equal(settings, Translator.MeshSettingsFrom(resources));
        Assert.Equal("/dev/stdout", settings.AccessLogFile);
        Assert.Equal(AccessLogEncoding.Json, settings.AccessLogEncoding);
        Assert.Equal(OutboundTrafficPolicyMode.RegistryOnly, settings.OutboundTrafficPolicy);
        Assert.Equal("example.org", settings.TrustDomain);
        Assert.Equal("istio-system", settings.RootNamespace);
    }

    [Fact]
    public void MeshSettingsFrom_UnparsableYaml_AllDefaultsAndAProblemNamingTheConfigMap()
    {
        var resources = WithMesh("""
            accessLogFile: /dev/stdout
            outboundTrafficPolicy: [unclosed
            """);

        var (settings, problems) = MeshConfigReader.Read(resources);

        // Never half a config: a mesh config that cannot be parsed gives every default, like an absent one.
        Assert.Equal(new MeshSettings(), settings);
        var problem = Assert.Single(problems);
        Assert.Contains("istio-system/istio", problem, StringComparison.Ordinal);
        Assert.Contains("default mesh config", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void MeshSettingsFrom_UnknownModeAndEncoding_ThoseFieldsDefaultAndAreReported()
    {
        var resources = WithMesh("""
            accessLogFile: /tmp/access.log
            accessLogEncoding: XML
            outboundTrafficPolicy:
              mode: DENY_ALL
            """);

        var (settings, problems) = MeshConfigReader.Read(resources);

        Assert.Equal("/tmp/access.log", settings.AccessLogFile);
        Assert.Equal(AccessLogEncoding.Text, settings.AccessLogEncoding);
        Assert.Equal(OutboundTrafficPolicyMode.AllowAny, settings.OutboundTrafficPolicy);
        Assert.Equal(2, problems.Count);
        Assert.Contains(problems, p => p.Contains("outboundTrafficPolicy.mode: \"DENY_ALL\"", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("accessLogEncoding: \"XML\"", StringComparison.Ordinal));
    }

    [Fact]
    public void MeshSettingsFrom_EmptyMeshKey_Defaults()
    {
        var (settings, problems) = MeshConfigReader.Parse("", "mesh");

        Assert.Equal(new MeshSettings(), settings);
        Assert.Empty(problems);
    }

    [Fact]
    public void MeshSettingsFrom_MeshIsAList_DefaultsAndAProblem()
    {
        var (settings, problems) = MeshConfigReader.Parse("- a\n- b\n", "mesh");

        Assert.Equal(new MeshSettings(), settings);
        Assert.Contains("expected a mapping", Assert.Single(problems), StringComparison.Ordinal);
    }

    [Fact]
    public void MeshgateEgress_ReadIntoTheSettingsAndEverySnapshot()
    {
        var resources = WithMesh("""
            accessLogFile: /dev/stdout
            meshgate:
              egress:
                allowedCidrs: [10.0.0.0/8, 127.0.0.77]
                allowDomainFronting: true
                domainFrontingExceptions: ["*.cdn.example"]
            """);

        var (settings, problems) = MeshConfigReader.Read(resources);

        Assert.Empty(problems);
        Assert.Equal(new EgressSettings { AllowedCidrs = ["10.0.0.0/8", "127.0.0.77"], AllowDomainFronting = true, DomainFrontingExceptions = ["*.cdn.example"] }, settings.Egress);
        Assert.Equal(settings.Egress, Translator.Translate(resources, settings, TranslationFixtures.Sleep(), "1").Egress);
    }

    [Fact]
    public void MeshgateEgress_CommaSeparatedString_AsSetWritesIt()
    {
        var (settings, problems) = MeshConfigReader.Parse("meshgate:\n  egress:\n    allowedCidrs: \"127.0.0.81, 127.0.0.83\"", "mesh");

        Assert.Empty(problems);
        Assert.Equal(["127.0.0.81", "127.0.0.83"], settings.Egress.AllowedCidrs);
    }

    [Fact]
    public void MeshgateEgress_Absent_StrictDefaultsAndNoFieldInTheSnapshot()
    {
        var resources = WithMesh("accessLogFile: /dev/stdout");
        var settings = Translator.MeshSettingsFrom(resources);

        Assert.True(settings.Egress.IsDefault());
        Assert.Null(Translator.Translate(resources, settings, TranslationFixtures.Sleep(), "1").Egress);
    }

    [Theory]
    [InlineData("allowedCidrs: [10.0.0.0/8, 10/8]", "mesh: meshgate.egress.allowedCidrs: \"10/8\" is not an IP address or CIDR block (such as 10.0.0.0/8, fd00::/8 or 127.0.0.1); allowing no range")]
    [InlineData("allowedCidrs: {a: b}", "mesh: meshgate.egress.allowedCidrs: expected a list of strings; using the default")]
    [InlineData("allowDomainFronting: maybe", "mesh: meshgate.egress.allowDomainFronting: expected true or false; using false")]
    [InlineData("domainFrontingExceptions: [\"*\"]", "mesh: meshgate.egress.domainFrontingExceptions: \"*\" names every host; set allowDomainFronting: true instead; exempting no host")]
    public void MeshgateEgress_BadValue_StrictDefaultForTheFieldAndAProblem(string field, string problem)
    {
        var (settings, problems) = MeshConfigReader.Parse($"meshgate:\n  egress:\n    {field}", "mesh");

        Assert.Equal([problem], problems);
        Assert.True(settings.Egress.IsDefault());
    }
}

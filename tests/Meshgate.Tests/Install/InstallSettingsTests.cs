using Meshgate.Core.ProxyConfiguration;
using Meshgate.Core.Resources;
using Meshgate.Core.Translation;
using Meshgate.Install;
using Xunit;

namespace Meshgate.Tests.Install;

public sealed class InstallSettingsTests
{
    [Fact]
    public void DemoProfileRunsTheGatewayAndLogsToStdout()
    {
        var settings = InstallSettings.Parse("demo", []);
        Assert.True(settings.EgressGatewayEnabled);
        Assert.Equal("istio-egressgateway", settings.EgressGatewayName);
        Assert.Equal("/dev/stdout", settings.Mesh.AccessLogFile);
        Assert.Equal(OutboundTrafficPolicyMode.AllowAny, settings.Mesh.OutboundTrafficPolicy);
    }

    [Fact]
    public void MinimalProfileRunsNoGatewayAndLogsNothing()
    {
        var settings = InstallSettings.Parse("minimal", []);
        Assert.False(settings.EgressGatewayEnabled);
        Assert.Equal("", settings.Mesh.AccessLogFile);
    }

    [Fact]
    public void SetPathsApplyInOrderAndTheLastWins()
    {
        var settings = InstallSettings.Parse("minimal",
        [
            "meshConfig.accessLogFile=/dev/stdout",
            "meshConfig.accessLogEncoding=json",
            "meshConfig.outboundTrafficPolicy.mode=REGISTRY_ONLY",
            "components.egressGateways[0].enabled=true",
            "components.egressGateways[0].name=egress-a",
            "components.egressGateways[0].name=egress-b",
        ]);
        Assert.Equal(AccessLogEncoding.Json, settings.Mesh.AccessLogEncoding);
        Assert.Equal(OutboundTrafficPolicyMode.RegistryOnly, settings.Mesh.OutboundTrafficPolicy);
        Assert.True(settings.EgressGatewayEnabled);
        Assert.Equal("egress-b", settings.EgressGatewayName);
        Assert.Equal("/dev/stdout", settings.Mesh.AccessLogFile);
    }

    [Theory]
    [InlineData("default", "--set x", "--profile \"default\" is not a profile; use demo (egress gateway, access logs) or minimal (no gateway)")]
    [InlineData("demo", "meshConfig.accessLogFile", "--set \"meshConfig.accessLogFile\" is not PATH=VALUE, for example --set meshConfig.accessLogFile=/dev/stdout")]
    [InlineData("demo", "meshConfig.accessLogEncoding=XML", "--set meshConfig.accessLogEncoding=\"XML\": expected TEXT or JSON")]
    [InlineData("demo", "meshConfig.outboundTrafficPolicy.mode=DENY", "--set meshConfig.outboundTrafficPolicy.mode=\"DENY\": expected ALLOW_ANY or REGISTRY_ONLY")]
    [InlineData("demo", "components.egressGateways[0].enabled=yes", "--set components.egressGateways[0].enabled=\"yes\": expected true or false")]
    [InlineData("demo", "values.global.proxy.privileged=true", "--set \"values.global.proxy.privileged\" is not a setting Meshgate knows; supported: meshConfig.accessLogFile, meshConfig.accessLogEncoding, meshConfig.accessLogFormat, meshConfig.outboundTrafficPolicy.mode, meshConfig.trustDomain, components.egressGateways[0].enabled, components.egressGateways[0].name, values.meshgate.egress.allowedCidrs, values.meshgate.egress.allowDomainFronting, values.meshgate.egress.domainFrontingExceptions")]
    [InlineData("demo", "values.meshgate.egress.allowedCidrs=10/8", "--set values.meshgate.egress.allowedCidrs=\"10/8\": expected CIDR blocks or addresses separated by commas, e.g. 10.0.0.0/8,127.0.0.77: \"10/8\" is not an IP address or CIDR block (such as 10.0.0.0/8, fd00::/8 or 127.0.0.1)")]
    [InlineData("demo", "values.meshgate.egress.allowedCidrs=10.1.0.0/8", "--set values.meshgate.egress.allowedCidrs=\"10.1.0.0/8\": expected CIDR blocks or addresses separated by commas, e.g. 10.0.0.0/8,127.0.0.77: \"10.1.0.0/8\" has address bits set beyond the /8 prefix; did you mean 10.0.0.0/8?")]
    [InlineData("demo", "values.meshgate.egress.allowDomainFronting=yes", "--set values.meshgate.egress.allowDomainFronting=\"yes\": expected true or false")]
    [InlineData("demo", "values.meshgate.egress.domainFrontingExceptions=*", "--set values.meshgate.egress.domainFrontingExceptions=\"*\": expected host names or *.suffix separated by commas: \"*\" names every host; set values.meshgate.egress.allowDomainFronting=true instead")]
    public void BadSettingsSayWhatIsWrongAndWhatFits(string profile, string set, string message)
    {
        var e = Assert.Throws<InstallSettingsException>(() => InstallSettings.Parse(profile, [set]));
        Assert.Equal(message, e.Message);
    }

    [Fact]
    public void AccessLogFormatAndTrustDomain_ReachTheMeshConfig_AndReadBackTheSame()
    {
        const string Format = "[%START_TIME%] \"%REQ(:METHOD)%\" %RESPONSE_CODE% peer=%DOWNSTREAM_PEER_URI_SAN%\n";
        var settings = InstallSettings.Parse("demo", ["meshConfig.accessLogFormat=" + Format, "meshConfig.trustDomain=example.org"]);
        var objects = InstallResources.For(settings);
        var (read, problems) = MeshConfigReader.Parse(objects[0].Json["data"]!["mesh"]!.ToString(), "mesh");
        Assert.Empty(problems);
        Assert.Equal(Format.TrimEnd('\n'), read.AccessLogFormat.TrimEnd('\n')); // the proxy ends every line with one newline either way
        Assert.Equal("example.org", read.TrustDomain);
    }

    [Fact]
    public void UnknownAccessLogOperator_RefusedNamingIt()
    {
        var e = Assert.Throws<InstallSettingsException>(() => InstallSettings.Parse("demo", ["meshConfig.accessLogFormat=%NOT_AN_OPERATOR%"]));
        Assert.Contains("NOT_AN_OPERATOR", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void BadGatewayNameIsRefused()
    {
        var e = Assert.Throws<InstallSettingsException>(() => InstallSettings.Parse("demo", ["components.egressGateways[0].name=Egress_GW"]));
        Assert.StartsWith("--set components.egressGateways[0].name=\"Egress_GW\": expected a DNS-1123 label", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void InstalledObjectsAreTheMeshConfigTheGatewayServiceAndTheSleepSample()
    {
        var objects = InstallResources.For(InstallSettings.Parse("demo", ["meshConfig.outboundTrafficPolicy.mode=REGISTRY_ONLY"]));
        Assert.Equal(
            ["ConfigMap istio-system/istio", "ServiceAccount istio-system/istio-egressgateway-service-account", "Service istio-system/istio-egressgateway",
             "ServiceAccount default/sleep", "Service default/sleep", "Deployment default/sleep"],
            objects.Select(o => $"{o.Type.Kind} {o.Namespace}/{o.Name}"));
        var mesh = objects[0].Json["data"]!["mesh"]!.ToString();
        Assert.Contains("accessLogFile: \"/dev/stdout\"", mesh, StringComparison.Ordinal);
        Assert.Contains("mode: REGISTRY_ONLY", mesh, StringComparison.Ordinal);

        var service = objects[2].As<k8s.Models.V1Service>();
        Assert.Equal(["80->8080", "443->8443"], service.Spec.Ports.Select(p => $"{p.Port}->{p.TargetPort}"));
        Assert.Equal("egressgateway", service.Spec.Selector["istio"]);

        Assert.DoesNotContain(InstallResources.For(InstallSettings.Parse("minimal", [])), o => o.Type == ResourceTypes.Service && o.Namespace == "istio-system");
    }

    [Fact]
    public void EgressSettings_StoredInTheMeshConfigAndReadBackByTranslation()
    {
        var settings = InstallSettings.Parse("demo",
        [
            "values.meshgate.egress.allowedCidrs=127.0.0.77, 10.0.0.0/8",
            "values.meshgate.egress.domainFrontingExceptions=*.cdn.example",
        ]);

        Assert.Equal(["127.0.0.77", "10.0.0.0/8"], settings.Mesh.Egress.AllowedCidrs);
        var configMap = InstallResources.For(settings).Single(r => r.Type == ResourceTypes.ConfigMap);
        var (read, problems) = MeshConfigReader.Parse(configMap.Json["data"]!["mesh"]!.GetValue<string>(), "mesh");
        Assert.Empty(problems);
        Assert.Equal(settings.Mesh.Egress, read.Egress);
        Assert.Equal(settings.Mesh, read);
    }

    [Fact]
    public void EgressSettings_DefaultIsStrictAndLeavesTheMeshConfigAsBefore()
    {
        var settings = InstallSettings.Parse("demo", []);

        Assert.True(settings.Mesh.Egress.IsDefault());
        var mesh = InstallResources.For(settings).Single(r => r.Type == ResourceTypes.ConfigMap).Json["data"]!["mesh"]!.GetValue<string>();
        Assert.DoesNotContain("meshgate", mesh, StringComparison.Ordinal);
    }
}

using Xunit;

namespace Meshgate.Tests.Commands;

/// <summary>
/// The mesh config (ConfigMap <c>istio</c>) is read leniently, as istiod reads it: a field it cannot take keeps its
/// default. <c>apply</c> says which, so a typo in <c>accessLogFormat</c> is not silently a default log line.
/// </summary>
public sealed class MeshConfigApplyTests : IClassFixture<CliHarness>
{
    private readonly CliHarness _cli;

    public MeshConfigApplyTests(CliHarness cli) => _cli = cli;

    private static string MeshConfig(string format) => $$"""
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: istio
          namespace: istio-system
        data:
          mesh: |-
            accessLogFile: /dev/stdout
            accessLogFormat: "{{format}}"
        """;

    [Fact]
    public async Task Apply_UnknownAccessLogOperator_StoredWithAWarningNamingIt()
    {
        var result = await _cli.RunWithStdinAsync(MeshConfig("[%START_TIME%] %NOT_AN_OPERATOR%"), "apply", "-f", "-");
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("configmap/istio", result.Out);
        Assert.Contains("Warning: ", result.Error);
        Assert.Contains("NOT_AN_OPERATOR", result.Error);
    }

    [Fact]
    public async Task Apply_GoodAccessLogFormat_NoWarning()
    {
        var result = await _cli.RunWithStdinAsync(MeshConfig("[%START_TIME%] %DOWNSTREAM_PEER_URI_SAN%"), "apply", "-f", "-");
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.DoesNotContain("Warning", result.Error);
    }
}

using System.Text;

using Meshgate.Core.ProxyConfiguration;
using Meshgate.Core.Resources;
using Meshgate.Core.Translation;
using Meshgate.Tests.Translation;

using Xunit;

namespace Meshgate.Tests.ProxyConfiguration;

/// <summary>
/// meshConfig.accessLogFormat from the mesh config to the proxy: read and checked at the control plane, carried in the
/// snapshot's <c>accessLog.format</c>, written and read back by the strict reader, refused (naming the operator) when
/// the proxy could not print it.
/// </summary>
public sealed class AccessLogFormatConfigTests
{
    private const string Format = "[%START_TIME%] \"%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%\" %RESPONSE_CODE% %DOWNSTREAM_PEER_URI_SAN%\n";

    [Fact]
    public void MeshConfig_AccessLogFormat_ReadAndCarriedIntoTheSnapshot()
    {
        var (settings, problems) = MeshConfigReader.Parse($$"""
            accessLogFile: /dev/stdout
            accessLogFormat: "{{Format.Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal)}}"
            """, "mesh");

        Assert.Empty(problems);
        Assert.Equal(Format, settings.AccessLogFormat);
        var config = Translator.Translate(ResourceSet.Empty, settings, TranslationFixtures.EgressGateway(), "v1");
        Assert.Equal(new AccessLogSettings { Path = "/dev/stdout", Format = Format }, config.AccessLog);
    }

    [Fact]
    public void MeshConfig_NoAccessLogFormat_NoFormatInTheSnapshot()
    {
        var (settings, _) = MeshConfigReader.Parse("accessLogFile: /dev/stdout\n", "mesh");

        var config = Translator.Translate(ResourceSet.Empty, settings, TranslationFixtures.EgressGateway(), "v1");

        Assert.Null(config.AccessLog!.Format);
        Assert.DoesNotContain("\"format\"", ProxyConfigLoader.ToJson(config), StringComparison.Ordinal);
    }

    [Fact]
    public void MeshConfig_UnknownOperator_ReportedByNameAndTheDefaultFormatKept()
    {
        var (settings, problems) = MeshConfigReader.Parse("accessLogFile: /dev/stdout\naccessLogFormat: \"%START_TIME% %BOGUS_FIELD%\"\n", "configmap istio-system/istio data.mesh");

        Assert.Equal("", settings.AccessLogFormat);
        Assert.Equal("/dev/stdout", settings.AccessLogFile);
        var problem = Assert.Single(problems);
        Assert.StartsWith("configmap istio-system/istio data.mesh: accessLogFormat: unknown command operator %BOGUS_FIELD%; supported: %START_TIME%", problem, StringComparison.Ordinal);
        Assert.EndsWith("; using the default format", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void StrictReader_SnapshotWithAFormat_ReadsBackEqual()
    {
        var config = Snapshot(Format);
        var json = ProxyConfigLoader.ToJsonUtf8(config);

        Assert.Contains("\"format\":", Encoding.UTF8.GetString(json), StringComparison.Ordinal);
        Assert.True(ProxyConfigReader.TryRead(json, out var read));
        Assert.Equal(config, read);
        var loaded = ProxyConfigLoader.LoadJson(json, "snapshot");
        Assert.Empty(loaded.Errors);
        Assert.Equal(config, loaded.Config);
    }

    [Fact]
    public void StrictReader_FormatAsNullOrWrongType_AsTheStrictSerializer()
    {
        Assert.True(ProxyConfigReader.TryRead("""{"version":"1","accessLog":{"path":"/dev/stdout","format":null}}"""u8, out var read));
        Assert.Null(read.AccessLog!.Format);
        Assert.False(ProxyConfigReader.TryRead("""{"version":"1","accessLog":{"path":"/dev/stdout","format":1}}"""u8, out _));
        Assert.False(ProxyConfigReader.TryRead("""{"version":"1","accessLog":{"path":"/dev/stdout","format":"a","format":"b"}}"""u8, out _));
    }

    [Fact]
    public void Proxy_SnapshotWithAnUnknownOperator_RefusedNamingIt()
    {
        var json = ProxyConfigLoader.ToJsonUtf8(Snapshot("%START_TIME% %UPSTREAM_PEER_SUBJECT%"));

        Assert.False(ProxyConfigReader.TryRead(json, out _));
        var loaded = ProxyConfigLoader.LoadJson(json, "snapshot");
        Assert.Null(loaded.Config);
        var error = Assert.Single(loaded.Errors);
        Assert.StartsWith("snapshot: proxy config: accessLog.format: unknown command operator %UPSTREAM_PEER_SUBJECT%; supported: ", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Validator_UnknownOperatorInABootstrap_Refused()
    {
        var errors = ProxyConfigValidator.Validate(Snapshot("%REQ(X-B3-TRACEID)%"));

        Assert.Contains("accessLog.format: %REQ(X-B3-TRACEID)%: the access log does not record the request header \"X-B3-TRACEID\"", Assert.Single(errors), StringComparison.Ordinal);
    }

    private static ProxyConfig Snapshot(string format) => new()
    {
        Version = "v1",
        AccessLog = new AccessLogSettings { Path = "/dev/stdout", Format = format },
    };
}

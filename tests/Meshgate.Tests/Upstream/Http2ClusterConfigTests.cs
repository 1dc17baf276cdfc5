using System.Text;
using System.Text.Json;
using Meshgate.Core.ProxyConfiguration;
using Meshgate.Core.Translation;
using Meshgate.Tests.Translation;
using Xunit;

namespace Meshgate.Tests.Upstream;

/// <summary>
/// A cluster's <c>http2</c> (Envoy's <c>http2_protocol_options</c>): set by translation for ServiceEntry ports of
/// protocol GRPC, GRPC-WEB and HTTP2 (not HTTP), written only when true, read by the strict reader and the loader,
/// refused on Istio's special clusters.
/// </summary>
public sealed class Http2ClusterConfigTests
{
    private const string ServiceEntries = """
        apiVersion: networking.istio.io/v1
        kind: ServiceEntry
        metadata: {name: api, namespace: default}
        spec:
          hosts: [api.example.com]
          resolution: DNS
          ports:
          - {number: 50051, name: grpc, protocol: GRPC}
          - {number: 8081, name: web, protocol: GRPC-WEB}
          - {number: 8082, name: h2, protocol: HTTP2}
          - {number: 80, name: http, protocol: HTTP}
          - {number: 443, name: https, protocol: HTTPS}
        """;

    [Theory]
    [InlineData(50051, true)]
    [InlineData(8081, true)]
    [InlineData(8082, true)]
    [InlineData(80, false)]
    [InlineData(443, false)]
    public void Translate_PortProtocol_Http2AsIstiosSetH2Options(int port, bool http2)
    {
        var resources = TranslationFixtures.Parse(ServiceEntries);
        var config = Translator.Translate(resources, Translator.MeshSettingsFrom(resources), TranslationFixtures.Sleep(), "1");

        Assert.Empty(TranslationFixtures.Validate(config));
        Assert.Equal(http2, config.Clusters.Single(c => c.Name == $"outbound|{port}||api.example.com").Http2);
    }

    [Fact]
    public void Json_Http2_WrittenOnlyWhenTrueAndReadBackStrictly()
    {
        var config = Load("""
            clusters:
            - {name: "outbound|50051||grpc.test", discovery: STATIC, http2: true, endpoints: [{address: 127.0.0.1, port: 50051}]}
            - {name: "outbound|80||web.test", discovery: STATIC, endpoints: [{address: 127.0.0.1, port: 80}]}
            """);
        Assert.True(config.Clusters[0].Http2);
        Assert.False(config.Clusters[1].Http2);

        var json = JsonSerializer.Serialize(config, ProxyConfigJson.Options);
        Assert.Equal(1, CountOf(json, "\"http2\":true"));
        Assert.DoesNotContain("\"http2\":false", json, StringComparison.Ordinal);
        Assert.True(ProxyConfigReader.TryRead(Encoding.UTF8.GetBytes(json), out var read));
        Assert.Equal(config, read);
        Assert.False(ProxyConfigReader.TryRead(Encoding.UTF8.GetBytes(json.Replace("\"http2\":true", "\"http2\":\"yes\"", StringComparison.Ordinal)), out _));
    }

    [Theory]
    [InlineData("PassthroughCluster", "ORIGINAL_DST")]
    [InlineData("BlackHoleCluster", "STATIC")]
    public void Validate_SpecialClusterWithHttp2_Refused(string name, string discovery)
    {
        var loaded = ProxyConfigLoader.Load(Document($"clusters:\n- {{name: {name}, discovery: {discovery}, http2: true}}\n"), "test.yaml");

        Assert.Null(loaded.Config);
        Assert.Contains(loaded.Errors, e => e.Contains("http2", StringComparison.Ordinal) && e.Contains(name, StringComparison.Ordinal));
    }

    private static string Document(string clusters) => "version: v1\nlisteners: []\nrouteTables: []\n" + clusters.TrimEnd() + "\nsecrets: []\n";

    private static ProxyConfig Load(string clusters)
    {
        var loaded = ProxyConfigLoader.Load(Document(clusters), "test.yaml");
        Assert.True(loaded.Config is not null, string.Join('\n', loaded.Errors));
        return loaded.Config;
    }

    private static int CountOf(string text, string part)
    {
        var count = 0;
        for (var at = text.IndexOf(part, StringComparison.Ordinal); at >= 0; at = text.IndexOf(part, at + 1, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }
}

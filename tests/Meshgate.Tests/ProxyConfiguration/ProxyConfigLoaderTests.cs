using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

using Meshgate.Core.ProxyConfiguration;

using Xunit;

namespace Meshgate.Tests.ProxyConfiguration;

/// <summary>Static bootstrap files: strict reading with file, line and field path in every message, then consistency.</summary>
public class ProxyConfigLoaderTests
{
    private const string Source = "egress.yaml";

    /// <summary>A small valid file; cases change one line of it.</summary>
    private const string Valid = """
        version: "1"
        listeners:
          - name: http
            address: 127.0.0.1
            port: 18080
            protocol: HTTP
            defaultFilterChain:
              routeTable: http.18080
        routeTables:
          - name: http.18080
            virtualHosts:
              - name: cnn
                domains: [edition.cnn.com]
                routes:
                  - forward:
                      clusters:
                        - name: outbound|80||edition.cnn.com
        clusters:
          - name: outbound|80||edition.cnn.com
            discovery: STRICT_DNS
            connectTimeout: 5s
            endpoints:
              - address: edition.cnn.com
                port: 80
        """;

    public static TheoryData<string, string, string[]> InvalidCases() => new()
    {
        {
            "unknown field",
            Valid.Replace("      routeTable: http.18080", "      routeTabel: http.18080", StringComparison.Ordinal),
            [
                "egress.yaml, line 8: listeners[0].defaultFilterChain.routeTabel: unknown field \"routeTabel\"; did you mean \"routeTable\"? (known fields: name, serverNames, tls, routeTable, cluster)",
            ]
        },
        {
            "unknown top-level field",
            Valid + "\nsecret: []\n",
            [
                "egress.yaml, line 25: secret: unknown field \"secret\"; did you mean \"secrets\"? (known fields: version, node, listeners, routeTables, clusters, secrets, accessLog, egress)",
            ]
        },
        {
            "port as a string",
            Valid.Replace("port: 18080", "port: \"18080\"", StringComparison.Ordinal),
            ["egress.yaml, line 5: listeners[0].port: expected an integer, got string \"18080\"; remove the quotes"]
        },
        {
            "protocol not in the enum",
            Valid.Replace("protocol: HTTP", "protocol: HTTPS", StringComparison.Ordinal),
            ["egress.yaml, line 6: listeners[0].protocol: \"HTTPS\" is not one of HTTP, TLS, TCP; did you mean HTTP?"]
        },
        {
            "duration without unit",
            Valid.Replace("connectTimeout: 5s", "connectTimeout: 5", StringComparison.Ordinal),
            ["egress.yaml, line 21: clusters[0].connectTimeout: expected a duration (such as \"10s\" or \"250ms\"), got number 5; quote it: \"5\""]
        },
        {
            "duration with a bad unit",
            Valid.Replace("connectTimeout: 5s", "connectTimeout: 5 seconds", StringComparison.Ordinal),
            ["egress.yaml, line 21: clusters[0].connectTimeout: string \"5 seconds\" is not a duration; write a number with a unit (h, m, s, ms, us, ns), such as 10s, 250ms or 1m30s"]
        },
        {
            "missing required field",
            Valid.Replace("    discovery: STRICT_DNS\n", "", StringComparison.Ordinal),
            ["egress.yaml, line 19: clusters[0].discovery: required field is missing"]
        },
        {
            "list written as a scalar",
            Valid.Replace("domains: [edition.cnn.com]", "domains: edition.cnn.com", StringComparison.Ordinal),
            ["egress.yaml, line 13: routeTables[0].virtualHosts[0].domains: expected a list of strings, got string \"edition.cnn.com\"; write it as a list: [\"edition.cnn.com\"]"]
        },
        {
            "enum list written as a scalar",
            Valid.Replace("edition.cnn.com\nclusters:", "edition.cnn.com\n              retries: { attempts: 2, retryOn: connect-failure }\nclusters:", StringComparison.Ordinal),
            ["egress.yaml, line 18: routeTables[0].virtualHosts[0].routes[0].forward.retries.retryOn: expected a list of strings, got string \"connect-failure\"; write it as a list: [\"connect-failure\"]"]
        },
        {
            "dangling cluster",
            Valid.Replace("- name: outbound|80||edition.cnn.com\n    discovery", "- name: outbound|443||edition.cnn.com\n    discovery", StringComparison.Ordinal),
            ["egress.yaml, line 17: route table \"http.18080\": virtualHosts[0].routes[0].forward.clusters[0].name: cluster \"outbound|80||edition.cnn.com\" is not defined; did you mean \"outbound|443||edition.cnn.com\"?"]
        },
        {
            "dangling route table",
            Valid.Replace("routeTable: http.18080", "routeTable: http.8080", StringComparison.Ordinal),
            ["egress.yaml, line 8: listener \"http\": defaultFilterChain.routeTable: route table \"http.8080\" is not defined; did you mean \"http.18080\"?"]
        },
        {
            "inconsistent object without the field",
            Valid.Replace("          - forward:\n              clusters:\n                - name: outbound|80||edition.cnn.com\n", "          - name: nothing\n", StringComparison.Ordinal),
            ["egress.yaml, line 15: route table \"http.18080\": virtualHosts[0].routes[0]: sets none of forward, directResponse and redirect; set one"]
        },
        {
            "malformed YAML",
            Valid.Replace("  - name: http\n", "  - name: http\n   bad: indent\n", StringComparison.Ordinal),
            ["egress.yaml: line 4, column 4: While parsing a block collection, did not find expected '-' indicator"]
        },
        {
            "two documents",
            Valid + "\n---\nversion: \"2\"\n",
            ["egress.yaml, line 26: expected one document, found 2; a proxy configuration is a single object"]
        },
        {
            "empty file",
            "# nothing here\n",
            ["egress.yaml: the input is empty; expected a proxy configuration (an object with version, listeners, routeTables, clusters and secrets)"]
        },
        {
            "a list at the top",
            "- version: \"1\"\n",
            ["egress.yaml, line 1: expected a proxy configuration (an object with version, listeners, routeTables, clusters and secrets), got a list"]
        },
    };

    [Theory]
    [MemberData(nameof(InvalidCases))]
    public void Load_InvalidFile_NoConfigAndExactErrors(string name, string text, string[] expected)
    {
        _ = name;

        var result = ProxyConfigLoader.Load(text, Source);

        Assert.Null(result.Config);
        Assert.Equal(string.Join("\n", expected), string.Join("\n", result.Errors)); // one string: the diff shows the whole message
    }

    [Fact]
    public void Load_ValidFile_SnapshotWithDefaults()
    {
        var result = ProxyConfigLoader.Load(Valid, Source);

        Assert.Empty(result.Errors);
        var config = Assert.IsType<ProxyConfig>(result.Config);
        var forward = config.RouteTables[0].VirtualHosts[0].Routes[0].Forward!;
        Assert.Equal(1, forward.Clusters[0].Weight);
        Assert.Null(forward.Retries);
        Assert.Equal(1, config.Clusters[0].Endpoints[0].Weight);
        Assert.Equal(TimeSpan.FromSeconds(5), config.Clusters[0].ConnectTimeout);
        Assert.Null(config.AccessLog);
    }

    [Fact]
    public void Load_JsonWithDanglingCluster_ErrorHasLine()
    {
        const string json = """
            {
              "version": "1",
              "listeners": [
                {
                  "name": "tls",
                  "address": "127.0.0.1",
                  "port": 18443,
                  "protocol": "TLS",
                  "filterChains": [
                    { "serverNames": ["edition.cnn.com"], "cluster": "outbound|443||edition.cnn.com" }
                  ]
                }
              ]
            }
            """;

        var result = ProxyConfigLoader.Load(json, "egress.json");

        Assert.Equal(["egress.json, line 10: listener \"tls\": filterChains[0].cluster: cluster \"outbound|443||edition.cnn.com\" is not defined"], result.Errors);
    }

    [Fact]
    public void LoadJson_WhatToJsonWrote_SameSnapshotAsLoad()
    {
        var config = ProxyConfigLoader.Load(Valid, Source).Config!;
        var json = System.Text.Encoding.UTF8.GetBytes(ProxyConfigLoader.ToJson(config));

        var result = ProxyConfigLoader.LoadJson(json, "snapshot 1");

        Assert.Empty(result.Errors);
        Assert.Equal(config, result.Config);
    }

    [Theory]
    // Left out: a field with a default of its own (an endpoint's weight 1, bindToPort true) takes the default, as in a file.
    [InlineData("""{"version":"1","listeners":[{"name":"tcp","address":"127.0.0.1","port":18080,"protocol":"TCP","defaultFilterChain":{"cluster":"c"}}],"clusters":[{"name":"c","discovery":"STATIC","endpoints":[{"address":"127.0.0.1","port":80}]}]}""")]
    // Spelled in another case, or numbers as strings: the schema check refuses what a lenient reader would guess.
    [InlineData("""{"Version":"1"}""", "snapshot 1: Version: unknown field \"Version\"")]
    [InlineData("""{"version":"1","clusters":[{"name":"c","discovery":"STATIC","endpoints":[{"address":"127.0.0.1","port":"80","weight":1}]}]}""", "snapshot 1: clusters[0].endpoints[0].port: expected an integer, got string \"80\"")]
    [InlineData("""{"version":"1","clusters":[{"name":"c","discovery":0}]}""", "snapshot 1: clusters[0].discovery: expected one of")]
    [InlineData("""{"version":"1","clusters":[null]}""", "snapshot 1: clusters[0]: the list item is empty (null); remove it or give it a value")]
    [InlineData("""{"version":"1","clusters":[{"name":null,"discovery":"STATIC"}]}""", "snapshot 1: clusters[0].name: required field is null")]
    public void LoadJson_WhatTheStrictReadRefuses_IsReadTheCheckedWay(string json, string? expected = null)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(json);
        Assert.ThrowsAny<JsonException>(() => JsonSerializer.Deserialize(bytes, (JsonTypeInfo<ProxyConfig>)ProxyConfigJson.Strict.GetTypeInfo(typeof(ProxyConfig))));

        var result = ProxyConfigLoader.LoadJson(bytes, "snapshot 1");

        if (expected is null)
        {
            Assert.Empty(result.Errors);
            Assert.Equal(1, result.Config!.Clusters[0].Endpoints[0].Weight);
            Assert.True(result.Config.Listeners[0].BindToPort);
        }
        else
        {
            Assert.Null(result.Config);
            Assert.StartsWith(expected, result.Errors[0], StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("""{"version":"1","listeners":[{"name":"http","address":"127.0.0.1","port":"18080","protocol":"HTTP","defaultFilterChain":{"cluster":"BlackHoleCluster"}}]}""",
        "snapshot 1: listeners[0].port: expected an integer, got string \"18080\"; remove the quotes")]
    [InlineData("""{"version":"1","clusterz":[]}""",
        "snapshot 1: clusterz: unknown field \"clusterz\"; did you mean \"clusters\"? (known fields: version, node, listeners, routeTables, clusters, secrets, accessLog, egress)")]
    [InlineData("""{"version":"1","version":"2"}""", "snapshot 1: not valid JSON: ")]
    [InlineData("""{"version":"1",""", "snapshot 1: not valid JSON: ")]
    [InlineData("[]", "snapshot 1: expected a proxy configuration (an object with version, listeners, routeTables, clusters and secrets), got a list")]
    [InlineData("""{"version":"1","listeners":[{"name":"tls","address":"127.0.0.1","port":18443,"protocol":"TLS","filterChains":[{"serverNames":["a.example.com"],"cluster":"outbound|443||a.example.com"}]}]}""",
        "snapshot 1: listener \"tls\": filterChains[0].cluster: cluster \"outbound|443||a.example.com\" is not defined")]
    public void LoadJson_BadSnapshot_NoConfigAndTheFieldNamed(string json, string expected)
    {
        var result = ProxyConfigLoader.LoadJson(System.Text.Encoding.UTF8.GetBytes(json), "snapshot 1");

        Assert.Null(result.Config);
        Assert.StartsWith(expected, Assert.Single(result.Errors), StringComparison.Ordinal);
    }

    // Found by fuzzing (fuzz/README.md): a byte that is not UTF-8 inside a name or string made the schema walk throw
    // InvalidOperationException from System.Text.Json, which the discovery client took for a broken stream
    // (reconnect, same snapshot, again) instead of a NACK.
    [Theory]
    [InlineData("{\"version\":\"1\",\"clusters\":[{\"name\":\"c\",\"discovery\":\"STATIC\",\"endpoints\":[{\"addr\xC3(ss\":\"127.0.0.1\",\"port\":80}]}]}")]
    [InlineData("{\"version\":\"1\xFF\"}")]
    public void LoadJson_BytesThatAreNotUtf8_NotValidJson(string latin1)
    {
        var result = ProxyConfigLoader.LoadJson(System.Text.Encoding.Latin1.GetBytes(latin1), "snapshot 1");

        Assert.Null(result.Config);
        Assert.Equal("snapshot 1: not valid JSON: the text is not UTF-8", Assert.Single(result.Errors));
    }

    [Fact]
    public void Load_SameTextTwice_EqualSnapshots()
    {
        var first = ProxyConfigLoader.Load(Valid, Source).Config;
        var second = ProxyConfigLoader.Load(Valid, Source).Config;

        Assert.NotNull(first);
        Assert.NotSame(first, second);
        Assert.Equal(first, second);
    }

    [Fact]
    public void Load_SampleEgressGateway_IsConsistentAndAsDocumented()
    {
        var path = Path.Combine(TestPaths.RepositoryRoot, "samples", "proxy", "egress-gateway.yaml");

        var result = ProxyConfigLoader.Load(File.ReadAllText(path), path);

        Assert.Empty(result.Errors);
        var expected = new ProxyConfig
        {
            Version = "static-1",
            Node = new Node { Role = ProxyRole.Gateway, Namespace = "istio-system", ServiceAccount = "istio-egressgateway-service-account" },
            AccessLog = new AccessLogSettings { Path = "/dev/stdout", Encoding = AccessLogEncoding.Text },
            Listeners =
            [
                new Listener
                {
                    Name = "egress-http",
                    Address = "127.0.0.1",
                    Port = 18080,
                    Protocol = ListenerProtocol.Http,
                    DefaultFilterChain = new FilterChain { RouteTable = "http.18080" },
                },
                new Listener
                {
                    Name = "egress-tls",
                    Address = "127.0.0.1",
                    Port = 18443,
                    Protocol = ListenerProtocol.Tls,
                    FilterChains = [new FilterChain { Name = "edition.cnn.com", ServerNames = ["edition.cnn.com"], Cluster = ClusterName.Outbound(443, "", "edition.cnn.com") }],
                },
            ],
            RouteTables =
            [
                new RouteTable
                {
                    Name = "http.18080",
                    VirtualHosts =
                    [
                        new VirtualHost
                        {
                            Name = "edition.cnn.com:80",
                            Domains = ["edition.cnn.com"],
                            Routes =
                            [
                                new Route
                                {
                                    Forward = new ForwardAction
                                    {
                                        Clusters = [new WeightedCluster { Name = ClusterName.Outbound(80, "", "edition.cnn.com"), Weight = 100 }],
                                        Retries = RetryPolicy.IstioDefault,
                                    },
                                },
                            ],
                        },
                    ],
                },
            ],
            Clusters =
            [
                new Cluster
                {
                    Name = "outbound|80||edition.cnn.com",
                    Discovery = ClusterDiscovery.StrictDns,
                    ConnectTimeout = TimeSpan.FromSeconds(10),
                    Endpoints = [new Endpoint { Address = "edition.cnn.com", Port = 80 }],
                },
                new Cluster
                {
                    Name = "outbound|443||edition.cnn.com",
                    Discovery = ClusterDiscovery.StrictDns,
                    ConnectTimeout = TimeSpan.FromSeconds(10),
                    Endpoints = [new Endpoint { Address = "edition.cnn.com", Port = 443 }],
                },
            ],
        };
        Assert.Equal(expected, result.Config);
    }
}

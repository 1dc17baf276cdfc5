using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;

using Meshgate.Core.ProxyConfiguration;

using Xunit;

namespace Meshgate.Tests.ProxyConfiguration;

/// <summary>
/// <see cref="ProxyConfigReader"/> reads what the control plane writes exactly as <see cref="ProxyConfigJson.Strict"/>
/// does: every golden translation, and a snapshot that sets every property of every model type. The completeness
/// check walks the strict serializer's own metadata, so a field added to the model without the reader fails here.
/// </summary>
public class ProxyConfigReaderTests
{
    private const string Certificate = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

    /// <summary>Every property of every model type set to something other than its default; not a consistent snapshot.</summary>
    internal static ProxyConfig KitchenSink() => new()
    {
        Version = "42",
        Node = new Node { Id = "sidecar~10.0.0.7~sleep.default~default.svc.cluster.local", Role = ProxyRole.Gateway, Namespace = "default", ServiceAccount = "sleep" },
        AccessLog = new AccessLogSettings { Path = "/var/log/meshgate/access.log", Encoding = AccessLogEncoding.Json, Format = "[%START_TIME%] %DOWNSTREAM_PEER_URI_SAN%\n" },
        Egress = new EgressSettings { AllowedCidrs = ["10.0.0.0/8", "127.0.0.77"], AllowDomainFronting = true, DomainFrontingExceptions = ["*.cdn.example"] },
        Listeners =
        [
            new Listener
            {
                Name = "0.0.0.0_443",
                Address = "0.0.0.0",
                Port = 443,
                Protocol = ListenerProtocol.Tls,
                FilterChains =
                [
                    new FilterChain
                    {
                        Name = "mtls",
                        ServerNames = ["a.example.com", "*.example.org"],
                        Tls = new DownstreamTls { Mode = TlsMode.Mutual, CertificateSecret = "cert", CaSecret = "ca", SubjectAltNames = ["spiffe://cluster.local/ns/default/sa/sleep"] },
                        RouteTable = "https.443",
                        Cluster = "outbound|443||a.example.com",
                    },
                    new FilterChain { ServerNames = ["b.example.com"], Cluster = Cluster.Passthrough },
                ],
                DefaultFilterChain = new FilterChain { Name = "default", Cluster = Cluster.BlackHole },
                BindToPort = false,
                ExplicitHttpProxy = true,
                UseOriginalDestination = true,
            },
        ],
        RouteTables =
        [
            new RouteTable
            {
                Name = "https.443",
                VirtualHosts =
                [
                    new VirtualHost
                    {
                        Name = "a.example.com:443",
                        Domains = ["a.example.com", "a.example.com:443"],
                        Routes =
                        [
                            new Route
                            {
                                Name = "everything",
                                Match = new RouteMatch
                                {
                                    Exact = "/exact",
                                    Prefix = "/api/",
                                    Regex = "/v[0-9]+/.*",
                                    IgnoreCase = true,
                                    Headers = [new HeaderMatch { Name = ":method", Exact = "GET", Prefix = "G", Regex = "G.*", Present = false, Invert = true }],
                                    QueryParams = [new HeaderMatch { Name = "debug", Exact = "1" }],
                                },
                                Forward = new ForwardAction
                                {
                                    Clusters =
                                    [
                                        new WeightedCluster
                                        {
                                            Name = "outbound|443||a.example.com",
                                            Weight = 3,
                                            Headers = new HeaderRewrite { Request = new HeaderOperations { Set = [new HeaderValue { Name = "x-dest", Value = "a" }] } },
                                        },
                                        new WeightedCluster { Name = "b", Weight = 1 },
                                    ],
                                    Headers = new HeaderRewrite
                                    {
                                        Request = new HeaderOperations
                                        {
                                            Set = [new HeaderValue { Name = "x-set", Value = "1" }],
                                            Add = [new HeaderValue { Name = "x-add", Value = "2" }],
                                            Remove = ["x-remove"],
                                        },
                                        Response = new HeaderOperations { Remove = ["server"] },
                                    },
                                    PathRewrite = new PathRewrite { Prefix = "/v2", Regex = "/v1/(.*)", Substitution = "/v2/\\1" },
                                    Mirrors = [new MirrorPolicy { Cluster = "b", Percentage = 12.5 }],
                                    Cors = new CorsPolicy
                                    {
                                        AllowOrigins = [new OriginMatch { Exact = "https://a.example", Prefix = "https://b", Regex = "https://.*\\.c" }],
                                        AllowMethods = ["GET", "POST"],
                                        AllowHeaders = ["x-a"],
                                        ExposeHeaders = ["x-b"],
                                        MaxAgeSeconds = 600,
                                        AllowCredentials = true,
                                        IgnoreUnmatchedPreflights = true,
                                    },
                                    Timeout = TimeSpan.FromMilliseconds(1500),
                                    Retries = new RetryPolicy
                                    {
                                        Attempts = 3,
                                        RetryOn = [.. Enum.GetValues<RetryCondition>()],
                                        RetriableStatusCodes = [502, 503, 504],
                                        PerTryTimeout = TimeSpan.FromMilliseconds(250),
                                    },
                                    HostRewrite = "b.example.com",
                                },
                                DirectResponse = new DirectResponseAction { Status = 418, Body = "tea \"pot\"\n\u00e9\u20ac\U0001F600 <&> \\" },
                                Redirect = new RedirectAction { Scheme = "https", Host = "c.example.com", Port = 8443, Path = "/moved", Status = 308 },
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
                Name = "outbound|443||a.example.com",
                Discovery = ClusterDiscovery.Eds,
                Endpoints = [new Endpoint { Address = "10.0.0.1", Port = 8443, Weight = 5 }, new Endpoint { Address = "10.0.0.2", Port = 8443, Weight = 1 }],
                ConnectTimeout = TimeSpan.FromSeconds(3),
                MaxPendingConnects = 64,
                Tls = new UpstreamTls
                {
                    Mode = TlsMode.IstioMutual,
                    Sni = "a.example.com",
                    SubjectAltNames = ["spiffe://cluster.local/ns/istio-system/sa/istio-egressgateway-service-account"],
                    CaSecret = "ca",
                    CertificateSecret = "cert",
                },
            },
        ],
        Secrets =
        [
            new Secret { Name = "cert", CertificateChain = Certificate, PrivateKey = "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n", TrustedCa = Certificate },
        ],
    };

    internal static JsonTypeInfo<ProxyConfig> StrictInfo => (JsonTypeInfo<ProxyConfig>)ProxyConfigJson.Strict.GetTypeInfo(typeof(ProxyConfig));

    [Fact]
    public void TryRead_EveryGoldenTranslation_ReadsWhatTheStrictSerializerReads()
    {
        var files = Directory.GetFiles(Path.Combine(TestPaths.RepositoryRoot, "tests", "Meshgate.Tests", "TestData", "Translation"), "*.yaml", SearchOption.AllDirectories)
            .Where(f => Path.GetFileName(f) is "sidecar.yaml" or "gateway.yaml").ToList();
        var read = 0;
        foreach (var file in files)
        {
            var checkedRead = ProxyConfigLoader.Load(File.ReadAllText(file), file);
            if (checkedRead.Errors.Count > 0)
            {
                continue; // ISTIO_MUTUAL without the CA's secrets: not a snapshot the control plane sends
            }

            var bytes = ProxyConfigLoader.ToJsonUtf8(checkedRead.Config!);

            Assert.True(ProxyConfigReader.TryRead(bytes, out var config), file);
            Assert.Equal(checkedRead.Config, config);
            Assert.Equal(JsonSerializer.Deserialize(bytes, StrictInfo), config);
            Assert.Equal(checkedRead.Config, ProxyConfigLoader.LoadJson(bytes, file).Config); // the proxy's whole read
            read++;
        }

        Assert.True(read > 10, $"only {read} golden translations read");
    }

    [Fact]
    public void TryRead_KitchenSink_ReadsBackEqual()
    {
        var expected = KitchenSink();
        var bytes = ProxyConfigLoader.ToJsonUtf8(expected);

        Assert.True(ProxyConfigReader.TryRead(bytes, out var config));
        Assert.Equal(expected, config);
        Assert.Equal(JsonSerializer.Deserialize(bytes, StrictInfo), config);
    }

    [Fact]
    public void TryRead_KitchenSinkIndentedAndEscaped_ReadsBackEqual()
    {
        // Whitespace between tokens and escaped property names and strings read as their plain forms.
        var expected = KitchenSink();
        var indented = ProxyConfigLoader.ToJson(expected, indented: true)
            .Replace("\"version\"", "\"vers\\u0069on\"", StringComparison.Ordinal)
            .Replace("\"ISTIO_MUTUAL\"", "\"ISTIO\\u005fMUTUAL\"", StringComparison.Ordinal)
            .Replace("\"1500ms\"", "\"1500m\\u0073\"", StringComparison.Ordinal);

        Assert.True(ProxyConfigReader.TryRead(Encoding.UTF8.GetBytes(indented), out var config));
        Assert.Equal(expected, config);
    }

    [Fact]
    public void KitchenSink_SetsEveryPropertyOfEveryModelType()
    {
        // Walks the JSON in step with the strict serializer's metadata: every property of every type reachable from
        // ProxyConfig must occur with a value other than null, false, 0 or empty, so the equality tests above cover it.
        var root = JsonNode.Parse(ProxyConfigLoader.ToJson(KitchenSink()))!;
        var set = new HashSet<(Type, string)>();
        Visit(root, typeof(ProxyConfig), set);

        var missing = new List<string>();
        foreach (var type in ModelTypes())
        {
            foreach (var property in Fields(type))
            {
                if (!set.Contains((type, property.Name)))
                {
                    missing.Add($"{type.Name}.{property.Name}");
                }
            }
        }

        Assert.Empty(missing);
        Assert.Equal(27, ModelTypes().Count);
    }

    [Fact]
    public void TryRead_EveryEnumName_ReadsAsTheStrictSerializerReadsIt()
    {
        var root = JsonNode.Parse(ProxyConfigLoader.ToJson(KitchenSink()))!;
        var cases = 0;
        foreach (var (path, type) in EnumFields(root, typeof(ProxyConfig), []))
        {
            foreach (var name in EnumNames(type))
            {
                var json = ProxyConfigReaderDifferentialTests.Edit(root, path, _ => JsonValue.Create(name));
                var bytes = Encoding.UTF8.GetBytes(json);
                Assert.True(ProxyConfigReader.TryRead(bytes, out var config), $"{string.Join('.', path)} = {name}");
                Assert.Equal(JsonSerializer.Deserialize(bytes, StrictInfo), config);
                cases++;
            }
        }

        Assert.True(cases >= 22, $"{cases} enum cases");
    }

    [Theory]
    // System.Text.Json's enum converter also takes comma-separated names (read as their bitwise OR) and names padded
    // with spaces, and skips fields named like [JsonIgnore]d properties; the schema check refuses all three, and so
    // does the reader: it is what the loader falls back to that says what is wrong.
    [InlineData("""{"version":"1","clusters":[{"name":"c","discovery":"STATIC, EDS"}]}""", "clusters[0].discovery: \"STATIC, EDS\" is not one of")]
    [InlineData("""{"version":"1","clusters":[{"name":"c","discovery":"ORIGINAL_DST,EDS"}]}""", "clusters[0].discovery: \"ORIGINAL_DST,EDS\" is not one of")]
    [InlineData("""{"version":"1","clusters":[{"name":"c","discovery":" STATIC"}]}""", "clusters[0].discovery: \" STATIC\" is not one of")]
    [InlineData("""{"version":"1","accessLog":{"path":"x","encoding":"TEXT "}}""", "accessLog.encoding: \"TEXT \" is not one of")]
    [InlineData("""{"version":"1","listeners":[{"name":"l","address":"127.0.0.1","port":1,"protocol":"TCP","bindToPort":true,"endpoint":"x"}]}""", "listeners[0].endpoint: unknown field \"endpoint\"")]
    public void TryRead_WhatOnlyTheSerializerTakes_IsRefusedAsTheSchemaCheckRefusesIt(string json, string error)
    {
        var bytes = Encoding.UTF8.GetBytes(json);
        Assert.NotNull(JsonSerializer.Deserialize(bytes, StrictInfo));

        Assert.False(ProxyConfigReader.TryRead(bytes, out _));
        var result = ProxyConfigLoader.LoadJson(bytes, "snapshot 1");
        Assert.Null(result.Config);
        Assert.StartsWith("snapshot 1: " + error, Assert.Single(result.Errors), StringComparison.Ordinal);
    }

    /// <summary>Every object type reachable from <see cref="ProxyConfig"/> through the strict metadata.</summary>
    internal static List<Type> ModelTypes()
    {
        var types = new List<Type>();
        void Add(Type type)
        {
            type = ElementType(type);
            if (types.Contains(type) || ProxyConfigJson.Strict.GetTypeInfo(type).Kind != JsonTypeInfoKind.Object)
            {
                return;
            }

            types.Add(type);
            foreach (var property in Fields(type))
            {
                Add(property.PropertyType);
            }
        }

        Add(typeof(ProxyConfig));
        return types;
    }

    /// <summary>T for T?, and for EquatableArray&lt;T&gt;.</summary>
    internal static Type ElementType(Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        return type.IsGenericType && type.GetGenericTypeDefinition() == typeof(EquatableArray<>) ? type.GetGenericArguments()[0] : type;
    }

    /// <summary>The properties the strict serializer reads: those of its metadata not marked [JsonIgnore].</summary>
    internal static IEnumerable<JsonPropertyInfo> Fields(Type type) =>
        ProxyConfigJson.Strict.GetTypeInfo(type).Properties
            .Where(p => p.AttributeProvider?.IsDefined(typeof(System.Text.Json.Serialization.JsonIgnoreAttribute), false) != true);

    internal static IEnumerable<string> EnumNames(Type type) =>
        type.GetFields(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Static)
            .Select(f => f.GetCustomAttributes(typeof(System.Text.Json.Serialization.JsonStringEnumMemberNameAttribute), false)
                .Cast<System.Text.Json.Serialization.JsonStringEnumMemberNameAttribute>().Single().Name);

    private static void Visit(JsonNode? node, Type type, HashSet<(Type, string)> set)
    {
        type = ElementType(type);
        if (node is JsonArray array)
        {
            foreach (var item in array)
            {
                Visit(item, type, set);
            }

            return;
        }

        if (node is not JsonObject obj)
        {
            return;
        }

        // The value a property has when the input leaves it out (Weight = 1, BindToPort = true, null, empty).
        var fresh = Activator.CreateInstance(type)!;
        foreach (var property in Fields(type))
        {
            var value = obj[property.Name];
            var unset = JsonSerializer.Serialize(property.Get!(fresh), property.PropertyType, ProxyConfigJson.Options);
            if (value is not null && value.ToJsonString() is var json && json != unset && json is not ("[]" or "\"\""))
            {
                set.Add((type, property.Name));
                Visit(value, property.PropertyType, set);
            }
        }
    }

    /// <summary>The path of every enum value in <paramref name="node"/>, with its enum type.</summary>
    private static IEnumerable<(object[] Path, Type Enum)> EnumFields(JsonNode? node, Type type, object[] path)
    {
        var element = ElementType(type);
        if (node is JsonArray array)
        {
            for (var i = 0; i < array.Count; i++)
            {
                foreach (var found in EnumFields(array[i], element, [.. path, i]))
                {
                    yield return found;
                }
            }
        }
        else if (node is JsonObject obj)
        {
            foreach (var property in Fields(element))
            {
                foreach (var found in EnumFields(obj[property.Name], property.PropertyType, [.. path, property.Name]))
                {
                    yield return found;
                }
            }
        }
        else if (node is JsonValue && element.IsEnum)
        {
            yield return (path, element);
        }
    }
}

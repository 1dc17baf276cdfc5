using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

using Meshgate.Core.Resources;

namespace Meshgate.Core.ProxyConfiguration;

/// <summary>
/// The JSON of <see cref="ProxyConfig"/> with source-generated metadata (<see cref="ProxyConfigJsonContext"/>) only: no
/// reflection or emitted code at run time, so a proxy that has just started reads a 10,000-cluster snapshot without
/// first warming the serializer up, and the proxy publishes as Native AOT. The output is byte for byte what
/// <see cref="ResourceJson.Options"/> writes (the same conventions, spelled out here so that the proxy never builds
/// the reflection-based options).
/// </summary>
public static class ProxyConfigJson
{
    /// <summary>
    /// For writing and for reading hand-written input after <see cref="InitializerDefaults.Fill"/> (generated code
    /// cannot keep the defaults of init-only properties that the input leaves out, dotnet/runtime#84484).
    /// </summary>
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        TypeInfoResolver = ProxyConfigJsonContext.Default,
    };

    /// <summary>For people: indented like kubectl (<c>/config_dump</c>).</summary>
    public static readonly JsonSerializerOptions Indented = new(Options) { WriteIndented = true, IndentSize = 4 };

    /// <summary>The metadata of <see cref="ProxyConfig"/> in <see cref="Options"/>.</summary>
    public static readonly JsonTypeInfo<ProxyConfig> ConfigInfo = (JsonTypeInfo<ProxyConfig>)Options.GetTypeInfo(typeof(ProxyConfig));

    /// <summary>The metadata of <see cref="ProxyConfig"/> in <see cref="Indented"/>.</summary>
    public static readonly JsonTypeInfo<ProxyConfig> IndentedConfigInfo = (JsonTypeInfo<ProxyConfig>)Indented.GetTypeInfo(typeof(ProxyConfig));

    /// <summary>
    /// Reading with nothing guessed: exact field names, no unknown or repeated fields, numbers as numbers, enums by
    /// name, required fields present and not null, and every field with a default of its own (an endpoint's weight,
    /// a listener's bindToPort) written out, as <see cref="Options"/> writes them. The specification (and test oracle)
    /// of <see cref="ProxyConfigReader"/>, which reads snapshots this way without the serializer's cost; it is laxer
    /// than the schema check in two ways the reader is not: enum names in a comma-separated list or padded with
    /// spaces, and fields named like <c>[JsonIgnore]</c>d properties.
    /// </summary>
    internal static readonly JsonSerializerOptions Strict = CreateStrict();

    /// <summary>The enums of the model, each read by name only in <see cref="Strict"/>.</summary>
    private static JsonConverter[] StrictEnumConverters() =>
    [
        new JsonStringEnumConverter<AccessLogOperator>(namingPolicy: null, allowIntegerValues: false),
        new JsonStringEnumConverter<TlsMode>(namingPolicy: null, allowIntegerValues: false),
        new JsonStringEnumConverter<ListenerProtocol>(namingPolicy: null, allowIntegerValues: false),
        new JsonStringEnumConverter<RetryCondition>(namingPolicy: null, allowIntegerValues: false),
        new JsonStringEnumConverter<AccessLogEncoding>(namingPolicy: null, allowIntegerValues: false),
        new JsonStringEnumConverter<TrafficDirection>(namingPolicy: null, allowIntegerValues: false),
        new JsonStringEnumConverter<ClusterDiscovery>(namingPolicy: null, allowIntegerValues: false),
        new JsonStringEnumConverter<ProxyRole>(namingPolicy: null, allowIntegerValues: false),
    ];

    private static JsonSerializerOptions CreateStrict()
    {
        var options = new JsonSerializerOptions(Options)
        {
            TypeInfoResolver = ProxyConfigJsonContext.Default.WithAddedModifier(RequireFieldsWithDefaults),
            PropertyNameCaseInsensitive = false,
            NumberHandling = JsonNumberHandling.Strict,
            UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
            RespectNullableAnnotations = true,
            RespectRequiredConstructorParameters = true,
            AllowDuplicateProperties = false,
        };
        foreach (var converter in StrictEnumConverters())
        {
            options.Converters.Add(converter);
        }

        options.MakeReadOnly();
        return options;
    }

    // A property whose initializer gives it a value of its own (Weight = 1) must be present: generated code would
    // read its absence as 0.
    private static void RequireFieldsWithDefaults(JsonTypeInfo info)
    {
        if (info.Kind != JsonTypeInfoKind.Object || !InitializerDefaults.Fields.TryGetValue(info.Type, out var defaults))
        {
            return;
        }

        foreach (var property in info.Properties)
        {
            if (defaults.ContainsKey(property.Name))
            {
                property.IsRequired = true;
            }
        }
    }
}

/// <summary>Compile-time serialization metadata for the snapshot model, element types of its lists included.</summary>
[JsonSourceGenerationOptions(UseStringEnumConverter = true)]
[JsonSerializable(typeof(ProxyConfig))]
[JsonSerializable(typeof(Node))]
[JsonSerializable(typeof(Listener))]
[JsonSerializable(typeof(FilterChain))]
[JsonSerializable(typeof(RouteTable))]
[JsonSerializable(typeof(VirtualHost))]
[JsonSerializable(typeof(Route))]
[JsonSerializable(typeof(HeaderMatch))]
[JsonSerializable(typeof(WeightedCluster))]
[JsonSerializable(typeof(HeaderValue))]
[JsonSerializable(typeof(MirrorPolicy))]
[JsonSerializable(typeof(OriginMatch))]
[JsonSerializable(typeof(RetryCondition))]
[JsonSerializable(typeof(Cluster))]
[JsonSerializable(typeof(Endpoint))]
[JsonSerializable(typeof(Secret))]
[JsonSerializable(typeof(EgressSettings))]
[JsonSerializable(typeof(string))]
[JsonSerializable(typeof(int))]
public sealed partial class ProxyConfigJsonContext : JsonSerializerContext
{
}

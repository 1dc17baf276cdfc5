using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

using Meshgate.Core.Resources;

namespace Meshgate.Core.ProxyConfiguration;

/// <summary>
/// The JSON of <see cref="ProxyConfig"/> with source-generated metadata (<see cref="ProxyConfigJsonContext"/>): no
/// reflection or emitted code at run time, so a proxy that has just started reads a 10,000-cluster snapshot without
/// first warming the serializer up. The output is byte for byte what <see cref="ResourceJson.Options"/> writes.
/// Hand-written input (bootstrap files, a snapshot that fails <see cref="Strict"/>) is read with
/// <see cref="ResourceJson.Options"/> instead: generated code cannot keep the defaults of init-only properties that
/// the input leaves out (dotnet/runtime#84484), and reflection can.
/// </summary>
public static class ProxyConfigJson
{
    /// <summary>For writing (the conventions of <see cref="ResourceJson.Options"/>); not for reading hand-written input.</summary>
    public static readonly JsonSerializerOptions Options = new(ResourceJson.Options)
    {
        TypeInfoResolver = ProxyConfigJsonContext.Default,
    };

    /// <summary>For people: indented like kubectl (<c>/config_dump</c>).</summary>
    public static readonly JsonSerializerOptions Indented = new(Options) { WriteIndented = true, IndentSize = 4 };

    /// <summary>
    /// Reading with nothing guessed: exact field names, no unknown or repeated fields, numbers as numbers, enums by
    /// name, required fields present and not null, and every field with a default of its own (an endpoint's weight,
    /// a listener's bindToPort) written out, as <see cref="Options"/> writes them. The specification (and test oracle)
    /// of <see cref="ProxyConfigReader"/>, which reads snapshots this way without the serializer's cost; it is laxer
    /// than the schema check in two ways the reader is not: enum names in a comma-separated list or padded with
    /// spaces, and fields named like <c>[JsonIgnore]</c>d properties.
    /// </summary>
    internal static readonly JsonSerializerOptions Strict = CreateStrict();

    private static JsonSerializerOptions CreateStrict()
    {
        var options = new JsonSerializerOptions(ResourceJson.Options)
        {
            TypeInfoResolver = ProxyConfigJsonContext.Default.WithAddedModifier(RequireFieldsWithDefaults),
            PropertyNameCaseInsensitive = false,
            NumberHandling = JsonNumberHandling.Strict,
            UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
            RespectNullableAnnotations = true,
            RespectRequiredConstructorParameters = true,
            AllowDuplicateProperties = false,
        };
        options.Converters.Clear();
        options.Converters.Add(new JsonStringEnumConverter(namingPolicy: null, allowIntegerValues: false));
        options.MakeReadOnly();
        return options;
    }

    // A property whose initializer gives it a value of its own (Weight = 1) must be present: generated code would
    // read its absence as 0, where reflection keeps the initializer's value.
    private static void RequireFieldsWithDefaults(JsonTypeInfo info)
    {
        if (info.Kind != JsonTypeInfoKind.Object || info.Type.IsValueType || info.Type.GetConstructor(Type.EmptyTypes) is null)
        {
            return;
        }

        var fresh = Activator.CreateInstance(info.Type);
        foreach (var property in info.Properties)
        {
            if (property.AttributeProvider is System.Reflection.PropertyInfo clr && clr.PropertyType.IsValueType
                && Nullable.GetUnderlyingType(clr.PropertyType) is null
                && !Equals(clr.GetValue(fresh), Activator.CreateInstance(clr.PropertyType)))
            {
                property.IsRequired = true;
            }
        }
    }
}

/// <summary>Compile-time serialization metadata for the snapshot model, element types of its lists included.</summary>
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

using System.Collections.Frozen;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;

namespace Meshgate.Core.ProxyConfiguration;

/// <summary>
/// The fields of the model whose C# initializer gives them a value of their own (<c>Weight = 1</c>), by type and JSON
/// name. Source-generated metadata cannot keep such a default when the input leaves the field out: it reads the
/// absence as 0 or false (dotnet/runtime#84484). So hand-written input gets them written in before it is read
/// (<see cref="Fill"/>), and <see cref="ProxyConfigJson.Strict"/> requires them. A test checks this table against
/// the model's initializers, so a new one cannot be forgotten.
/// </summary>
internal static class InitializerDefaults
{
    public static readonly FrozenDictionary<Type, FrozenDictionary<string, JsonNode>> Fields = new Dictionary<Type, FrozenDictionary<string, JsonNode>>
    {
        [typeof(Listener)] = One("bindToPort", JsonValue.Create(true)),
        [typeof(WeightedCluster)] = One("weight", JsonValue.Create(1)),
        [typeof(RedirectAction)] = One("status", JsonValue.Create(301)),
        [typeof(Endpoint)] = One("weight", JsonValue.Create(1)),
    }.ToFrozenDictionary();

    /// <summary>
    /// Writes each missing field of <see cref="Fields"/> into <paramref name="node"/> (a tree of <paramref name="type"/>
    /// that passed the schema check), walking the tree with the source-generated metadata.
    /// </summary>
    public static void Fill(JsonNode? node, Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (node is JsonArray array)
        {
            if (ItemType(type) is { } itemType)
            {
                foreach (var item in array)
                {
                    Fill(item, itemType);
                }
            }

            return;
        }

        if (node is not JsonObject obj)
        {
            return;
        }

        var info = ProxyConfigJson.Options.GetTypeInfo(type);
        if (info.Kind == JsonTypeInfoKind.Dictionary)
        {
            foreach (var (_, value) in obj)
            {
                Fill(value, info.ElementType!);
            }

            return;
        }

        if (info.Kind != JsonTypeInfoKind.Object)
        {
            return;
        }

        foreach (var property in info.Properties)
        {
            if (obj[property.Name] is { } child)
            {
                Fill(child, property.PropertyType);
            }
        }

        if (Fields.TryGetValue(type, out var defaults))
        {
            foreach (var (name, value) in defaults)
            {
                if (!obj.ContainsKey(name))
                {
                    obj[name] = value.DeepClone();
                }
            }
        }
    }

    private static Type? ItemType(Type type)
    {
        if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(EquatableArray<>))
        {
            return type.GetGenericArguments()[0];
        }

        var info = ProxyConfigJson.Options.GetTypeInfo(type);
        return info.Kind == JsonTypeInfoKind.Enumerable ? info.ElementType : null;
    }

    private static FrozenDictionary<string, JsonNode> One(string name, JsonNode value) =>
        new Dictionary<string, JsonNode>(StringComparer.Ordinal) { [name] = value }.ToFrozenDictionary(StringComparer.Ordinal);
}

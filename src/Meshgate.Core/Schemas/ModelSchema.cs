using System.Collections.Concurrent;
using System.ComponentModel;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Meshgate.Core.Schemas;

/// <summary>What a CLR model type says about the JSON it reads: one of these shapes.</summary>
public enum ModelShape
{
    String,
    Boolean,
    Integer,
    Number,
    Enum,
    Timestamp,
    Bytes,
    Duration,
    IntOrString,
    Quantity,
    /// <summary>Any JSON (a free-form object or value).</summary>
    Free,
    Map,
    List,
    Object,
}

/// <summary>One field of an object model: its JSON name, CLR type, whether it is required, and its description.</summary>
public sealed record ModelField(string Name, Type Type, bool Required, string? Description);

/// <summary>
/// The JSON schema a CLR model type describes, read by reflection from the same types strict validation uses
/// (Meshgate's records for Istio and Gateway API, KubernetesClient's models for Kubernetes' kinds): the OpenAPI documents,
/// strategic merge patch and server-side apply walk it.
/// </summary>
public static class ModelSchema
{
    private static readonly ConcurrentDictionary<Type, IReadOnlyDictionary<string, ModelField>> Fields = new();

    public static Type Unwrap(Type type) => Nullable.GetUnderlyingType(type) ?? type;

    public static ModelShape ShapeOf(Type type)
    {
        type = Unwrap(type);
        if (type == typeof(string))
        {
            return ModelShape.String;
        }

        if (type == typeof(bool))
        {
            return ModelShape.Boolean;
        }

        if (type == typeof(int) || type == typeof(long) || type == typeof(uint) || type == typeof(short) || type == typeof(byte) || type == typeof(ulong))
        {
            return ModelShape.Integer;
        }

        if (type == typeof(double) || type == typeof(float) || type == typeof(decimal))
        {
            return ModelShape.Number;
        }

        if (type.IsEnum)
        {
            return ModelShape.Enum;
        }

        if (type == typeof(DateTime) || type == typeof(DateTimeOffset))
        {
            return ModelShape.Timestamp;
        }

        if (type == typeof(byte[]))
        {
            return ModelShape.Bytes;
        }

        if (type == typeof(TimeSpan))
        {
            return ModelShape.Duration;
        }

        if (type == typeof(k8s.Models.IntOrString))
        {
            return ModelShape.IntOrString;
        }

        if (type == typeof(k8s.Models.ResourceQuantity))
        {
            return ModelShape.Quantity;
        }

        if (type == typeof(object) || typeof(JsonNode).IsAssignableFrom(type) || type == typeof(JsonElement))
        {
            return ModelShape.Free;
        }

        if (MapValueType(type) is not null)
        {
            return ModelShape.Map;
        }

        if (ListItemType(type) is not null)
        {
            return ModelShape.List;
        }

        return type.GetCustomAttribute<JsonConverterAttribute>() is not null ? ModelShape.String : ModelShape.Object;
    }

    /// <summary>The fields of an object model by JSON name, in declaration order.</summary>
    public static IReadOnlyDictionary<string, ModelField> FieldsOf(Type type) => Fields.GetOrAdd(Unwrap(type), Build);

    /// <summary>The type of field <paramref name="name"/> of <paramref name="type"/>, or null when it has none.</summary>
    public static Type? FieldType(Type? type, string name) =>
        type is not null && ShapeOf(type) == ModelShape.Object && FieldsOf(type).TryGetValue(name, out var field) ? field.Type : null;

    public static Type? MapValueType(Type type)
    {
        type = Unwrap(type);
        foreach (var candidate in type.GetInterfaces().Prepend(type))
        {
            if (candidate.IsGenericType && candidate.GetGenericTypeDefinition() == typeof(IDictionary<,>)
                && candidate.GetGenericArguments()[0] == typeof(string))
            {
                return candidate.GetGenericArguments()[1];
            }
        }

        return null;
    }

    public static Type? ListItemType(Type type)
    {
        type = Unwrap(type);
        if (type == typeof(string) || type == typeof(byte[]))
        {
            return null;
        }

        if (type.IsArray)
        {
            return type.GetElementType();
        }

        foreach (var candidate in type.GetInterfaces().Prepend(type))
        {
            if (candidate.IsGenericType && candidate.GetGenericTypeDefinition() == typeof(IEnumerable<>))
            {
                return candidate.GetGenericArguments()[0];
            }
        }

        return null;
    }

    /// <summary>The API names of an enum's members.</summary>
    public static IReadOnlyList<string> EnumNames(Type type) =>
        Unwrap(type).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Select(f => f.GetCustomAttribute<JsonStringEnumMemberNameAttribute>()?.Name ?? f.Name)
            .ToArray();

    /// <summary>The description of a type (its <see cref="DescriptionAttribute"/>), if it has one.</summary>
    public static string? DescriptionOf(Type type) => Unwrap(type).GetCustomAttribute<DescriptionAttribute>()?.Description;

    private static IReadOnlyDictionary<string, ModelField> Build(Type type)
    {
        var fields = new Dictionary<string, ModelField>(StringComparer.Ordinal);
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.GetCustomAttribute<JsonIgnoreAttribute>() is { Condition: JsonIgnoreCondition.Always } || property.GetIndexParameters().Length > 0)
            {
                continue;
            }

            var name = property.GetCustomAttribute<JsonPropertyNameAttribute>()?.Name
                ?? JsonNamingPolicy.CamelCase.ConvertName(property.Name);
            var required = property.GetCustomAttribute<JsonRequiredAttribute>() is not null
                || property.GetCustomAttribute<System.Runtime.CompilerServices.RequiredMemberAttribute>() is not null;
            fields[name] = new ModelField(name, property.PropertyType, required, property.GetCustomAttribute<DescriptionAttribute>()?.Description);
        }

        return fields;
    }
}

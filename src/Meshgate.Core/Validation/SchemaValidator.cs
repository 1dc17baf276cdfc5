using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Meshgate.Core.Validation;

/// <summary>
/// Strict structural validation of a JSON tree against the CLR type that models it, like
/// kubectl's <c>--validate=strict</c>: unknown fields, wrong types, missing required fields and
/// values outside an enum are each reported with their field path. Works for Meshgate's records
/// and KubernetesClient's models alike (both declare their JSON names).
/// </summary>
internal static class SchemaValidator
{
    private static readonly ConcurrentDictionary<Type, ObjectSchema> Schemas = new();

    // Reflection answers per type, asked once per value otherwise (a 10,000-cluster snapshot has a million values).
    private static readonly ConcurrentDictionary<Type, bool> HasConverter = new();
    private static readonly ConcurrentDictionary<Type, Type?> DictionaryValueTypes = new();
    private static readonly ConcurrentDictionary<Type, Type?> ListItemTypes = new();
    private static readonly ConcurrentDictionary<Type, IReadOnlyList<string>> EnumNameLists = new();

    /// <summary>What the walk reads of each type it reaches: fields (properties), enum members, list and map interfaces.</summary>
    internal const DynamicallyAccessedMemberTypes Walked =
        DynamicallyAccessedMemberTypes.PublicProperties | DynamicallyAccessedMemberTypes.PublicFields | DynamicallyAccessedMemberTypes.Interfaces;

    public delegate void Report(string path, string message, JsonNode? node);

    public static void Validate(JsonNode? node, [DynamicallyAccessedMembers(Walked)] Type type, string path, Report report)
    {
        if (Nullable.GetUnderlyingType(type) is { } underlying)
        {
            type = Reached(underlying);
        }

        if (node is null)
        {
            return; // null means "unset" in Kubernetes APIs
        }

        if (type == typeof(string))
        {
            Expect(node, JsonValueKind.String, "a string", path, report);
        }
        else if (type == typeof(bool))
        {
            Expect(node, JsonValueKind.True, "a boolean (true or false)", path, report);
        }
        else if (IsInteger(type))
        {
            ValidateInteger(node, type, path, report);
        }
        else if (type == typeof(double) || type == typeof(float) || type == typeof(decimal))
        {
            Expect(node, JsonValueKind.Number, "a number", path, report);
        }
        else if (type.IsEnum)
        {
            ValidateEnum(node, type, path, report);
        }
        else if (type == typeof(DateTime) || type == typeof(DateTimeOffset))
        {
            if (Expect(node, JsonValueKind.String, "a timestamp (RFC 3339)", path, report)
                && !DateTimeOffset.TryParse(node.GetValue<string>(), out _))
            {
                report(path, $"{Describe(node)} is not a timestamp; use RFC 3339, for example 2024-01-09T15:35:47Z", node);
            }
        }
        else if (type == typeof(byte[]))
        {
            if (Expect(node, JsonValueKind.String, "base64-encoded data", path, report)
                && !IsBase64(node.GetValue<string>()))
            {
                report(path, $"{Describe(node)} is not valid base64; encode the value with base64 (a Secret takes plain text under stringData instead)", node);
            }
        }
        else if (type == typeof(JsonObject))
        {
            if (node is not JsonObject)
            {
                report(path, $"expected an object, got {Describe(node)}", node);
            }
        }
        else if (type == typeof(object) || typeof(JsonNode).IsAssignableFrom(type) || type == typeof(JsonElement))
        {
            // free-form
        }
        else if (type.Namespace == "k8s.Models" && ValidateKubernetesScalar(node, type, path, report))
        {
            // IntOrString or ResourceQuantity, checked
        }
        else if (type == typeof(TimeSpan))
        {
            if (Expect(node, JsonValueKind.String, "a duration (such as \"10s\" or \"250ms\")", path, report)
                && !Durations.TryParse(node.GetValue<string>(), out _))
            {
                report(path, $"{Describe(node)} is not a duration; write a number with a unit (h, m, s, ms, us, ns), such as 10s, 250ms or 1m30s", node);
            }
        }
        else if (HasConverter.GetOrAdd(type, static t => t.GetCustomAttribute<JsonConverterAttribute>() is not null) && ListItemType(type) is null)
        {
            // Other types with their own converter are scalars.
            if (node is not JsonValue)
            {
                report(path, $"expected a string or a number, got {Describe(node)}", node);
            }
        }
        else if (DictionaryValueType(type) is { } valueType)
        {
            if (node is not JsonObject map)
            {
                report(path, $"expected a map of {Noun(valueType)}, got {Describe(node)}", node);
                return;
            }

            foreach (var (key, value) in map)
            {
                Validate(value, Reached(valueType), FieldPath.Field(path, key), report);
            }
        }
        else if (ListItemType(type) is { } itemType)
        {
            if (node is not JsonArray array)
            {
                var hint = node switch
                {
                    JsonValue => $"; write it as a list: [{node.ToJsonString()}]",
                    JsonObject => "; start each list item with \"- \"",
                    _ => "",
                };
                report(path, $"expected a list of {Noun(itemType)}, got {Describe(node)}{hint}", node);
                return;
            }

            for (var i = 0; i < array.Count; i++)
            {
                if (array[i] is null)
                {
                    // A bare "- " in YAML: no API takes an empty list item, and the readers would see a hole.
                    report(FieldPath.Index(path, i), $"the list item is empty (null); remove it or give it a value (this list holds {Noun(itemType)})", node);
                    continue;
                }

                Validate(array[i], Reached(itemType), FieldPath.Index(path, i), report);
            }
        }
        else
        {
            ValidateObject(node, type, path, report);
        }
    }

    /// <summary>
    /// A type the walk reached through a property, list item or map value of a type it was given (or of one reached so
    /// before), as one annotated for the walk. The trimmer cannot follow that chain, but keeps what the walk reads for
    /// every type reachable this way that the program uses: the proxy's model through its source-generated JSON
    /// metadata (ProxyConfigJsonContext names every property; UseStringEnumConverter keeps each enum's members), and
    /// the resource models, which only the JIT-run meshgate walks. MeshgateProxyTests checks the Native AOT proxy's
    /// messages (unknown fields with the known ones listed, enum names) against meshgate's.
    /// </summary>
    [UnconditionalSuppressMessage("Trimming", "IL2068", Justification = "Reached types are model types whose walked members the JSON metadata keeps; see the summary.")]
    [return: DynamicallyAccessedMembers(Walked)]
    private static Type Reached(Type type) => type;

    private static ObjectSchema SchemaOf([DynamicallyAccessedMembers(Walked)] Type type) =>
        Schemas.TryGetValue(type, out var schema) ? schema : Schemas.GetOrAdd(type, ObjectSchema.Build(type));

    private static void ValidateObject(JsonNode node, [DynamicallyAccessedMembers(Walked)] Type type, string path, Report report)
    {
        if (node is not JsonObject obj)
        {
            report(path, $"expected an object, got {Describe(node)}", node);
            return;
        }

        var schema = SchemaOf(type);
        foreach (var (key, value) in obj)
        {
            if (!schema.Fields.TryGetValue(key, out var field))
            {
                report(FieldPath.Field(path, key), UnknownField(key, schema, path), value ?? node);
                continue;
            }

            if (value is null && field.Required)
            {
                report(FieldPath.Field(path, key), "required field is null", node);
                continue;
            }

            Validate(value, Reached(field.Type), FieldPath.Field(path, key), report);
        }

        foreach (var field in schema.RequiredFields)
        {
            if (!obj.ContainsKey(field))
            {
                report(FieldPath.Field(path, field), "required field is missing", node);
            }
        }
    }

    private static string UnknownField(string key, ObjectSchema schema, string path)
    {
        var suggestion = Suggest(key, schema.Fields.Keys);
        var hint = suggestion is not null ? $"; did you mean \"{suggestion}\"?"
            : path.Length == 0 ? MisplacedTopLevelField(key, schema) : "";
        return $"unknown field \"{key}\"{hint} (known fields: {string.Join(", ", schema.Fields.Keys)})";
    }

    /// <summary>A hint for a field written at the top of an object that belongs in its metadata or spec.</summary>
    private static string MisplacedTopLevelField(string key, ObjectSchema schema)
    {
        foreach (var parent in new[] { "metadata", "spec" })
        {
            if (schema.Fields.TryGetValue(parent, out var field)
                && Reached(Nullable.GetUnderlyingType(field.Type) ?? field.Type) is { IsClass: true } type && type != typeof(string)
                && DictionaryValueType(type) is null && ListItemType(type) is null && !typeof(JsonNode).IsAssignableFrom(type)
                && SchemaOf(type).Fields.ContainsKey(key))
            {
                return $"; {key} belongs under {parent}: indent it below {parent}";
            }
        }

        return "";
    }

    /// <summary>The closest candidate within a small edit distance, or one that differs only in case.</summary>
    internal static string? Suggest(string input, IEnumerable<string> candidates)
    {
        string? best = null;
        var bestDistance = int.MaxValue;
        foreach (var candidate in candidates)
        {
            if (string.Equals(candidate, input, StringComparison.OrdinalIgnoreCase))
            {
                return candidate;
            }

            var distance = EditDistance(input.ToLowerInvariant(), candidate.ToLowerInvariant());
            if (distance < bestDistance)
            {
                bestDistance = distance;
                best = candidate;
            }
        }

        return bestDistance <= Math.Max(1, Math.Min(3, input.Length / 3)) ? best : null;
    }

    private static int EditDistance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++)
        {
            previous[j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + cost);
            }

            (previous, current) = (current, previous);
        }

        return previous[b.Length];
    }

    private static void ValidateInteger(JsonNode node, Type type, string path, Report report)
    {
        if (node is not JsonValue value || value.GetValueKind() != JsonValueKind.Number)
        {
            var hint = node is JsonValue s && s.GetValueKind() == JsonValueKind.String && long.TryParse(s.GetValue<string>(), out _)
                ? "; remove the quotes"
                : "";
            report(path, $"expected an integer, got {Describe(node)}{hint}", node);
            return;
        }

        if (!value.TryGetValue<long>(out var number))
        {
            // A number that is not a long: a fraction, or too large.
            var text = value.ToJsonString();
            var integral = decimal.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var exact)
                ? decimal.Truncate(exact) == exact
                : !text.Contains('.');
            report(path, integral ? $"{text} is out of range for an integer" : $"expected an integer, got {text}", node);
            return;
        }

        var (min, max) = Type.GetTypeCode(type) switch
        {
            TypeCode.Int32 => (int.MinValue, int.MaxValue),
            TypeCode.UInt32 => (0L, uint.MaxValue),
            TypeCode.Int16 => (short.MinValue, short.MaxValue),
            TypeCode.Byte => (0L, byte.MaxValue),
            _ => (long.MinValue, long.MaxValue),
        };
        if (number < min || number > max)
        {
            report(path, $"{number} is out of range ({min} to {max})", node);
        }
    }

    private static void ValidateEnum(JsonNode node, [DynamicallyAccessedMembers(Walked)] Type type, string path, Report report)
    {
        var names = EnumNames(type);
        if (node is not JsonValue value || !value.TryGetValue<string>(out var text))
        {
            report(path, $"expected one of {string.Join(", ", names)}, got {Describe(node)}", node);
            return;
        }

        if (!names.Contains(text))
        {
            var suggestion = Suggest(text, names);
            var hint = suggestion is null ? "" : $"; did you mean {suggestion}?";
            report(path, $"\"{text}\" is not one of {string.Join(", ", names)}{hint}", node);
        }
    }

    /// <summary>The API names of an enum's members (their <see cref="JsonStringEnumMemberNameAttribute"/>).</summary>
    internal static IReadOnlyList<string> EnumNames([DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicFields)] Type type) =>
        EnumNameLists.TryGetValue(type, out var names) ? names : EnumNameLists.GetOrAdd(type, FindEnumNames(type));

    private static string[] FindEnumNames([DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicFields)] Type type) =>
        type.GetFields(BindingFlags.Public | BindingFlags.Static)
            .Select(f => f.GetCustomAttribute<JsonStringEnumMemberNameAttribute>()?.Name ?? f.Name)
            .ToArray();

    private static bool Expect(JsonNode node, JsonValueKind kind, string noun, string path, Report report)
    {
        var actual = node is JsonValue v ? v.GetValueKind() : JsonValueKind.Object;
        var matches = kind == JsonValueKind.True ? actual is JsonValueKind.True or JsonValueKind.False : actual == kind;
        if (!matches)
        {
            var hint = kind == JsonValueKind.String && actual is JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False
                ? $"; quote it: \"{node.ToJsonString()}\""
                : kind == JsonValueKind.True && actual == JsonValueKind.String && node.GetValue<string>() is "true" or "false"
                    ? "; remove the quotes"
                    : "";
            report(path, $"expected {noun}, got {Describe(node)}{hint}", node);
        }

        return matches;
    }

    /// <summary>How a value is named in messages: <c>string "80"</c>, <c>number 80</c>, <c>a list</c>.</summary>
    internal static string Describe(JsonNode? node) => node switch
    {
        null => "null",
        JsonObject => "an object",
        JsonArray => "a list",
        JsonValue v => v.GetValueKind() switch
        {
            JsonValueKind.String => $"string {Truncate(v.ToJsonString())}",
            JsonValueKind.Number => $"number {v.ToJsonString()}",
            JsonValueKind.True or JsonValueKind.False => $"boolean {v.ToJsonString()}",
            _ => v.ToJsonString(),
        },
        _ => "a value",
    };

    private static string Truncate(string s) => s.Length <= 80 ? s : s[..77] + "...\"";

    private static string Noun(Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        return type == typeof(string) || type.IsEnum ? "strings" : IsInteger(type) ? "integers" : type == typeof(bool) ? "booleans" : "objects";
    }

    private static bool IsInteger(Type type) =>
        type == typeof(int) || type == typeof(long) || type == typeof(uint) || type == typeof(short) || type == typeof(byte) || type == typeof(ulong);

    private static Type? DictionaryValueType([DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.Interfaces)] Type type) =>
        DictionaryValueTypes.TryGetValue(type, out var found) ? found : DictionaryValueTypes.GetOrAdd(type, FindDictionaryValueType(type));

    private static Type? FindDictionaryValueType([DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.Interfaces)] Type type)
    {
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

    private static Type? ListItemType([DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.Interfaces)] Type type) =>
        ListItemTypes.TryGetValue(type, out var found) ? found : ListItemTypes.GetOrAdd(type, FindListItemType(type));

    private static Type? FindListItemType([DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.Interfaces)] Type type)
    {
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

    /// <summary>
    /// Checks KubernetesClient's scalar types (IntOrString, ResourceQuantity); false for any other type. Kept out of
    /// <see cref="Validate"/> and only called for a type of that assembly, so a proxy validating its own snapshot
    /// never loads KubernetesClient (3 MB of mapped code it does not use).
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static bool ValidateKubernetesScalar(JsonNode node, Type type, string path, Report report)
    {
        if (type == typeof(k8s.Models.IntOrString))
        {
            if (node is not JsonValue v || !(v.GetValueKind() == JsonValueKind.String || IsInt32(v)))
            {
                report(path, $"expected an integer or a string (such as 8080, \"http\" or \"25%\"), got {Describe(node)}", node);
            }

            return true;
        }

        if (type == typeof(k8s.Models.ResourceQuantity))
        {
            if (node is not JsonValue v || v.GetValueKind() is not (JsonValueKind.String or JsonValueKind.Number))
            {
                report(path, $"expected a quantity (such as 500m, 2 or 128Mi), got {Describe(node)}", node);
            }
            else if (!IsQuantity(v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : v.ToJsonString()))
            {
                report(path, $"{Describe(node)} is not a quantity; write a number with an optional suffix, such as 500m, 2, 128Mi or 1G", node);
            }

            return true;
        }

        return false;
    }

    private static bool IsInt32(JsonValue value) =>
        value.GetValueKind() == JsonValueKind.Number
        && long.TryParse(value.ToJsonString(), System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var number)
        && number is >= int.MinValue and <= int.MaxValue;

    private static bool IsQuantity(string text)
    {
        try
        {
            _ = new k8s.Models.ResourceQuantity(text).ToDecimal();
            return true;
        }
        catch (Exception e) when (e is FormatException or ArgumentException or OverflowException)
        {
            return false;
        }
    }

    private static bool IsBase64(string text)
    {
        var buffer = new byte[text.Length];
        return Convert.TryFromBase64String(text, buffer, out _);
    }

    private sealed record FieldSchema(Type Type, bool Required);

    private sealed record ObjectSchema(Dictionary<string, FieldSchema> Fields, IReadOnlyList<string> RequiredFields)
    {
        public static ObjectSchema Build([DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicProperties)] Type type)
        {
            var fields = new Dictionary<string, FieldSchema>(StringComparer.Ordinal);
            foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
            {
                // [JsonIgnore] alone is never read; one with a condition (written only when set) is a field like any other.
                if (property.GetCustomAttribute<JsonIgnoreAttribute>() is { Condition: JsonIgnoreCondition.Always } || property.GetIndexParameters().Length > 0)
                {
                    continue;
                }

                var name = property.GetCustomAttribute<JsonPropertyNameAttribute>()?.Name
                    ?? JsonNamingPolicy.CamelCase.ConvertName(property.Name);
                // [JsonRequired], or C#'s required modifier, which System.Text.Json also enforces.
                var required = property.GetCustomAttribute<JsonRequiredAttribute>() is not null
                    || property.GetCustomAttribute<System.Runtime.CompilerServices.RequiredMemberAttribute>() is not null;
                fields[name] = new FieldSchema(property.PropertyType, required);
            }

            return new ObjectSchema(fields, fields.Where(f => f.Value.Required).Select(f => f.Key).ToArray());
        }
    }
}

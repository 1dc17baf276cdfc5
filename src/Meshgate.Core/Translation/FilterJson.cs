using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Meshgate.Core.Translation;

/// <summary>
/// Readers for the HTTPRoute filters the model keeps as JSON (<c>requestRedirect</c>, <c>urlRewrite</c>,
/// <c>requestMirror</c>, <c>cors</c>): a field that is absent reads as null and succeeds; one that is present with the
/// wrong type fails, so the filter is not half-read.
/// </summary>
internal static class FilterJson
{
    public static List<string> Strings(JsonObject o, string key)
    {
        var list = new List<string>();
        if (o[key] is JsonArray array)
        {
            foreach (var item in array)
            {
                if (item is JsonValue value && value.GetValueKind() == JsonValueKind.String)
                {
                    list.Add(value.GetValue<string>());
                }
            }
        }

        return list;
    }

    public static bool TryString(JsonObject o, string key, out string? value)
    {
        value = null;
        if (!o.TryGetPropertyValue(key, out var node) || node is null)
        {
            return true;
        }

        if (node is JsonValue v && v.GetValueKind() == JsonValueKind.String)
        {
            value = v.GetValue<string>();
            return true;
        }

        return false;
    }

    public static bool TryLong(JsonObject o, string key, out long? value)
    {
        value = null;
        if (!o.TryGetPropertyValue(key, out var node) || node is null)
        {
            return true;
        }

        if (node is JsonValue v && v.GetValueKind() == JsonValueKind.Number
            && long.TryParse(v.ToJsonString(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number))
        {
            value = number;
            return true;
        }

        return false;
    }

    public static bool TryObject(JsonObject o, string key, out JsonObject? value)
    {
        value = null;
        if (!o.TryGetPropertyValue(key, out var node) || node is null)
        {
            return true;
        }

        value = node as JsonObject;
        return value is not null;
    }
}

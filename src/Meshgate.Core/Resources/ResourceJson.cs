using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Meshgate.Core.Resources;

/// <summary>The JSON conventions of Kubernetes APIs: camelCase fields, enums by their API names, nulls omitted.</summary>
public static class ResourceJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new JsonStringEnumConverter() },
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>For output users read (<c>-o json</c>): indented like kubectl.</summary>
    public static readonly JsonSerializerOptions Indented = new(Options) { WriteIndented = true, IndentSize = 4 };
}

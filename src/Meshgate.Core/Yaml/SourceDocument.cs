using System.Text.Json.Nodes;

namespace Meshgate.Core.Yaml;

/// <summary>
/// One document of a YAML or JSON stream, already converted to a JSON tree.
/// <paramref name="Index"/> is 1-based, as users count documents; <paramref name="Line"/> is where it starts.
/// </summary>
public sealed record SourceDocument(string Source, int Index, int Line, JsonNode? Root, YamlPositions Positions)
{
    /// <summary>How errors name this document: <c>stdin, document 2</c>.</summary>
    public string Where => $"{Source}, document {Index}";
}

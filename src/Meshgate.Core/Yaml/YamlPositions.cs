using System.Text.Json.Nodes;

namespace Meshgate.Core.Yaml;

/// <summary>
/// Line numbers of the JSON nodes made from YAML, so errors can point at the line at fault.
/// Keyed by node identity; nodes created later (defaults, server fields) simply have no line.
/// </summary>
public sealed class YamlPositions
{
    public static readonly YamlPositions None = new();

    private readonly Dictionary<JsonNode, int> _lines = new(ReferenceEqualityComparer.Instance);

    internal void Set(JsonNode node, int line) => _lines[node] = line;

    public int? LineOf(JsonNode? node) => node is not null && _lines.TryGetValue(node, out var line) ? line : null;
}

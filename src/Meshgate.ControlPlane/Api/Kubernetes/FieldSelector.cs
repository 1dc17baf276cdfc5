using System.Text.Json.Nodes;
using Meshgate.Core.Resources;

namespace Meshgate.ControlPlane.Api.Kubernetes;

/// <summary>
/// A <c>fieldSelector</c>: comma-separated <c>field=value</c>, <c>field==value</c>, <c>field!=value</c>, over the fields
/// kube-apiserver selects on: <c>metadata.name</c> and <c>metadata.namespace</c> of every kind, and a pod's
/// <c>spec.nodeName</c>, <c>spec.serviceAccountName</c>, <c>spec.restartPolicy</c>, <c>status.phase</c>, <c>status.podIP</c>,
/// a secret's <c>type</c>.
/// </summary>
public sealed class FieldSelector
{
    private readonly IReadOnlyList<(string[] Path, string Value, bool Equal)> _requirements;

    private FieldSelector(IReadOnlyList<(string[] Path, string Value, bool Equal)> requirements)
    {
        _requirements = requirements;
    }

    public static readonly FieldSelector Everything = new([]);

    /// <summary>The single name <c>metadata.name=NAME</c> asks for, if that is a requirement (a watch of one object).</summary>
    public string? Name => _requirements.FirstOrDefault(r => r.Equal && r.Path is ["metadata", "name"]).Value;

    /// <exception cref="ApiError">BadRequest: a field this kind is not selected on, or a requirement that is not field=value.</exception>
    public static FieldSelector Parse(string? text, ResourceType type)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return Everything;
        }

        var supported = Supported(type);
        var requirements = new List<(string[], string, bool)>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var (field, value, equal) = part.IndexOf("!=", StringComparison.Ordinal) is var ne and > 0
                ? (part[..ne], part[(ne + 2)..], false)
                : part.IndexOf("==", StringComparison.Ordinal) is var ee and > 0
                    ? (part[..ee], part[(ee + 2)..], true)
                    : part.IndexOf('=') is var eq and > 0
                        ? (part[..eq], part[(eq + 1)..], true)
                        : throw ApiError.BadRequest($"invalid field selector \"{part}\": write field=value, field==value or field!=value");
            field = field.Trim();
            if (!supported.Contains(field))
            {
                throw ApiError.BadRequest($"\"{field}\" is not a known field selector: only {string.Join(", ", supported.Select(s => $"\"{s}\""))}");
            }

            requirements.Add((field.Split('.'), value.Trim(), equal));
        }

        return new FieldSelector(requirements);
    }

    public bool Matches(JsonObject obj)
    {
        foreach (var (path, value, equal) in _requirements)
        {
            JsonNode? node = obj;
            foreach (var part in path)
            {
                node = (node as JsonObject)?[part];
            }

            var actual = node is JsonValue v && v.TryGetValue<string>(out var s) ? s : node?.ToJsonString() ?? "";
            if ((actual == value) != equal)
            {
                return false;
            }
        }

        return true;
    }

    private static IReadOnlyList<string> Supported(ResourceType type)
    {
        var fields = new List<string> { "metadata.name", "metadata.namespace" };
        if (type == ResourceTypes.Pod)
        {
            fields.AddRange(["spec.nodeName", "spec.serviceAccountName", "spec.restartPolicy", "status.phase", "status.podIP"]);
        }
        else if (type == ResourceTypes.Secret)
        {
            fields.Add("type");
        }

        return fields;
    }
}

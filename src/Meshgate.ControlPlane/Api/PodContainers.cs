using System.Text.Json.Nodes;

namespace Meshgate.ControlPlane.Api;

/// <summary>
/// A Pod's containers as kubectl names and picks them (<c>logs</c>, <c>exec</c>): the one given with <c>-c</c> must be
/// one of the pod's containers, init or ephemeral containers; without <c>-c</c> it is the one the
/// <c>kubectl.kubernetes.io/default-container</c> annotation names, else the first, with a notice on stderr when the
/// pod has others.
/// </summary>
public static class PodContainers
{
    public const string DefaultContainerAnnotation = "kubectl.kubernetes.io/default-container";

    /// <summary>The chosen container, and the notice kubectl prints when it took the first of several.</summary>
    public sealed record Choice(string Name, string? Notice);

    /// <summary>The names in <c>spec.containers</c>, in order.</summary>
    public static IReadOnlyList<string> Containers(JsonNode? pod) => Names(pod, "containers");

    /// <summary>Whether <paramref name="name"/> is one of the pod's containers, init containers or ephemeral containers.</summary>
    public static bool Has(JsonNode? pod, string name) =>
        Containers(pod).Contains(name) || Names(pod, "initContainers").Contains(name) || Names(pod, "ephemeralContainers").Contains(name);

    /// <summary>The <c>spec.containers</c> (or init or ephemeral) entry named <paramref name="name"/>, if any.</summary>
    public static JsonObject? Find(JsonNode? pod, string name) =>
        new[] { "containers", "initContainers", "ephemeralContainers" }
            .SelectMany(list => pod?["spec"]?[list] as JsonArray ?? [])
            .OfType<JsonObject>()
            .FirstOrDefault(c => c["name"]?.ToString() == name);

    /// <summary>The container kubectl takes when none is named; null when the pod lists none.</summary>
    public static Choice? Default(JsonNode? pod)
    {
        var containers = Containers(pod);
        if (containers.Count == 0)
        {
            return null;
        }

        if (pod?["metadata"]?["annotations"]?[DefaultContainerAnnotation]?.ToString() is { Length: > 0 } annotated && Has(pod, annotated))
        {
            return new Choice(annotated, null);
        }

        var init = Names(pod, "initContainers");
        var ephemeral = Names(pod, "ephemeralContainers");
        var notice = containers.Count > 1 || init.Count > 0 || ephemeral.Count > 0
            ? $"Defaulted container \"{containers[0]}\" out of: {string.Join(", ", [.. containers, .. ephemeral.Select(n => n + " (ephem)"), .. init.Select(n => n + " (init)")])}"
            : null;
        return new Choice(containers[0], notice);
    }

    private static List<string> Names(JsonNode? pod, string list) =>
        (pod?["spec"]?[list] as JsonArray ?? []).Select(c => c?["name"]?.ToString()).OfType<string>().ToList();
}

using System.Text.Json.Nodes;

namespace Meshgate.Core.Analysis;

/// <summary>
/// One entry of a <c>status.conditions</c> list (Kubernetes' <c>metav1.Condition</c>), as the control plane writes it
/// on Gateway API objects: <c>Programmed</c> on a Gateway, <c>Accepted</c> and <c>ResolvedRefs</c> on a route's parents.
/// </summary>
/// <param name="Index">The position in the list, for the field path.</param>
internal sealed record ConditionView(int Index, string Type, string Status, string? Reason, string? Message)
{
    public bool IsFalse => Status == "False";

    /// <summary><c>reason Pending: "message"</c>, as findings quote it.</summary>
    public string Quote() =>
        (Reason is { Length: > 0 } ? $"reason {Reason}" : "no reason")
        + (Message is { Length: > 0 } ? $": \"{Message}\"" : "");

    /// <summary>The conditions of a <c>conditions</c> array; entries without a type or status are skipped.</summary>
    public static IReadOnlyList<ConditionView> Read(JsonNode? conditions)
    {
        if (conditions is not JsonArray array)
        {
            return [];
        }

        var result = new List<ConditionView>();
        for (var i = 0; i < array.Count; i++)
        {
            if (array[i] is JsonObject condition && Text(condition["type"]) is { } type && Text(condition["status"]) is { } status)
            {
                result.Add(new ConditionView(i, type, status, Text(condition["reason"]), Text(condition["message"])));
            }
        }

        return result;
    }

    /// <summary>The first condition of <paramref name="type"/> that is False, or null.</summary>
    public static ConditionView? FalseOf(IReadOnlyList<ConditionView> conditions, string type) =>
        conditions.FirstOrDefault(c => c.Type == type && c.IsFalse);

    private static string? Text(JsonNode? node) => node is JsonValue value && value.TryGetValue<string>(out var s) ? s : null;
}

using System.Text.Json.Nodes;

namespace Meshgate.Core.GatewayStatus;

/// <summary>
/// Writes conditions as Kubernetes does (apimachinery <c>meta.SetStatusCondition</c>): every condition carries the
/// object's <c>observedGeneration</c>, and <c>lastTransitionTime</c> moves only when the condition's status does, so a
/// status recomputed unchanged is written the same and causes no write.
/// </summary>
internal static class ConditionList
{
    /// <param name="existing">The stored conditions (null when there are none).</param>
    /// <param name="now">RFC 3339, to the second, as Kubernetes writes it.</param>
    public static JsonArray Write(JsonArray? existing, IReadOnlyList<StatusCondition> conditions, long generation, string now)
    {
        var written = new JsonArray();
        foreach (var condition in conditions)
        {
            var status = condition.Status ? "True" : "False";
            var since = now;
            if (Find(existing, condition.Type) is { } before
                && before["status"]?.GetValue<string>() == status
                && before["lastTransitionTime"]?.GetValue<string>() is { } kept)
            {
                since = kept;
            }

            // Keys in kubectl's (alphabetical) order, so -o yaml reads as it does against a cluster.
            written.Add(new JsonObject
            {
                ["lastTransitionTime"] = since,
                ["message"] = condition.Message,
                ["observedGeneration"] = generation,
                ["reason"] = condition.Reason,
                ["status"] = status,
                ["type"] = condition.Type,
            });
        }

        return written;
    }

    private static JsonObject? Find(JsonArray? conditions, string type)
    {
        foreach (var node in conditions ?? [])
        {
            if (node is JsonObject condition && condition["type"] is JsonValue value && value.TryGetValue<string>(out var t) && t == type)
            {
                return condition;
            }
        }

        return null;
    }
}

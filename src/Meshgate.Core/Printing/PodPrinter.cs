using System.Globalization;
using System.Text.Json.Nodes;

namespace Meshgate.Core.Printing;

/// <summary>
/// The READY, STATUS and RESTARTS cells of <c>get pods</c>, decided as kubectl's pod printer decides them: READY counts
/// the containers whose status is ready and running (sidecar init containers included) out of all of them; STATUS is
/// the phase unless a container's waiting or terminated reason (an init container's first, as <c>Init:...</c>) says
/// more, and <c>Terminating</c> while a deletion is pending; RESTARTS is the sum of restart counts, with how long ago
/// the last restart was when the last termination's time is known.
/// </summary>
/// <remarks>
/// Pods written before containers reported statuses (a proxy registered by <c>meshgate up</c> without <c>--cluster</c>)
/// have none: such a pod counts all its containers ready while it is Running and its Ready condition, if any, is not
/// False.
/// </remarks>
public static class PodPrinter
{
    public sealed record Row(string Ready, string Status, string Restarts);

    public static Row Summarize(JsonObject pod, DateTimeOffset now)
    {
        var spec = pod["spec"] as JsonObject;
        var status = pod["status"] as JsonObject;
        var containers = Items(spec?["containers"]);
        var initContainers = Items(spec?["initContainers"]);
        var sidecars = initContainers.Where(c => Text(c?["restartPolicy"]) == "Always").Select(c => Text(c?["name"])).ToHashSet(StringComparer.Ordinal);
        var total = containers.Count + sidecars.Count;
        var ready = 0;
        var restarts = 0;
        var sidecarRestarts = 0;
        DateTimeOffset? lastRestart = null;
        DateTimeOffset? lastSidecarRestart = null;

        var phase = Text(status?["phase"]);
        var reason = Text(status?["reason"]) is { Length: > 0 } statusReason ? statusReason : phase ?? "Pending";
        if (Items(status?["conditions"]).Any(c => Text(c?["type"]) == "PodScheduled" && Text(c?["reason"]) == "SchedulingGated"))
        {
            reason = "SchedulingGated";
        }

        var initStatuses = Items(status?["initContainerStatuses"]);
        var containerStatuses = Items(status?["containerStatuses"]);
        var initializing = false;
        for (var i = 0; i < initStatuses.Count; i++)
        {
            var container = initStatuses[i];
            var count = Int(container?["restartCount"]);
            restarts += count;
            Later(ref lastRestart, LastTermination(container));
            var sidecar = sidecars.Contains(Text(container?["name"]) ?? "");
            if (sidecar)
            {
                sidecarRestarts += count;
                Later(ref lastSidecarRestart, LastTermination(container));
            }

            var terminated = container?["state"]?["terminated"] as JsonObject;
            var waiting = container?["state"]?["waiting"] as JsonObject;
            if (terminated is not null && Int(terminated["exitCode"]) == 0)
            {
                continue;
            }

            if (sidecar && container?["started"]?.GetValueKind() == System.Text.Json.JsonValueKind.True)
            {
                if (Bool(container["ready"]))
                {
                    ready++;
                }

                continue;
            }

            if (terminated is not null)
            {
                reason = "Init:" + TerminatedReason(terminated);
            }
            else if (Text(waiting?["reason"]) is { Length: > 0 } waitingReason && waitingReason != "PodInitializing")
            {
                reason = "Init:" + waitingReason;
            }
            else
            {
                reason = string.Create(CultureInfo.InvariantCulture, $"Init:{i}/{initContainers.Count}");
            }

            initializing = true;
            break;
        }

        if (!initializing || Condition(status, "Initialized") == "True")
        {
            restarts = sidecarRestarts;
            lastRestart = lastSidecarRestart;
            var hasRunning = false;

            // Backwards, so the first container's reason is the one that stays, as kubectl does.
            for (var i = containerStatuses.Count - 1; i >= 0; i--)
            {
                var container = containerStatuses[i];
                restarts += Int(container?["restartCount"]);
                Later(ref lastRestart, LastTermination(container));
                var state = container?["state"] as JsonObject;
                if (Text(state?["waiting"]?["reason"]) is { Length: > 0 } waitingReason)
                {
                    reason = waitingReason;
                }
                else if (state?["terminated"] is JsonObject terminated)
                {
                    reason = TerminatedReason(terminated);
                }
                else if (Bool(container?["ready"]) && state?["running"] is JsonObject)
                {
                    hasRunning = true;
                    ready++;
                }
            }

            if (reason == "Completed" && hasRunning)
            {
                reason = Condition(status, "Ready") == "True" ? "Running" : "NotReady";
            }
        }

        if (initStatuses.Count == 0 && containerStatuses.Count == 0 && phase == "Running" && Condition(status, "Ready") != "False")
        {
            ready = total;
        }

        if (pod["metadata"]?["deletionTimestamp"] is not null)
        {
            if (Text(status?["reason"]) == "NodeLost")
            {
                reason = "Unknown";
            }
            else if (phase is not ("Succeeded" or "Failed"))
            {
                reason = "Terminating";
            }
        }

        var restartText = restarts.ToString(CultureInfo.InvariantCulture);
        if (restarts != 0 && lastRestart is { } last)
        {
            restartText += $" ({HumanDuration.Format(now - last)} ago)";
        }

        return new Row(string.Create(CultureInfo.InvariantCulture, $"{ready}/{total}"), reason, restartText);
    }

    /// <summary><c>-o wide</c>'s IP: the first of <c>status.podIPs</c> (else <c>status.podIP</c>), or &lt;none&gt;.</summary>
    public static string Ip(JsonObject pod) =>
        Text(Items(pod["status"]?["podIPs"]).FirstOrDefault()?["ip"]) is { Length: > 0 } ip ? ip
        : Text(pod["status"]?["podIP"]) is { Length: > 0 } single ? single
        : "<none>";

    /// <summary><c>-o wide</c>'s READINESS GATES: how many of the pod's gates have a True condition, or &lt;none&gt;.</summary>
    public static string ReadinessGates(JsonObject pod)
    {
        var gates = Items(pod["spec"]?["readinessGates"]);
        if (gates.Count == 0)
        {
            return "<none>";
        }

        var status = pod["status"] as JsonObject;
        var met = gates.Count(g => Text(g?["conditionType"]) is { } type && Condition(status, type) == "True");
        return string.Create(CultureInfo.InvariantCulture, $"{met}/{gates.Count}");
    }

    private static string TerminatedReason(JsonObject terminated) =>
        Text(terminated["reason"]) is { Length: > 0 } reason ? reason
        : Int(terminated["signal"]) is var signal and not 0 ? string.Create(CultureInfo.InvariantCulture, $"Signal:{signal}")
        : string.Create(CultureInfo.InvariantCulture, $"ExitCode:{Int(terminated["exitCode"])}");

    private static DateTimeOffset? LastTermination(JsonNode? container) =>
        Text(container?["lastState"]?["terminated"]?["finishedAt"]) is { } finished
        && DateTimeOffset.TryParse(finished, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time)
            ? time
            : null;

    private static void Later(ref DateTimeOffset? latest, DateTimeOffset? candidate)
    {
        if (candidate is { } c && (latest is null || c > latest))
        {
            latest = c;
        }
    }

    private static string? Condition(JsonObject? status, string type) =>
        Text(Items(status?["conditions"]).FirstOrDefault(c => Text(c?["type"]) == type)?["status"]);

    private static List<JsonNode?> Items(JsonNode? node) => node is JsonArray array ? [.. array] : [];

    private static string? Text(JsonNode? node) =>
        node is JsonValue value && value.GetValueKind() == System.Text.Json.JsonValueKind.String ? value.GetValue<string>() : node?.ToString();

    private static bool Bool(JsonNode? node) => node?.GetValueKind() == System.Text.Json.JsonValueKind.True;

    private static int Int(JsonNode? node) =>
        node is JsonValue value && int.TryParse(value.ToString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : 0;
}

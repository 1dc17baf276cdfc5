using System.Globalization;
using Meshgate.Core.Resources;
using static Meshgate.Core.GatewayStatus.GatewayApiConditions;

namespace Meshgate.Core.GatewayStatus;

/// <summary>
/// A Gateway's Programmed condition: True once its data plane runs its configuration. Its proxies are the Pods of its
/// namespace labelled <c>gateway.networking.k8s.io/gateway-name: NAME</c>; the Gateway is programmed when at least one
/// of them is connected and every connected one runs a store revision at or after the Gateway's configuration revision,
/// with no refused (NACKed) snapshot standing. Until then False, Pending, saying what it waits for; a refusal is
/// False, Invalid, with the proxy's error. (Istio judges the Service's addresses instead; Meshgate runs the proxy itself,
/// so it can say when the proxy has the configuration.)
/// </summary>
internal static class GatewayProgramming
{
    public static StatusCondition Judge(
        Resource gateway,
        long configurationRevision,
        IReadOnlyList<Resource> pods,
        IReadOnlyDictionary<(string Namespace, string Name), ProxySyncState> proxies,
        string services)
    {
        var deployment = $"deployment {gateway.Namespace}/{WorkloadName(gateway.Name)}";
        var connected = 0;
        ProxySyncState? behind = null;
        foreach (var pod in pods)
        {
            if (!proxies.TryGetValue((pod.Namespace, pod.Name), out var proxy) || !proxy.Connected)
            {
                continue;
            }

            connected++;
            if (proxy.NackError is { } error)
            {
                return StatusCondition.False(Programmed, ReasonInvalid, $"the gateway's proxy (pod {pod.Namespace}/{pod.Name}) refused its configuration: {error}");
            }

            if ((proxy.SyncedRevision ?? 0) < configurationRevision)
            {
                behind ??= proxy;
            }
        }

        if (connected == 0)
        {
            return StatusCondition.False(Programmed, ReasonPending, $"waiting for the gateway's proxy ({deployment}) to connect and apply the configuration");
        }

        if (behind is not null)
        {
            // Only stable facts in the message: a message that moved with each sync would be a status write per sync.
            return StatusCondition.False(Programmed, ReasonPending,
                $"waiting for the gateway's proxy ({deployment}) to apply the configuration (store revision {configurationRevision.ToString(CultureInfo.InvariantCulture)}; pod {behind.Name} runs an older one)");
        }

        return StatusCondition.True(Programmed, ReasonProgrammed, $"Resource programmed, assigned to service(s) {services}");
    }

    /// <summary>What the gateway's workload (Deployment, Service, ServiceAccount) is named: <c>NAME-istio</c>, as Istio names it.</summary>
    public static string WorkloadName(string gateway) => gateway + "-istio";

    /// <summary>The Pods of the Gateway's workload.</summary>
    public static List<Resource> PodsOf(Resource gateway, IReadOnlyList<Resource> podsInNamespace)
    {
        var pods = new List<Resource>();
        foreach (var pod in podsInNamespace)
        {
            if (pod.Labels.TryGetValue(GatewayNameLabel, out var name) && name == gateway.Name)
            {
                pods.Add(pod);
            }
        }

        return pods;
    }

    /// <summary>Istio's <c>humanReadableJoin</c>: <c>a</c>, <c>a and b</c>, <c>a, b, and c</c>.</summary>
    public static string HumanReadableJoin(IReadOnlyList<string> items) => items.Count switch
    {
        0 => "",
        1 => items[0],
        2 => $"{items[0]} and {items[1]}",
        _ => string.Join(", ", items.Take(items.Count - 1)) + ", and " + items[^1],
    };
}

using Meshgate.Core.ProxyConfiguration;

namespace Meshgate.Proxy.Observability;

/// <summary>
/// The labels every metric of this proxy carries about itself, as Istio's stats plugin reports them from the
/// source side (<c>reporter="source"</c>: sidecars on outbound traffic and gateways both report so).
/// </summary>
public readonly record struct SourceLabels(string Workload, string WorkloadNamespace)
{
    public const string Unknown = "unknown";

    /// <summary>
    /// From the node of the snapshot: the workload is the pod part of an Istio node id
    /// (<c>sidecar~127.0.0.1~sleep.default~default.svc.cluster.local</c> → <c>sleep</c>), the namespace the node's.
    /// </summary>
    public static SourceLabels From(Node? node)
    {
        var workload = Unknown;
        if (node?.Id?.Split('~') is [_, _, var pod, ..] && pod.Length > 0)
        {
            var dot = pod.IndexOf('.', StringComparison.Ordinal);
            workload = dot > 0 ? pod[..dot] : pod;
        }

        return new SourceLabels(workload, string.IsNullOrEmpty(node?.Namespace) ? Unknown : node.Namespace);
    }
}

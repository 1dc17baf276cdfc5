using k8s.Models;
using Meshgate.Core.Resources;

namespace Meshgate.Core.Analysis;

/// <summary>
/// A namespace with sidecar injection (<c>istio-injection=enabled</c>) that no NetworkPolicy keeps in (MG0020): Istio
/// sends the sidecars' egress through the gateway, but cannot stop a pod without a sidecar, or one that gets around it,
/// from going out directly. The task's last section closes that with a policy selecting every pod
/// (<c>podSelector: {}</c>) for Egress whose rules do not allow every destination.
/// </summary>
internal sealed class EgressBypassAnalyzer : IAnalyzer
{
    public void Analyze(AnalysisIndex index, List<Finding> findings)
    {
        var policies = index.Resources.List(ResourceTypes.NetworkPolicy);
        foreach (var ns in index.Resources.List(ResourceTypes.Namespace))
        {
            if (!ns.Labels.TryGetValue("istio-injection", out var injection) || injection != "enabled"
                || policies.Any(p => p.Namespace == ns.Name && KeepsEveryPodIn(p)))
            {
                continue;
            }

            findings.Add(new Finding(Codes.EgressNotConfinedToGateway, ns.Key, "metadata.labels.istio-injection",
                $"Namespace {ns.Name} has sidecar injection (metadata.labels.istio-injection), but no NetworkPolicy limits its pods' egress: a pod without a sidecar, or one that gets "
                + "around it, reaches external hosts directly, past the egress gateway and its log",
                $"apply in {ns.Name} a NetworkPolicy with podSelector: {{}} and policyTypes: [Egress] that allows only DNS (UDP 53 to kube-system) and "
                + "the namespaces of the control plane and the egress gateway, as the task's \"Apply Kubernetes network policies\" section does"));
        }
    }

    /// <summary>Selects every pod of its namespace for Egress, and no rule of it allows every destination.</summary>
    private static bool KeepsEveryPodIn(Resource resource)
    {
        V1NetworkPolicy policy;
        try
        {
            policy = resource.As<V1NetworkPolicy>();
        }
        catch (System.Text.Json.JsonException)
        {
            return false;
        }

        var spec = policy.Spec;
        if (spec is null || spec.PodSelector is { } selector && ((selector.MatchLabels?.Count ?? 0) > 0 || (selector.MatchExpressions?.Count ?? 0) > 0))
        {
            return false;
        }

        var egress = spec.PolicyTypes?.Contains("Egress") ?? spec.Egress is { Count: > 0 };
        return egress && (spec.Egress ?? []).All(rule => rule.To is { Count: > 0 } && !rule.To.Any(peer => peer.IpBlock is { Cidr: "0.0.0.0/0" or "::/0" } block && (block.Except?.Count ?? 0) == 0));
    }
}

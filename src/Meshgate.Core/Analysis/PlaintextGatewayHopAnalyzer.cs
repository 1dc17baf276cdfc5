using Meshgate.Core.Resources.Istio;

namespace Meshgate.Core.Analysis;

/// <summary>
/// Meshgate wraps every hop from a sidecar to a gateway in the mesh's mutual TLS, so the gateway knows which workload
/// sent each connection (docs/identity.md). A DestinationRule for a gateway's Service that sets <c>tls.mode: DISABLE</c>
/// turns that off for what it covers: say so (MG0016), since the gateway then logs no sender for those connections.
/// </summary>
internal sealed class PlaintextGatewayHopAnalyzer : IAnalyzer
{
    public void Analyze(AnalysisIndex index, List<Finding> findings)
    {
        foreach (var rule in index.DestinationRules)
        {
            if (index.FindHost(rule.Host)?.Service is not { } service || !index.IsGatewayService(service))
            {
                continue;
            }

            var policy = rule.Spec.TrafficPolicy;
            Check(rule, policy?.Tls, "spec.trafficPolicy.tls.mode", "", findings);
            for (var i = 0; i < (policy?.PortLevelSettings?.Count ?? 0); i++)
            {
                var port = policy!.PortLevelSettings![i];
                Check(rule, port.Tls, $"spec.trafficPolicy.portLevelSettings[{i}].tls.mode", $" on port {port.Port?.Number}", findings);
            }

            for (var s = 0; s < (rule.Spec.Subsets?.Count ?? 0); s++)
            {
                var subset = rule.Spec.Subsets![s];
                var subsetPolicy = subset.TrafficPolicy;
                Check(rule, subsetPolicy?.Tls, $"spec.subsets[{s}].trafficPolicy.tls.mode", $" to subset \"{subset.Name}\"", findings);
                for (var i = 0; i < (subsetPolicy?.PortLevelSettings?.Count ?? 0); i++)
                {
                    var port = subsetPolicy!.PortLevelSettings![i];
                    Check(rule, port.Tls, $"spec.subsets[{s}].trafficPolicy.portLevelSettings[{i}].tls.mode", $" to subset \"{subset.Name}\" on port {port.Port?.Number}", findings);
                }
            }
        }
    }

    private static void Check(DestinationRuleView rule, ClientTlsSettings? tls, string field, string scope, List<Finding> findings)
    {
        if (tls?.Mode != ClientTlsMode.Disable)
        {
            return;
        }

        findings.Add(new Finding(Codes.PlaintextGatewayHop, rule.Resource.Key, field,
            $"Plaintext hop to a gateway: {field} DISABLE sends sidecars' traffic to {rule.Host}{scope} without the mesh's mutual TLS, "
            + "so the gateway cannot tell which workload sent it (its log and metrics show no source principal)",
            "remove the tls block (Meshgate wraps the hop in mutual TLS by default) or set mode ISTIO_MUTUAL, unless plaintext is what you want"));
    }
}

using Meshgate.Core.Resources.Istio;

namespace Meshgate.Core.Analysis;

/// <summary>
/// ISTIO_MUTUAL needs every workload's certificate (secrets <c>default</c> and <c>ROOTCA</c>) from the mesh's CA, which
/// Meshgate does not issue yet: a DestinationRule or Gateway server asking for it would leave every proxy it reaches
/// on its last configuration (MG0015), so say so before traffic finds out.
/// </summary>
internal sealed class MutualTlsAnalyzer : IAnalyzer
{
    private const string Fix = "until Meshgate's CA issues workload certificates, leave tls out (plain TCP between sidecar and gateway) or use MUTUAL with credentials in Secrets";

    public void Analyze(AnalysisIndex index, List<Finding> findings)
    {
        foreach (var rule in index.DestinationRules)
        {
            var policy = rule.Spec.TrafficPolicy;
            Check(findings, rule.Resource.Key, "spec.trafficPolicy.tls.mode", policy?.Tls?.Mode);
            for (var i = 0; i < (policy?.PortLevelSettings?.Count ?? 0); i++)
            {
                Check(findings, rule.Resource.Key, $"spec.trafficPolicy.portLevelSettings[{i}].tls.mode", policy!.PortLevelSettings![i].Tls?.Mode);
            }

            for (var i = 0; i < (rule.Spec.Subsets?.Count ?? 0); i++)
            {
                Check(findings, rule.Resource.Key, $"spec.subsets[{i}].trafficPolicy.tls.mode", rule.Spec.Subsets![i].TrafficPolicy?.Tls?.Mode);
            }
        }

        foreach (var gateway in index.Gateways.Values)
        {
            for (var i = 0; i < (gateway.Spec.Servers?.Count ?? 0); i++)
            {
                if (gateway.Spec.Servers![i].Tls?.Mode == ServerTlsMode.IstioMutual)
                {
                    findings.Add(new Finding(Codes.IstioMutualWithoutCa, gateway.Resource.Key, $"spec.servers[{i}].tls.mode",
                        $"ISTIO_MUTUAL (spec.servers[{i}].tls.mode) needs the mesh's workload certificates, which Meshgate's control plane does not issue yet: "
                        + "the gateway this Gateway selects would not receive configuration while it is stored", Fix));
                }
            }
        }
    }

    private static void Check(List<Finding> findings, Resources.ObjectKey key, string field, ClientTlsMode? mode)
    {
        if (mode == ClientTlsMode.IstioMutual)
        {
            findings.Add(new Finding(Codes.IstioMutualWithoutCa, key, field,
                $"ISTIO_MUTUAL ({field}) needs the mesh's workload certificates, which Meshgate's control plane does not issue yet: "
                + "the proxies that look this rule up would not receive configuration while it is stored", Fix));
        }
    }
}

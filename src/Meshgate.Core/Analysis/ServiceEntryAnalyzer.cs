using Meshgate.Core.Resources.Istio;

namespace Meshgate.Core.Analysis;

/// <summary>
/// ServiceEntries behind egress gateways: resolution NONE on a host a gateway forwards to (MG0001, the seed's warning:
/// the gateway would send the request to the original destination, its own address), and one host defined twice with
/// different resolutions (MG0011).
/// </summary>
internal sealed class ServiceEntryAnalyzer : IAnalyzer
{
    public void Analyze(AnalysisIndex index, List<Finding> findings)
    {
        var reported = new HashSet<(string, string)>();
        foreach (var virtualService in index.VirtualServices)
        {
            foreach (var route in virtualService.Destinations)
            {
                var gateway = route.Gateways.FirstOrDefault();
                if (gateway is null || route.Destination.Host is not { Length: > 0 } written)
                {
                    continue;
                }

                var host = AnalysisIndex.Fqdn(written, virtualService.Namespace);
                if (index.FindHost(host) is not { IsServiceEntry: true } entry
                    || (entry.Resolution ?? ServiceEntryResolution.None) != ServiceEntryResolution.None
                    || !reported.Add((entry.Resource.Key.ToString(), host)))
                {
                    continue;
                }

                var resolution = entry.Resolution is null ? "resolution unset, which means NONE" : "resolution: NONE";
                findings.Add(new Finding(Codes.GatewayForwardsToOriginalDestination, entry.Resource.Key, "spec.resolution",
                    $"Host \"{host}\" has {resolution} (spec.resolution), but VirtualService {virtualService.Resource.Namespace}/{virtualService.Resource.Name} "
                    + $"routes it through Gateway {gateway} ({route.Field}): the gateway would forward each request to its original destination address, "
                    + "which is the gateway's own, in a loop (503 UH)",
                    "set spec.resolution: DNS so the gateway resolves the host itself (or STATIC with spec.endpoints)"));
            }
        }

        CheckConflictingResolutions(index, findings);
    }

    private static void CheckConflictingResolutions(AnalysisIndex index, List<Finding> findings)
    {
        var first = new Dictionary<string, ServiceEntryView>(StringComparer.OrdinalIgnoreCase);
        foreach (var entry in index.ServiceEntries)
        {
            foreach (var host in (entry.Spec.Hosts ?? []).Distinct(StringComparer.OrdinalIgnoreCase))
            {
                if (!first.TryGetValue(host, out var earlier))
                {
                    first[host] = entry;
                    continue;
                }

                var a = earlier.Resolution ?? ServiceEntryResolution.None;
                var b = entry.Resolution ?? ServiceEntryResolution.None;
                if (a == b)
                {
                    continue;
                }

                findings.Add(new Finding(Codes.ConflictingServiceEntryResolution, entry.Resource.Key, "spec.resolution",
                    $"Host \"{host}\" has resolution {Name(b)} here (spec.resolution) but {Name(a)} in ServiceEntry {earlier.Resource.Namespace}/{earlier.Resource.Name}: "
                    + "proxies pick one of them, and which one can change (intermittent 503 UH, istio/istio#38996)",
                    $"give both ServiceEntries the same resolution, or keep only one ServiceEntry for the host"));
            }
        }
    }

    private static string Name(ServiceEntryResolution resolution) => resolution switch
    {
        ServiceEntryResolution.None => "NONE",
        ServiceEntryResolution.Static => "STATIC",
        ServiceEntryResolution.Dns => "DNS",
        ServiceEntryResolution.DnsRoundRobin => "DNS_ROUND_ROBIN",
        _ => "DYNAMIC_DNS",
    };
}

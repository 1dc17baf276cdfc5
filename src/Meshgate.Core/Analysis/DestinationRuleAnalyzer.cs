using Meshgate.Core.Hosts;

namespace Meshgate.Core.Analysis;

/// <summary>
/// Route subsets against the DestinationRule each client actually finds (Istio's lookup path: the client's namespace,
/// the host's namespace, the root namespace): a missing subset (MG0003), or a rule that exists but off the path (MG0004),
/// the seed's warning about creating the egress gateway's DestinationRule in the client's namespace.
/// </summary>
internal sealed class DestinationRuleAnalyzer : IAnalyzer
{
    public void Analyze(AnalysisIndex index, List<Finding> findings)
    {
        var reportedSubsets = new HashSet<(string, string)>();
        var reportedPaths = new HashSet<(string, string)>();
        foreach (var virtualService in index.VirtualServices)
        {
            foreach (var route in virtualService.Destinations)
            {
                if (route.Destination.Subset is not { Length: > 0 } subset || route.Destination.Host is not { Length: > 0 } written)
                {
                    continue;
                }

                var host = AnalysisIndex.Fqdn(written, virtualService.Namespace);
                var hostNamespace = index.FindHost(host)?.Resource.Namespace ?? virtualService.Namespace;
                var field = route.Field + ".subset";
                foreach (var gateway in route.AppliesTo)
                {
                    foreach (var client in index.ClientNamespaces(virtualService, gateway))
                    {
                        var found = index.LookupDestinationRule(host, hostNamespace, client);
                        if (found is not null)
                        {
                            if (!found.HasSubset(subset) && reportedSubsets.Add((virtualService.Resource.Key.ToString(), field)))
                            {
                                var known = string.Join(", ", found.Spec.Subsets?.Select(s => $"\"{s.Name}\"") ?? []);
                                findings.Add(new Finding(Codes.ReferencedSubsetNotFound, virtualService.Resource.Key, field,
                                    $"Referenced subset not found: \"{subset}\" ({field}): DestinationRule {found.Resource.Namespace}/{found.Resource.Name} for host {host} "
                                    + $"has {(known.Length == 0 ? "no subsets" : "subsets " + known)}; requests to this route fail with 503 (NC)",
                                    $"add a subset named \"{subset}\" to DestinationRule {found.Resource.Namespace}/{found.Resource.Name} (spec.subsets), or route to one of its subsets"));
                            }

                            continue;
                        }

                        var path = index.LookupPath(hostNamespace, client);
                        // A rule on the path that exportTo hides explains more than one in another namespace.
                        var elsewhere = index.DestinationRules
                            .Where(d => HostMatch.Covers(d.Host, host) && d.HasSubset(subset))
                            .OrderBy(d => path.Contains(d.Resource.Namespace) ? 0 : 1)
                            .ToList();
                        if (elsewhere.Count == 0)
                        {
                            if (reportedSubsets.Add((virtualService.Resource.Key.ToString(), field)))
                            {
                                findings.Add(new Finding(Codes.ReferencedSubsetNotFound, virtualService.Resource.Key, field,
                                    $"Referenced subset not found: \"{subset}\" ({field}): no DestinationRule for host {host} defines it; requests to this route fail with 503 (NC)",
                                    $"create a DestinationRule with host {host} and subset \"{subset}\" in namespace {client} (the client's) or {index.Mesh.RootNamespace} (every namespace's), "
                                    + "or remove the subset from the route"));
                            }

                            continue;
                        }

                        var rule = elsewhere[0];
                        if (!reportedPaths.Add((rule.Resource.Key.ToString(), client)))
                        {
                            continue;
                        }

                        var routed = $"VirtualService {virtualService.Resource.Namespace}/{virtualService.Resource.Name} routes them to subset \"{subset}\" of {host} ({field})";
                        var lookup = DescribePath(path, client, hostNamespace, index.Mesh.RootNamespace);
                        if (path.Contains(rule.Resource.Namespace))
                        {
                            findings.Add(new Finding(Codes.DestinationRuleNotOnLookupPath, rule.Resource.Key, "spec.exportTo",
                                $"Hidden from clients in namespace {client} by spec.exportTo [{string.Join(", ", rule.Spec.ExportTo ?? [])}], though it is on their lookup path ({lookup}): "
                                + $"{routed}; their requests fail with 503 (NC)",
                                $"add \"{client}\" (or \"*\") to spec.exportTo, or apply a copy of this DestinationRule in namespace {client}"));
                        }
                        else
                        {
                            findings.Add(new Finding(Codes.DestinationRuleNotOnLookupPath, rule.Resource.Key, "metadata.namespace",
                                $"Not on the destination rule lookup path of clients in namespace {client}, which is {lookup}: {routed}; their requests fail with 503 (NC)",
                                $"apply a copy of this DestinationRule in namespace {client}, or move it to {index.Mesh.RootNamespace} (the root namespace) so every namespace finds it"));
                        }
                    }
                }
            }
        }
    }

    private static string DescribePath(IReadOnlyList<string> path, string client, string hostNamespace, string root) =>
        string.Join(", then ", path.Select(ns =>
        {
            var roles = new List<string>();
            if (ns == client)
            {
                roles.Add("the client's");
            }

            if (ns == hostNamespace)
            {
                roles.Add("the host's");
            }

            if (ns == root)
            {
                roles.Add("the root namespace");
            }

            return $"{ns} ({string.Join(", ", roles)})";
        }));
}

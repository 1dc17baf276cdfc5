using Meshgate.Core.Resources;
using Meshgate.Core.Resources.Istio;

namespace Meshgate.Core.Translation;

/// <summary>
/// Finds the DestinationRule that applies to a host for one proxy, along Istio's lookup path: the proxy's own
/// namespace, then the service's namespace, then the root namespace (istio-system), taking the first namespace that has
/// one (istio/istio <c>PushContext.destinationRule</c>; Istio's "Best practices": DestinationRule lookup path).
/// Rules outside the proxy's namespace count only when exported to it; rules with a <c>workloadSelector</c> only for the
/// workloads it picks in their own namespace. In one namespace an exact host beats the most specific wildcard; several
/// rules for one host merge (the first definition of a subset wins, the first top-level trafficPolicy wins).
/// </summary>
internal sealed class DestinationRuleLookup
{
    private readonly Dictionary<string, Dictionary<string, MergedDestinationRule>> _byNamespace = new(StringComparer.Ordinal);
    private readonly string _clientNamespace;
    private readonly string _rootNamespace;

    private DestinationRuleLookup(string clientNamespace, string rootNamespace)
    {
        _clientNamespace = clientNamespace;
        _rootNamespace = rootNamespace;
    }

    /// <summary>Indexes the rules <paramref name="node"/> could see (by namespace and host).</summary>
    public static DestinationRuleLookup Build(Registry resources, ProxyNode node, string rootNamespace)
    {
        var lookup = new DestinationRuleLookup(node.Namespace, rootNamespace);
        var rules = new List<(Resource Resource, DestinationRuleSpec Spec)>();
        foreach (var resource in resources.Of(ResourceTypes.DestinationRule))
        {
            if (ParsedSpecs.Spec<DestinationRuleSpec>(resource) is { Host: not null } spec)
            {
                rules.Add((resource, spec));
            }
        }

        // Istio merges in creation order.
        foreach (var (resource, spec) in Registry.InCreationOrder(rules))
        {
            var ns = resource.Namespace;
            var exported = ns == node.Namespace || ExportTo.From(spec.ExportTo, ns).VisibleTo(node.Namespace);
            var selected = spec.WorkloadSelector?.MatchLabels is not { Count: > 0 } selector
                || (ns == node.Namespace && new Workload("", ns, node.Labels, "", "").Matches(selector));
            if (!exported || !selected)
            {
                continue;
            }

            if (!lookup._byNamespace.TryGetValue(ns, out var byHost))
            {
                byHost = new Dictionary<string, MergedDestinationRule>(StringComparer.Ordinal);
                lookup._byNamespace[ns] = byHost;
            }

            // A short host is qualified with the rule's own namespace (DestinationRule reference: host).
            var host = HostNames.Qualify(spec.Host!, ns);
            if (byHost.TryGetValue(host, out var merged))
            {
                merged.Merge(spec);
            }
            else
            {
                byHost[host] = new MergedDestinationRule(resource, spec);
            }
        }

        return lookup;
    }

    /// <summary>The rule for <paramref name="host"/> of a service in <paramref name="serviceNamespace"/>, or null.</summary>
    public MergedDestinationRule? Find(string host, string serviceNamespace)
    {
        return In(_clientNamespace) ?? In(serviceNamespace) ?? In(_rootNamespace);

        MergedDestinationRule? In(string ns)
        {
            if (!_byNamespace.TryGetValue(ns, out var byHost))
            {
                return null;
            }

            if (byHost.TryGetValue(host, out var exact))
            {
                return exact;
            }

            foreach (var candidate in HostNames.WildcardCandidates(host))
            {
                if (byHost.TryGetValue(candidate, out var wildcard))
                {
                    return wildcard;
                }
            }

            return null;
        }
    }
}

/// <summary>The DestinationRules for one host in one namespace, merged as Istio merges them.</summary>
internal sealed class MergedDestinationRule
{
    private readonly List<Subset> _subsets = [];

    public MergedDestinationRule(Resource resource, DestinationRuleSpec spec)
    {
        Name = $"{resource.Namespace}/{resource.Name}";
        TrafficPolicy = spec.TrafficPolicy;
        Merge(spec);
    }

    /// <summary>The first rule's <c>namespace/name</c>.</summary>
    public string Name { get; }

    public TrafficPolicy? TrafficPolicy { get; private set; }

    public IReadOnlyList<Subset> Subsets => _subsets;

    public Subset? Subset(string name)
    {
        foreach (var subset in _subsets)
        {
            if (subset.Name == name)
            {
                return subset;
            }
        }

        return null;
    }

    public void Merge(DestinationRuleSpec spec)
    {
        TrafficPolicy ??= spec.TrafficPolicy;
        foreach (var subset in spec.Subsets ?? [])
        {
            if (subset.Name is not null && Subset(subset.Name) is null)
            {
                _subsets.Add(subset);
            }
        }
    }
}

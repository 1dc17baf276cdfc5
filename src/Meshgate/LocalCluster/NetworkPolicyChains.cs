using System.Globalization;
using System.Net;
using System.Net.Sockets;
using k8s.Models;
using Meshgate.Core.Resources;

namespace Meshgate.LocalCluster;

/// <summary>The direction a NetworkPolicy isolates a pod in.</summary>
internal enum PolicyDirection
{
    Ingress,
    Egress,
}

/// <summary>
/// Kubernetes NetworkPolicy for one pod and direction, as the rules of an nftables chain: each rule <c>return</c>s
/// (allows) what one rule of one selecting policy allows, and the caller ends the chain with <c>drop</c>. A pod no
/// policy selects for the direction has no chain (<see cref="Chain"/> is null): it is not isolated. IPv4 only: pods
/// without an IPv4 address are never a peer, ipBlocks that are not IPv4 match nothing.
/// </summary>
internal sealed class NetworkPolicyChains
{
    private const string NamespaceNameLabel = "kubernetes.io/metadata.name";

    private readonly IReadOnlyList<ClusterPod> _pods;
    private readonly IReadOnlyList<(string Namespace, V1NetworkPolicy Policy)> _policies;
    private readonly Dictionary<string, IReadOnlyDictionary<string, string>> _namespaceLabels = new(StringComparer.Ordinal);

    /// <param name="pods">The IPv4 pods, in the order rules list them.</param>
    public NetworkPolicyChains(IReadOnlyList<ClusterPod> pods, IReadOnlyList<ClusterNamespace> namespaces, IReadOnlyList<V1NetworkPolicy> policies)
    {
        _pods = pods;
        _policies = [.. policies
            .Where(p => p.Spec is not null)
            .Select(p => (Namespace: p.Metadata?.NamespaceProperty ?? "default", Policy: p))
            .OrderBy(p => p.Namespace, StringComparer.Ordinal)
            .ThenBy(p => p.Policy.Metadata?.Name ?? "", StringComparer.Ordinal)];
        foreach (var ns in namespaces)
        {
            var labels = new Dictionary<string, string>(ns.Labels, StringComparer.Ordinal);
            labels.TryAdd(NamespaceNameLabel, ns.Name); // the API server sets it on every namespace
            _namespaceLabels[ns.Name] = labels;
        }
    }

    /// <summary>The allow rules of <paramref name="pod"/>'s chain for <paramref name="direction"/>, or null when no
    /// policy isolates the pod in that direction. An isolated pod with no rules allows nothing.</summary>
    public IReadOnlyList<string>? Chain(ClusterPod pod, PolicyDirection direction)
    {
        var selecting = _policies
            .Where(p => p.Namespace == pod.Namespace
                && LabelSelectors.Matches(p.Policy.Spec.PodSelector ?? new V1LabelSelector(), pod.Labels)
                && Isolates(p.Policy.Spec, direction))
            .ToList();
        if (selecting.Count == 0)
        {
            return null;
        }

        var lines = new List<string>();
        foreach (var (ns, policy) in selecting)
        {
            var rules = direction == PolicyDirection.Egress
                ? (policy.Spec.Egress ?? []).Select(r => (Peers: r.To, r.Ports))
                : (policy.Spec.Ingress ?? []).Select(r => (Peers: r.FromProperty, r.Ports));
            foreach (var (peers, ports) in rules)
            {
                lines.AddRange(Rule(pod, direction, ns, peers, ports));
            }
        }

        return [.. lines.Distinct(StringComparer.Ordinal)];
    }

    /// <summary>Whether <paramref name="spec"/> isolates the pods it selects in <paramref name="direction"/>: its
    /// <c>policyTypes</c>, or when absent (the API server's default) Ingress always and Egress when it has egress rules.</summary>
    internal static bool Isolates(V1NetworkPolicySpec spec, PolicyDirection direction)
    {
        if (spec.PolicyTypes is { Count: > 0 } types)
        {
            return types.Contains(direction == PolicyDirection.Egress ? "Egress" : "Ingress", StringComparer.Ordinal);
        }

        return direction == PolicyDirection.Ingress || spec.Egress is { Count: > 0 };
    }

    /// <summary>One policy rule: (peers) × (ports); no peers is every address, no ports every port and protocol.</summary>
    private IEnumerable<string> Rule(ClusterPod pod, PolicyDirection direction, string policyNamespace, IList<V1NetworkPolicyPeer>? peers, IList<V1NetworkPolicyPort>? ports)
    {
        var field = direction == PolicyDirection.Egress ? "ip daddr" : "ip saddr";
        var targets = new List<Target>();
        if (peers is not { Count: > 0 })
        {
            targets.Add(new Target("", null));
        }
        else
        {
            var selected = peers.Where(p => p.IpBlock is null)
                .SelectMany(p => PeerPods(policyNamespace, p))
                .Distinct()
                .ToList();
            if (selected.Count > 0)
            {
                targets.Add(new Target($"{field} {Set(selected.Select(p => p.Address).Distinct().Order(Ipv4Order.Instance).Select(a => a.ToString()))} ", selected));
            }

            foreach (var block in peers.Select(p => p.IpBlock).OfType<V1IPBlock>())
            {
                if (IpBlock(field, block) is { } match)
                {
                    targets.Add(new Target(match, []));
                }
            }
        }

        foreach (var port in ports is { Count: > 0 } ? ports.Select(p => (V1NetworkPolicyPort?)p) : [null])
        {
            foreach (var target in targets)
            {
                if (Line(pod, direction, target, port) is { } line)
                {
                    yield return line;
                }
            }
        }
    }

    /// <summary>The rule allowing <paramref name="target"/> on <paramref name="port"/>; null when it allows nothing.</summary>
    private string? Line(ClusterPod pod, PolicyDirection direction, Target target, V1NetworkPolicyPort? port)
    {
        if (port is null)
        {
            return target.Match + "return";
        }

        if (Protocol(port.Protocol ?? "TCP") is not { } protocol)
        {
            return null;
        }

        if (port.Port?.Value is not { Length: > 0 } value)
        {
            return $"{target.Match}meta l4proto {protocol} return";
        }

        if (int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var number))
        {
            return port.EndPort switch
            {
                { } end when end > number => $"{target.Match}{protocol} dport {number}-{end} return",
                { } end when end < number => null,
                _ => $"{target.Match}{protocol} dport {number} return",
            };
        }

        // A named port: the port of that name (and protocol) on the destination pod.
        if (direction == PolicyDirection.Ingress)
        {
            var own = NamedPorts(pod, value, protocol).ToList();
            return own.Count == 0 ? null : $"{target.Match}{protocol} dport {Set(own.Select(p => p.ToString(CultureInfo.InvariantCulture)))} return";
        }

        var pairs = (target.Pods ?? _pods)
            .SelectMany(p => NamedPorts(p, value, protocol).Select(n => (p.Address, Port: n)))
            .Distinct()
            .OrderBy(p => p.Address, Ipv4Order.Instance)
            .ThenBy(p => p.Port)
            .Select(p => $"{p.Address} . {p.Port.ToString(CultureInfo.InvariantCulture)}")
            .ToList();
        return pairs.Count == 0 ? null : $"ip daddr . {protocol} dport {{ {string.Join(", ", pairs)} }} return";
    }

    private static IEnumerable<int> NamedPorts(ClusterPod pod, string name, string protocol) =>
        pod.Ports.Where(p => p.Name == name && string.Equals(Protocol(p.Protocol), protocol, StringComparison.Ordinal))
            .Select(p => p.Port)
            .Distinct()
            .Order();

    /// <summary>The pods a podSelector/namespaceSelector peer selects: podSelector alone in the policy's namespace,
    /// namespaceSelector in the namespaces it matches (narrowed by a podSelector beside it).</summary>
    private IEnumerable<ClusterPod> PeerPods(string policyNamespace, V1NetworkPolicyPeer peer)
    {
        if (peer.NamespaceSelector is { } namespaces)
        {
            return _pods.Where(p => LabelSelectors.Matches(namespaces, NamespaceLabels(p.Namespace))
                && (peer.PodSelector is null || LabelSelectors.Matches(peer.PodSelector, p.Labels)));
        }

        return peer.PodSelector is { } selector
            ? _pods.Where(p => p.Namespace == policyNamespace && LabelSelectors.Matches(selector, p.Labels))
            : [];
    }

    private IReadOnlyDictionary<string, string> NamespaceLabels(string name) =>
        _namespaceLabels.TryGetValue(name, out var labels) ? labels : new Dictionary<string, string> { [NamespaceNameLabel] = name };

    /// <summary><c>ip daddr CIDR ip daddr != { EXCEPT }</c>; null when the block is not IPv4 or cannot be read.</summary>
    private static string? IpBlock(string field, V1IPBlock block)
    {
        if (Cidr(block.Cidr) is not { } cidr)
        {
            return null;
        }

        var except = new List<string>();
        foreach (var entry in block.Except ?? [])
        {
            if (Cidr(entry) is not { } excluded)
            {
                // Leaving an unreadable exception out would allow more than the policy says.
                return null;
            }

            except.Add(excluded);
        }

        return except.Count == 0 ? $"{field} {cidr} " : $"{field} {cidr} {field} != {{ {string.Join(", ", except.Distinct(StringComparer.Ordinal))} }} ";
    }

    /// <summary>An IPv4 CIDR with the host bits cleared (<c>10.1.2.3/8</c> → <c>10.0.0.0/8</c>); a bare address is a /32.</summary>
    internal static string? Cidr(string? text)
    {
        if (text is null)
        {
            return null;
        }

        var slash = text.IndexOf('/', StringComparison.Ordinal);
        var prefix = 32;
        if (!IPAddress.TryParse(slash < 0 ? text : text[..slash], out var address) || address.AddressFamily != AddressFamily.InterNetwork
            || (slash >= 0 && (!int.TryParse(text[(slash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out prefix) || prefix > 32)))
        {
            return null;
        }

        var bits = Ipv4Order.ToUInt32(address) & (prefix == 0 ? 0u : uint.MaxValue << (32 - prefix));
        return $"{new IPAddress([(byte)(bits >> 24), (byte)(bits >> 16), (byte)(bits >> 8), (byte)bits])}/{prefix.ToString(CultureInfo.InvariantCulture)}";
    }

    /// <summary>nft's name of a Kubernetes protocol; null for one NetworkPolicy does not know.</summary>
    internal static string? Protocol(string protocol) => protocol.ToUpperInvariant() switch
    {
        "TCP" => "tcp",
        "UDP" => "udp",
        "SCTP" => "sctp",
        _ => null,
    };

    /// <summary>One element alone, several as an anonymous set.</summary>
    internal static string Set(IEnumerable<string> elements)
    {
        var list = elements.ToList();
        return list.Count == 1 ? list[0] : $"{{ {string.Join(", ", list)} }}";
    }

    /// <summary>What a peer matches: the rule's address match (empty for every address) and the pods it stands for
    /// (null: every pod; empty: no pod, an ipBlock).</summary>
    private sealed record Target(string Match, IReadOnlyList<ClusterPod>? Pods);
}

/// <summary>IPv4 addresses in numeric order, for deterministic sets.</summary>
internal sealed class Ipv4Order : IComparer<IPAddress>
{
    public static readonly Ipv4Order Instance = new();

    public int Compare(IPAddress? x, IPAddress? y) => ToUInt32(x!).CompareTo(ToUInt32(y!));

    public static uint ToUInt32(IPAddress address)
    {
        var bytes = address.GetAddressBytes();
        return bytes.Length == 4 ? (uint)(bytes[0] << 24 | bytes[1] << 16 | bytes[2] << 8 | bytes[3]) : 0;
    }
}

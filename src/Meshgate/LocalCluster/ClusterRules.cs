using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Meshgate.LocalCluster;

/// <summary>
/// The local cluster node's nftables rules, what kube-proxy and a NetworkPolicy plug-in program on a Kubernetes node,
/// rendered for <c>nft -f</c> in the node's network namespace (which forwards all pod traffic):
/// <list type="bullet">
/// <item><c>services</c> (nat prerouting): a Service port's ClusterIP is DNATed to one of its endpoints at random.</item>
/// <item><c>services_reject</c> (filter prerouting, after DNAT): what is still addressed to the service CIDR (a port with
/// no endpoints, a port or address no Service has) is rejected with ICMP port unreachable, as kube-proxy does.</item>
/// <item><c>hairpin</c> (nat postrouting): a pod that reaches itself through a ClusterIP is masqueraded, so its answer
/// comes back through the node.</item>
/// <item><c>forward</c>: NetworkPolicy, after DNAT so policies see endpoint pods. Replies pass, the node (the host's
/// address on mg-host0) and a pod to itself are always allowed; then a pod isolated for egress jumps to its
/// <c>egress_N</c> chain and a pod isolated for ingress to its <c>ingress_N</c>, which <c>return</c> what a policy
/// allows and drop the rest (a blocked connect times out).</item>
/// </list>
/// IPv4 only: IPv6 traffic is neither translated nor filtered.
/// </summary>
public static class ClusterRules
{
    /// <summary>The table holding the rules (family inet).</summary>
    public const string Table = "meshgate_cluster";

    /// <summary>The rule set for <c>nft -f</c>; replaces an older table of the same name in one transaction. The same
    /// input, in any order, renders the same text.</summary>
    public static string Render(ClusterRuleInput input)
    {
        var pods = input.Pods
            .Where(p => p.Address.AddressFamily == AddressFamily.InterNetwork)
            .OrderBy(p => p.Namespace, StringComparer.Ordinal)
            .ThenBy(p => p.Name, StringComparer.Ordinal)
            .ToList();
        var ports = ServicePorts(input.Services);

        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"table inet {Table}\n");
        text.Append(CultureInfo.InvariantCulture, $"delete table inet {Table}\n");
        text.Append(CultureInfo.InvariantCulture, $"table inet {Table} {{\n");
        Services(text, ports);
        Rejects(text, input);
        Hairpin(text, ports);
        Forward(text, input, pods);
        text.Append("}\n");
        return text.ToString();
    }

    private static void Services(StringBuilder text, IReadOnlyList<RenderedPort> ports)
    {
        text.Append("\tchain services {\n");
        text.Append("\t\ttype nat hook prerouting priority dstnat; policy accept;\n");
        foreach (var port in ports.Where(p => p.Endpoints.Count > 0))
        {
            var match = $"ip daddr {port.ClusterIp} {port.Protocol} dport {port.Port.ToString(CultureInfo.InvariantCulture)}";
            if (port.Endpoints.Count == 1)
            {
                text.Append(CultureInfo.InvariantCulture, $"\t\t{match} dnat ip to {port.Endpoints[0]}\n");
            }
            else
            {
                var map = string.Join(", ", port.Endpoints.Select((e, i) => $"{i.ToString(CultureInfo.InvariantCulture)} : {e.Address} . {e.Port.ToString(CultureInfo.InvariantCulture)}"));
                text.Append(CultureInfo.InvariantCulture, $"\t\t{match} dnat ip to numgen random mod {port.Endpoints.Count.ToString(CultureInfo.InvariantCulture)} map {{ {map} }}\n");
            }
        }

        text.Append("\t}\n");
    }

    private static void Rejects(StringBuilder text, ClusterRuleInput input)
    {
        var addresses = new List<string>();
        if (input.ServiceCidr.BaseAddress.AddressFamily == AddressFamily.InterNetwork)
        {
            addresses.Add(input.ServiceCidr.ToString());
        }

        addresses.AddRange(input.Services
            .Select(s => s.ClusterIp)
            .Where(a => a.AddressFamily == AddressFamily.InterNetwork && !input.ServiceCidr.Contains(a))
            .Distinct()
            .Order(Ipv4Order.Instance)
            .Select(a => a.ToString()));
        if (addresses.Count == 0)
        {
            return;
        }

        text.Append("\tchain services_reject {\n");
        text.Append("\t\ttype filter hook prerouting priority dstnat + 10; policy accept;\n");
        text.Append(CultureInfo.InvariantCulture, $"\t\tip daddr {NetworkPolicyChains.Set(addresses)} reject\n");
        text.Append("\t}\n");
    }

    private static void Hairpin(StringBuilder text, IReadOnlyList<RenderedPort> ports)
    {
        var endpoints = ports.SelectMany(p => p.Endpoints).Select(e => e.Address).Distinct().Order(Ipv4Order.Instance).ToList();
        if (endpoints.Count == 0)
        {
            return;
        }

        text.Append("\tchain hairpin {\n");
        text.Append("\t\ttype nat hook postrouting priority srcnat; policy accept;\n");
        text.Append(CultureInfo.InvariantCulture, $"\t\tct status dnat ip saddr . ip daddr {{ {string.Join(", ", endpoints.Select(a => $"{a} . {a}"))} }} masquerade\n");
        text.Append("\t}\n");
    }

    private static void Forward(StringBuilder text, ClusterRuleInput input, IReadOnlyList<ClusterPod> pods)
    {
        var policies = new NetworkPolicyChains(pods, input.Namespaces, input.Policies);
        var chains = new List<(string Name, IReadOnlyList<string> Rules)>();
        var jumps = new List<string>();
        // Every pod's egress chain first, then the ingress chains: a connection needs both ends to allow it.
        foreach (var (direction, field, prefix) in new[] { (PolicyDirection.Egress, "saddr", "egress_"), (PolicyDirection.Ingress, "daddr", "ingress_") })
        {
            for (var i = 0; i < pods.Count; i++)
            {
                var pod = pods[i];
                if (policies.Chain(pod, direction) is { } rules)
                {
                    var name = prefix + i.ToString(CultureInfo.InvariantCulture);
                    chains.Add((name, rules));
                    jumps.Add($"ip {field} {pod.Address} jump {name} comment {Comment($"{pod.Namespace}/{pod.Name}")}");
                }
            }
        }

        text.Append("\tchain forward {\n");
        text.Append("\t\ttype filter hook forward priority filter; policy accept;\n");
        text.Append("\t\tct state established,related accept\n");
        text.Append("\t\tct state invalid drop\n");
        if (input.HostLinkAddress is { } hostLink)
        {
            var host = hostLink.AddressFamily == AddressFamily.InterNetworkV6 ? "ip6" : "ip";
            text.Append(CultureInfo.InvariantCulture, $"\t\t{host} saddr {hostLink} accept\n");
            text.Append(CultureInfo.InvariantCulture, $"\t\t{host} daddr {hostLink} accept\n");
        }

        if (jumps.Count > 0)
        {
            // A pod cannot block access to itself (through a ClusterIP, the only way its own traffic reaches the node).
            var selves = pods.Select(p => p.Address).Distinct().Order(Ipv4Order.Instance).Select(a => $"{a} . {a}");
            text.Append(CultureInfo.InvariantCulture, $"\t\tip saddr . ip daddr {{ {string.Join(", ", selves)} }} accept\n");
        }

        foreach (var jump in jumps)
        {
            text.Append(CultureInfo.InvariantCulture, $"\t\t{jump}\n");
        }

        text.Append("\t}\n");
        foreach (var (name, rules) in chains)
        {
            text.Append(CultureInfo.InvariantCulture, $"\tchain {name} {{\n");
            foreach (var rule in rules)
            {
                text.Append(CultureInfo.InvariantCulture, $"\t\t{rule}\n");
            }

            text.Append("\t\tdrop\n");
            text.Append("\t}\n");
        }
    }

    /// <summary>The service ports that can be programmed (IPv4 ClusterIP, a known protocol), sorted, with their IPv4
    /// endpoints sorted and without duplicates.</summary>
    private static List<RenderedPort> ServicePorts(IReadOnlyList<ClusterService> services) =>
        [.. services
            .Where(s => s.ClusterIp.AddressFamily == AddressFamily.InterNetwork)
            .SelectMany(s => s.Ports.Select(p => (s.ClusterIp, Protocol: NetworkPolicyChains.Protocol(p.Protocol), p.Port, p.Endpoints)))
            .Where(p => p.Protocol is not null && p.Port is > 0 and <= 65535)
            .Select(p => new RenderedPort(p.ClusterIp, p.Protocol!, p.Port, [.. p.Endpoints
                .Where(e => e.AddressFamily == AddressFamily.InterNetwork)
                .DistinctBy(e => (Ipv4Order.ToUInt32(e.Address), e.Port))
                .OrderBy(e => e.Address, Ipv4Order.Instance)
                .ThenBy(e => e.Port)]))
            .DistinctBy(p => (Ipv4Order.ToUInt32(p.ClusterIp), p.Protocol, p.Port))
            .OrderBy(p => p.ClusterIp, Ipv4Order.Instance)
            .ThenBy(p => p.Protocol, StringComparer.Ordinal)
            .ThenBy(p => p.Port)];

    /// <summary>A quoted nft comment (at most 128 bytes; names never hold quotes).</summary>
    private static string Comment(string text) => $"\"{(text.Length > 120 ? text[..120] : text)}\"";

    private sealed record RenderedPort(IPAddress ClusterIp, string Protocol, int Port, IReadOnlyList<IPEndPoint> Endpoints);
}

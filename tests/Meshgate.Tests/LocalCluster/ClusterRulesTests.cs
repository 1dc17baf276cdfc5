using System.Net;
using k8s;
using k8s.Models;
using Meshgate.LocalCluster;
using Xunit;

namespace Meshgate.Tests.LocalCluster;

/// <summary>
/// The node's nftables rules as text: kube-proxy's DNAT and NetworkPolicy's isolation, peers and ports. That nft takes
/// the text and the kernel enforces it is <see cref="ClusterRulesNetnsTests"/>.
/// </summary>
public sealed class ClusterRulesTests
{
    private static readonly ClusterPod Client = Pod("default", "client", "10.230.0.2", "app=client");
    private static readonly ClusterPod Web = Pod("default", "web", "10.230.0.3", "app=web,tier=front", new ContainerPort("http", 8080, "TCP"), new ContainerPort("metrics", 9090, "TCP"));
    private static readonly ClusterPod Db = Pod("default", "db", "10.230.0.4", "app=db,tier=back", new ContainerPort("http", 5000, "TCP"), new ContainerPort("sql", 5432, "TCP"));
    private static readonly ClusterPod Dns = Pod("kube-system", "coredns", "10.230.0.5", "k8s-app=kube-dns", new ContainerPort("dns", 53, "UDP"), new ContainerPort("dns-tcp", 53, "TCP"));
    private static readonly ClusterPod Other = Pod("prod", "api", "10.230.0.6", "app=web", new ContainerPort("http", 80, "TCP"));

    private static readonly ClusterPod[] Pods = [Client, Web, Db, Dns, Other];

    private static readonly ClusterNamespace[] Namespaces =
    [
        new("default", new Dictionary<string, string>()),
        new("kube-system", new Dictionary<string, string>()),
        new("prod", new Dictionary<string, string> { ["env"] = "prod" }),
    ];

    [Fact]
    public void Render_SmallCluster_WholeRuleSet()
    {
        var services = new[]
        {
            new ClusterService("kube-system", "kube-dns", IPAddress.Parse("10.96.0.10"),
                [new ServicePort("UDP", 53, [new IPEndPoint(IPAddress.Parse("10.230.0.5"), 53)])]),
        };
        var rules = ClusterRules.Render(Input([Client, Web], services: services, policies: """
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: web, namespace: default}
            spec:
              podSelector: {matchLabels: {app: web}}
              ingress:
              - from: [{podSelector: {matchLabels: {app: client}}}]
                ports: [{port: 8080}]
            """));

        Assert.Equal("""
            table inet meshgate_cluster
            delete table inet meshgate_cluster
            table inet meshgate_cluster {
            	chain services {
            		type nat hook prerouting priority dstnat; policy accept;
            		ip daddr 10.96.0.10 udp dport 53 dnat ip to 10.230.0.5:53
            	}
            	chain services_reject {
            		type filter hook prerouting priority dstnat + 10; policy accept;
            		ip daddr 10.96.0.0/16 reject
            	}
            	chain hairpin {
            		type nat hook postrouting priority srcnat; policy accept;
            		ct status dnat ip saddr . ip daddr { 10.230.0.5 . 10.230.0.5 } masquerade
            	}
            	chain forward {
            		type filter hook forward priority filter; policy accept;
            		ct state established,related accept
            		ct state invalid drop
            		ip saddr 10.239.255.1 accept
            		ip daddr 10.239.255.1 accept
            		ip saddr . ip daddr { 10.230.0.2 . 10.230.0.2, 10.230.0.3 . 10.230.0.3 } accept
            		ip daddr 10.230.0.3 jump ingress_1 comment "default/web"
            	}
            	chain ingress_1 {
            		ip saddr 10.230.0.2 tcp dport 8080 return
            		drop
            	}
            }

            """.ReplaceLineEndings("\n"), rules);
    }

    [Fact]
    public void Render_NoPolicies_NoPodIsolated()
    {
        var rules = ClusterRules.Render(Input(Pods));

        Assert.DoesNotContain("jump", rules, StringComparison.Ordinal);
        Assert.DoesNotContain("drop\n\t}", rules, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_SameInputInAnyOrder_SameText()
    {
        const string policies = """
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: a, namespace: default}
            spec:
              podSelector: {}
              egress: [{to: [{namespaceSelector: {}}]}]
            ---
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: b, namespace: default}
            spec:
              podSelector: {}
              ingress: [{from: [{podSelector: {}}]}]
            """;
        var services = new[]
        {
            new ClusterService("default", "web", IPAddress.Parse("10.96.0.20"),
                [new ServicePort("TCP", 80, [Endpoint("10.230.0.4:8080"), Endpoint("10.230.0.3:8080")]), new ServicePort("TCP", 443, [Endpoint("10.230.0.3:8443")])]),
            new ClusterService("default", "db", IPAddress.Parse("10.96.0.5"), [new ServicePort("TCP", 5432, [Endpoint("10.230.0.4:5432")])]),
        };
        var forward = ClusterRules.Render(Input(Pods, policies, services));
        var reversed = ClusterRules.Render(Input(
            [.. Pods.Reverse()], policies, [.. services.Reverse().Select(s => s with { Ports = [.. s.Ports.Reverse().Select(p => p with { Endpoints = [.. p.Endpoints.Reverse()] })] })],
            reversePolicies: true));

        Assert.Equal(forward, reversed);
    }

    [Fact]
    public void PodSelector_MatchLabelsAndEveryExpressionOperator_SelectsOnlyMatchingPodsOfItsNamespace()
    {
        static string Selecting(string selector) => string.Join(",", Isolated(ClusterRules.Render(Input(Pods, $$"""
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: p, namespace: default}
            spec:
              podSelector: {{selector}}
              policyTypes: [Ingress]
            """)), "ingress"));

        Assert.Equal("default/db,default/web", Selecting("{matchExpressions: [{key: tier, operator: In, values: [front, back]}]}"));
        Assert.Equal("default/web", Selecting("{matchLabels: {app: web}}"));
        Assert.Equal("default/web", Selecting("{matchLabels: {app: web}, matchExpressions: [{key: tier, operator: Exists}]}"));
        Assert.Equal("", Selecting("{matchLabels: {app: web}, matchExpressions: [{key: tier, operator: DoesNotExist}]}"));
        Assert.Equal("default/client,default/db", Selecting("{matchExpressions: [{key: tier, operator: NotIn, values: [front]}]}"));
        Assert.Equal("default/client", Selecting("{matchExpressions: [{key: tier, operator: DoesNotExist}]}"));
        Assert.Equal("default/client,default/db,default/web", Selecting("{}")); // every pod of the namespace, none of prod's or kube-system's
    }

    [Fact]
    public void PolicyTypes_AbsentMeansIngressAndEgressOnlyWithEgressRules()
    {
        string Directions(string spec)
        {
            var rules = ClusterRules.Render(Input([Web], $$"""
                apiVersion: networking.k8s.io/v1
                kind: NetworkPolicy
                metadata: {name: p, namespace: default}
                spec:
                  podSelector: {}
                {{spec}}
                """));
            return string.Join(",", new[] { "egress", "ingress" }.Where(d => Isolated(rules, d).Any()));
        }

        Assert.Equal("ingress", Directions(""));
        Assert.Equal("ingress", Directions("  ingress: [{}]"));
        Assert.Equal("egress,ingress", Directions("  egress: [{}]"));
        Assert.Equal("ingress", Directions("  egress: []")); // the API server's default: Egress only with egress rules
        Assert.Equal("egress", Directions("  policyTypes: [Egress]"));
        Assert.Equal("egress", Directions("  policyTypes: [Egress]\n  ingress: [{}]"));
        Assert.Equal("egress,ingress", Directions("  policyTypes: [Ingress, Egress]"));
    }

    [Fact]
    public void EgressTypeWithoutRules_AllowsNothing()
    {
        var rules = ClusterRules.Render(Input(Pods, """
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: deny, namespace: default}
            spec:
              podSelector: {matchLabels: {app: client}}
              policyTypes: [Egress]
              egress: []
            """));

        Assert.Equal(["drop"], Chain(rules, "egress", Client));
        Assert.Contains("\t\tip saddr 10.230.0.2 jump egress_0 comment \"default/client\"\n", rules, StringComparison.Ordinal);
        Assert.Equal(["default/client"], Isolated(rules, "egress"));
        Assert.Empty(Isolated(rules, "ingress"));
    }

    [Fact]
    public void EmptyRule_AllowsEverything()
    {
        var rules = ClusterRules.Render(Input(Pods, """
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: all, namespace: default}
            spec:
              podSelector: {matchLabels: {app: client}}
              egress: [{}]
            """));

        Assert.Equal(["return", "drop"], Chain(rules, "egress", Client));
    }

    [Fact]
    public void Peers_PodSelectorNamespaceSelectorAndBoth()
    {
        var rules = ClusterRules.Render(Input(Pods, """
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: peers, namespace: default}
            spec:
              podSelector: {matchLabels: {app: client}}
              policyTypes: [Egress]
              egress:
              - to: [{podSelector: {matchLabels: {app: web}}}]
              - to: [{namespaceSelector: {matchLabels: {env: prod}}}]
              - to: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}, podSelector: {matchLabels: {k8s-app: kube-dns}}}]
              - to: [{namespaceSelector: {}, podSelector: {matchLabels: {app: web}}}]
              - to: [{namespaceSelector: {}}]
              - to: [{podSelector: {matchLabels: {app: nothing}}}]
            """));

        Assert.Equal(
        [
            "ip daddr 10.230.0.3 return", // podSelector alone: default's web only, not prod's app=web
            "ip daddr 10.230.0.6 return", // namespaceSelector alone: every pod of prod
            "ip daddr 10.230.0.5 return", // both: kube-dns pods in kube-system (matched by its implicit name label)
            "ip daddr { 10.230.0.3, 10.230.0.6 } return", // both, every namespace: app=web anywhere
            "ip daddr { 10.230.0.2, 10.230.0.3, 10.230.0.4, 10.230.0.5, 10.230.0.6 } return", // every pod
            "drop", // a selector matching no pod adds nothing
        ], Chain(rules, "egress", Client));
    }

    [Fact]
    public void Peers_OneRuleWithSeveralPeers_OneAddressSetAndOneRulePerIpBlock()
    {
        var rules = ClusterRules.Render(Input(Pods, """
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: peers, namespace: default}
            spec:
              podSelector: {matchLabels: {app: web}}
              ingress:
              - from:
                - podSelector: {matchLabels: {app: client}}
                - namespaceSelector: {matchLabels: {env: prod}}
                - ipBlock: {cidr: 192.0.2.0/24}
                ports: [{port: 8080}, {port: 8443}]
            """));

        Assert.Equal(
        [
            "ip saddr { 10.230.0.2, 10.230.0.6 } tcp dport 8080 return",
            "ip saddr 192.0.2.0/24 tcp dport 8080 return",
            "ip saddr { 10.230.0.2, 10.230.0.6 } tcp dport 8443 return",
            "ip saddr 192.0.2.0/24 tcp dport 8443 return",
            "drop",
        ], Chain(rules, "ingress", Web));
    }

    [Fact]
    public void IpBlock_ExceptAndHostBits()
    {
        var rules = ClusterRules.Render(Input(Pods, """
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: out, namespace: default}
            spec:
              podSelector: {matchLabels: {app: client}}
              policyTypes: [Egress]
              egress:
              - to: [{ipBlock: {cidr: 0.0.0.0/0, except: [10.0.0.0/8, 192.168.1.7/32]}}]
              - to: [{ipBlock: {cidr: 203.0.113.9/24}}]
              - to: [{ipBlock: {cidr: "2001:db8::/32"}}]
            """));

        Assert.Equal(
        [
            "ip daddr 0.0.0.0/0 ip daddr != { 10.0.0.0/8, 192.168.1.7/32 } return",
            "ip daddr 203.0.113.0/24 return",
            "drop", // IPv6 blocks match nothing: the rules are IPv4 only
        ], Chain(rules, "egress", Client));
    }

    [Fact]
    public void Ports_ProtocolsRangesAndProtocolOnly()
    {
        var rules = ClusterRules.Render(Input(Pods, """
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: ports, namespace: default}
            spec:
              podSelector: {matchLabels: {app: client}}
              policyTypes: [Egress]
              egress:
              - ports:
                - {port: 53, protocol: UDP}
                - {port: 443}
                - {port: 32000, endPort: 32768}
                - {port: 7, protocol: SCTP}
                - {protocol: UDP}
            """));

        Assert.Equal(
        [
            "udp dport 53 return", // no "to": every destination
            "tcp dport 443 return", // protocol defaults to TCP
            "tcp dport 32000-32768 return",
            "sctp dport 7 return",
            "meta l4proto udp return",
            "drop",
        ], Chain(rules, "egress", Client));
    }

    [Fact]
    public void NamedPort_Egress_ResolvedPerDestinationPod()
    {
        var rules = ClusterRules.Render(Input(Pods, """
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: named, namespace: default}
            spec:
              podSelector: {matchLabels: {app: client}}
              policyTypes: [Egress]
              egress:
              - to: [{podSelector: {}}]
                ports: [{port: http}]
              - ports: [{port: dns, protocol: UDP}]
              - ports: [{port: dns}]
              - to: [{ipBlock: {cidr: 10.0.0.0/8}}]
                ports: [{port: http}]
            """));

        Assert.Equal(
        [
            // default's pods with a TCP port "http", each with its own number; client has none, prod's api is not a peer
            "ip daddr . tcp dport { 10.230.0.3 . 8080, 10.230.0.4 . 5000 } return",
            // no "to": every pod with the name, whatever its namespace
            "ip daddr . udp dport { 10.230.0.5 . 53 } return",
            // "dns" is a UDP port; TCP (the default protocol) has no port of that name anywhere
            // a named port to an ipBlock matches nothing
            "drop",
        ], Chain(rules, "egress", Client));
    }

    [Fact]
    public void NamedPort_Ingress_ResolvedAgainstTheIsolatedPodItself()
    {
        var rules = ClusterRules.Render(Input(Pods, """
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: named, namespace: default}
            spec:
              podSelector: {matchLabels: {tier: front}}
              ingress:
              - from: [{podSelector: {matchLabels: {app: client}}}, {ipBlock: {cidr: 192.0.2.0/24}}]
                ports: [{port: http}, {port: sql}]
            """));

        Assert.Equal(
        [
            "ip saddr 10.230.0.2 tcp dport 8080 return",
            "ip saddr 192.0.2.0/24 tcp dport 8080 return",
            "drop", // web has no port "sql"
        ], Chain(rules, "ingress", Web));
    }

    [Fact]
    public void SeveralPolicies_AllowRulesAddUp()
    {
        var rules = ClusterRules.Render(Input(Pods, """
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: deny-all, namespace: default}
            spec:
              podSelector: {}
              policyTypes: [Ingress, Egress]
            ---
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: web-from-client, namespace: default}
            spec:
              podSelector: {matchLabels: {app: web}}
              ingress: [{from: [{podSelector: {matchLabels: {app: client}}}]}]
            ---
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: web-from-prod, namespace: default}
            spec:
              podSelector: {matchLabels: {tier: front}}
              ingress: [{from: [{namespaceSelector: {matchLabels: {env: prod}}}], ports: [{port: 8080}]}]
            ---
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: other-namespace, namespace: prod}
            spec:
              podSelector: {}
              ingress: [{}]
            """));

        Assert.Equal(["ip saddr 10.230.0.2 return", "ip saddr 10.230.0.6 tcp dport 8080 return", "drop"], Chain(rules, "ingress", Web));
        Assert.Equal(["drop"], Chain(rules, "ingress", Db));
        Assert.Equal(["drop"], Chain(rules, "egress", Web));
        Assert.Equal(["return", "drop"], Chain(rules, "ingress", Other)); // prod's own policy, not default's
        Assert.Equal(["default/client", "default/db", "default/web"], Isolated(rules, "egress"));
        Assert.Equal(["default/client", "default/db", "default/web", "prod/api"], Isolated(rules, "ingress"));
        Assert.DoesNotContain("kube-system/", rules, StringComparison.Ordinal);
    }

    [Fact]
    public void Forward_RepliesNodeAndSelfBeforePodChains()
    {
        var rules = ClusterRules.Render(Input(Pods, """
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: deny, namespace: default}
            spec:
              podSelector: {}
              policyTypes: [Ingress, Egress]
            """));
        var forward = Lines(rules, "forward");

        Assert.Equal(
        [
            "type filter hook forward priority filter; policy accept;",
            "ct state established,related accept",
            "ct state invalid drop",
            "ip saddr 10.239.255.1 accept",
            "ip daddr 10.239.255.1 accept",
            "ip saddr . ip daddr { 10.230.0.2 . 10.230.0.2, 10.230.0.3 . 10.230.0.3, 10.230.0.4 . 10.230.0.4, 10.230.0.5 . 10.230.0.5, 10.230.0.6 . 10.230.0.6 } accept",
        ], forward[..6]);
        // Egress checks first, then ingress: a connection needs both ends to allow it.
        Assert.Equal(
        [
            "ip saddr 10.230.0.2 jump egress_0 comment \"default/client\"",
            "ip saddr 10.230.0.4 jump egress_1 comment \"default/db\"",
            "ip saddr 10.230.0.3 jump egress_2 comment \"default/web\"",
            "ip daddr 10.230.0.2 jump ingress_0 comment \"default/client\"",
            "ip daddr 10.230.0.4 jump ingress_1 comment \"default/db\"",
            "ip daddr 10.230.0.3 jump ingress_2 comment \"default/web\"",
        ], forward[6..]);
    }

    [Fact]
    public void Services_OneEndpointPlainDnatSeveralAtRandom()
    {
        var services = new[]
        {
            new ClusterService("default", "web", IPAddress.Parse("10.96.0.20"),
            [
                new ServicePort("TCP", 80, [Endpoint("10.230.0.4:8080"), Endpoint("10.230.0.3:8080"), Endpoint("10.230.0.3:8080")]),
                new ServicePort("TCP", 443, [Endpoint("10.230.0.3:8443")]),
                new ServicePort("TCP", 9000, []),
            ]),
            new ClusterService("kube-system", "kube-dns", IPAddress.Parse("10.96.0.10"),
                [new ServicePort("UDP", 53, [Endpoint("10.230.0.5:53")]), new ServicePort("TCP", 53, [Endpoint("10.230.0.5:53")])]),
            new ClusterService("default", "outside", IPAddress.Parse("172.20.0.1"), [new ServicePort("TCP", 80, [])]),
        };
        var rules = ClusterRules.Render(Input(Pods, services: services));

        Assert.Equal(
        [
            "type nat hook prerouting priority dstnat; policy accept;",
            "ip daddr 10.96.0.10 tcp dport 53 dnat ip to 10.230.0.5:53",
            "ip daddr 10.96.0.10 udp dport 53 dnat ip to 10.230.0.5:53",
            "ip daddr 10.96.0.20 tcp dport 80 dnat ip to numgen random mod 2 map { 0 : 10.230.0.3 . 8080, 1 : 10.230.0.4 . 8080 }",
            "ip daddr 10.96.0.20 tcp dport 443 dnat ip to 10.230.0.3:8443",
        ], Lines(rules, "services"));
        // After DNAT whatever is still addressed to a ClusterIP (port 9000: no endpoints) is refused, as kube-proxy does.
        Assert.Equal(["type filter hook prerouting priority dstnat + 10; policy accept;", "ip daddr { 10.96.0.0/16, 172.20.0.1 } reject"], Lines(rules, "services_reject"));
        Assert.Equal(
        [
            "type nat hook postrouting priority srcnat; policy accept;",
            "ct status dnat ip saddr . ip daddr { 10.230.0.3 . 10.230.0.3, 10.230.0.4 . 10.230.0.4, 10.230.0.5 . 10.230.0.5 } masquerade",
        ], Lines(rules, "hairpin"));
    }

    [Fact]
    public void Ipv6Pods_LeftOut()
    {
        var v6 = Pod("default", "v6", "fd00::5", "app=client");
        var rules = ClusterRules.Render(Input([Client, v6], """
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: deny, namespace: default}
            spec:
              podSelector: {}
              ingress: [{from: [{podSelector: {}}]}]
            """));

        Assert.Equal(["default/client"], Isolated(rules, "ingress"));
        Assert.Equal(["ip saddr 10.230.0.2 return", "drop"], Chain(rules, "ingress", Client));
    }

    internal static ClusterPod Pod(string ns, string name, string address, string labels, params ContainerPort[] ports) =>
        new(ns, name, IPAddress.Parse(address), Labels(labels), ports);

    internal static Dictionary<string, string> Labels(string labels) =>
        labels.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('=')).ToDictionary(l => l[0], l => l[1]);

    internal static IPEndPoint Endpoint(string text) => IPEndPoint.Parse(text);

    /// <summary>NetworkPolicies from YAML documents, as the API server stores them (metadata.namespace set).</summary>
    internal static List<V1NetworkPolicy> Policies(string yaml) =>
        [.. yaml.Split("\n---\n", StringSplitOptions.RemoveEmptyEntries).Select(d => KubernetesYaml.Deserialize<V1NetworkPolicy>(d, strict: true))];

    private static ClusterRuleInput Input(ClusterPod[] pods, string policies = "", ClusterService[]? services = null, bool reversePolicies = false)
    {
        var parsed = Policies(policies);
        if (reversePolicies)
        {
            parsed.Reverse();
        }

        return new ClusterRuleInput(pods, Namespaces, parsed, services ?? [], IPNetwork.Parse("10.230.0.0/16"), IPNetwork.Parse("10.96.0.0/16"), IPAddress.Parse("10.239.255.1"));
    }

    /// <summary>The lines of chain <paramref name="name"/>, without indentation.</summary>
    private static string[] Lines(string rules, string name)
    {
        var start = rules.IndexOf($"\tchain {name} {{\n", StringComparison.Ordinal);
        Assert.True(start >= 0, $"no chain {name} in\n{rules}");
        var body = rules[(rules.IndexOf('\n', start) + 1)..];
        return [.. body[..body.IndexOf("\t}\n", StringComparison.Ordinal)].Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Trim())];
    }

    /// <summary>The rules of <paramref name="pod"/>'s chain for <paramref name="direction"/> (egress or ingress), found through its jump.</summary>
    private static string[] Chain(string rules, string direction, ClusterPod pod)
    {
        var field = direction == "egress" ? "saddr" : "daddr";
        var jump = Lines(rules, "forward").SingleOrDefault(l => l.StartsWith($"ip {field} {pod.Address} jump {direction}_", StringComparison.Ordinal));
        Assert.True(jump is not null, $"{pod.Name} is not isolated for {direction}:\n{rules}");
        return Lines(rules, jump.Split(' ')[4]);
    }

    /// <summary>The pods (namespace/name) isolated in <paramref name="direction"/>, from the comments of the jumps.</summary>
    private static List<string> Isolated(string rules, string direction) =>
        [.. Lines(rules, "forward").Where(l => l.Contains($" jump {direction}_", StringComparison.Ordinal)).Select(l => l.Split('"')[1]).Order(StringComparer.Ordinal)];
}

using System.Net;
using k8s.Models;

namespace Meshgate.LocalCluster;

/// <summary>A pod of the local cluster as the node's rules see it: its address, labels and named ports.</summary>
/// <param name="Address">The pod's address (a /32 from the pod CIDR); only IPv4 pods are filtered.</param>
/// <param name="Ports">The containers' ports; NetworkPolicy named ports resolve against their names.</param>
public sealed record ClusterPod(string Namespace, string Name, IPAddress Address, IReadOnlyDictionary<string, string> Labels, IReadOnlyList<ContainerPort> Ports);

/// <summary>One container port of a pod.</summary>
/// <param name="Protocol"><c>TCP</c>, <c>UDP</c> or <c>SCTP</c>.</param>
public sealed record ContainerPort(string? Name, int Port, string Protocol);

/// <summary>A namespace and its labels, for NetworkPolicy <c>namespaceSelector</c>s.</summary>
/// <param name="Labels">The namespace's labels; <c>kubernetes.io/metadata.name</c> is added when missing, as the API server does.</param>
public sealed record ClusterNamespace(string Name, IReadOnlyDictionary<string, string> Labels);

/// <summary>One port of a Service and the endpoints (pod address and target port) it balances over.</summary>
/// <param name="Protocol"><c>TCP</c>, <c>UDP</c> or <c>SCTP</c>.</param>
public sealed record ServicePort(string Protocol, int Port, IReadOnlyList<IPEndPoint> Endpoints);

/// <summary>A Service with a ClusterIP, as kube-proxy programs it.</summary>
public sealed record ClusterService(string Namespace, string Name, IPAddress ClusterIp, IReadOnlyList<ServicePort> Ports);

/// <summary>Everything the node's nftables rules are rendered from (<see cref="ClusterRules.Render"/>).</summary>
/// <param name="Policies">NetworkPolicies with <c>metadata.namespace</c> set (a policy without one counts as <c>default</c>'s).</param>
/// <param name="PodCidr">The pods' addresses (for the caller's routes; the rules go by each pod's own address).</param>
/// <param name="ServiceCidr">The ClusterIPs; traffic to one that no Service port serves is rejected.</param>
/// <param name="HostLinkAddress">A host (node) address whose traffic to and from pods NetworkPolicies never block, as
/// Kubernetes lets the kubelet's probes through; null for none (the local cluster's node reaches pods from its own
/// namespace, which the forward hook does not see, so it needs none).</param>
public sealed record ClusterRuleInput(
    IReadOnlyList<ClusterPod> Pods,
    IReadOnlyList<ClusterNamespace> Namespaces,
    IReadOnlyList<V1NetworkPolicy> Policies,
    IReadOnlyList<ClusterService> Services,
    IPNetwork PodCidr,
    IPNetwork ServiceCidr,
    IPAddress? HostLinkAddress);

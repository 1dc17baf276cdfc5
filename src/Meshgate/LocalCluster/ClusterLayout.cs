using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;

namespace Meshgate.LocalCluster;

/// <summary>
/// The names and address ranges of the local cluster (<c>meshgate up --cluster</c>): everything it creates on the machine
/// is named from here, so <see cref="ClusterNetwork.RemoveAllAsync"/> finds it again after a crash.
/// </summary>
internal static class ClusterLayout
{
    /// <summary>Every network namespace the cluster creates starts with this; nothing else on the machine should.</summary>
    public const string NamespacePrefix = "mgk-";

    /// <summary>The node: routes between pods and the internet, runs the Service NAT and NetworkPolicy rules.</summary>
    public const string NodeNamespace = NamespacePrefix + "node";

    /// <summary>The stand-in for the outside world, where <c>--site</c> hosts are served.</summary>
    public const string InternetNamespace = NamespacePrefix + "internet";

    /// <summary>The node's end of the link to the internet namespace.</summary>
    public const string InternetLink = "mg-inet0";

    /// <summary>The name of the node (Pod <c>spec.nodeName</c>).</summary>
    public const string NodeName = "meshgate";

    /// <summary>Kubernetes' default pod range (kind uses it too).</summary>
    public static readonly IPNetwork PodCidr = IPNetwork.Parse("10.244.0.0/16");

    /// <summary>Kubernetes' default Service range.</summary>
    public static readonly IPNetwork ServiceCidr = IPNetwork.Parse("10.96.0.0/16");

    /// <summary>TEST-NET-2 (RFC 5737): documentation addresses, never routed on the real internet.</summary>
    public static readonly IPNetwork InternetCidr = IPNetwork.Parse("198.51.100.0/24");

    /// <summary>The node's address on the internet link; the internet namespace routes the pod range back through it.</summary>
    public static readonly IPAddress InternetGateway = IPAddress.Parse("198.51.100.1");

    /// <summary>The internet namespace's own address; sites get .10, .11, ...</summary>
    public static readonly IPAddress InternetHost = IPAddress.Parse("198.51.100.2");

    /// <summary>Every pod's default gateway, held by the node on each pod's link, as Calico does.</summary>
    public static readonly IPAddress PodGateway = IPAddress.Parse("169.254.1.1");

    /// <summary>kube-dns's ClusterIP, the <c>nameserver</c> of every pod.</summary>
    public static readonly IPAddress DnsServiceAddress = IPAddress.Parse("10.96.0.10");

    /// <summary>The cluster domain.</summary>
    public const string Domain = "cluster.local";

    /// <summary>Where per-namespace files that <c>ip netns exec</c> mounts over <c>/etc</c> live.</summary>
    public const string EtcNetns = "/etc/netns";

    public static IPAddress SiteAddress(int index) => IPAddress.Parse(string.Create(CultureInfo.InvariantCulture, $"198.51.100.{10 + index}"));

    /// <summary>The network namespace of a pod: <c>mgk-NS.POD</c> (both are DNS labels, so the dot is unambiguous).</summary>
    public static string PodNamespace(string ns, string pod) => $"{NamespacePrefix}{ns}.{pod}";

    /// <summary>The node's end of a pod's link (15 characters at most, as Linux requires): <c>mgv</c> and a hash.</summary>
    public static string PodLink(string ns, string pod) => "mgv" + Hash(ns + "/" + pod);

    /// <summary>The pod's end of its link before it is moved into the pod and renamed <c>eth0</c>.</summary>
    public static string PodLinkPeer(string ns, string pod) => "mgp" + Hash(ns + "/" + pod);

    private static string Hash(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..10];
}

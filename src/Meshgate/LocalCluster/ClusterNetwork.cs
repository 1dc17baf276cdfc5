using System.Globalization;
using System.Net;

namespace Meshgate.LocalCluster;

/// <summary>
/// The local cluster's network, made of Linux network namespaces: the node routes between pods and the internet
/// namespace; each pod is a namespace joined to the node by a veth pair, with a /32 address and the node as its default
/// gateway (Calico's layout rather than a bridge, so all pod traffic crosses the node's forward hook, where NetworkPolicy
/// is enforced outside the pod's own namespace). Nothing is linked to the machine's own network namespace: the node has routes
/// to pods and to the internet range only, so nothing the cluster does can leave the machine.
/// </summary>
internal sealed class ClusterNetwork
{
    private ClusterNetwork(string sslDirectory) => SslDirectory = sslDirectory;

    /// <summary>What pods see as <c>/etc/ssl</c>: the machine's certificates (not its private keys) and the cluster's CA.</summary>
    public string SslDirectory { get; }

    /// <summary>
    /// Creates the node and the internet namespaces (after removing what a crashed run left), and the certificate bundle
    /// pods see as <c>/etc/ssl</c>: the machine's, plus <paramref name="extraCaPem"/>.
    /// </summary>
    public static async Task<ClusterNetwork> CreateAsync(string dataDirectory, string extraCaPem, IReadOnlyList<IPAddress> siteAddresses, Action<string> report)
    {
        await RemoveAllAsync(report, leftOver: true).ConfigureAwait(false);
        if (Directory.Exists(PodVolumes.VolumesDirectory(dataDirectory)))
        {
            Directory.Delete(PodVolumes.VolumesDirectory(dataDirectory), recursive: true); // a crashed run's pods' volumes
        }

        var ssl = Path.GetFullPath(Path.Combine(dataDirectory, "cluster", "ssl"));
        if (Directory.Exists(ssl))
        {
            Directory.Delete(ssl, recursive: true);
        }

        Directory.CreateDirectory(Path.GetDirectoryName(ssl)!);
        await HostCommand.RunAsync("cp", ["-a", "/etc/ssl", ssl]).ConfigureAwait(false);
        var privateKeys = Path.Combine(ssl, "private");
        if (Directory.Exists(privateKeys))
        {
            Directory.Delete(privateKeys, recursive: true); // the machine's keys are not the pods' business
        }

        var bundle = Path.Combine(ssl, "certs", "ca-certificates.crt");
        var existing = File.Exists(bundle) ? await File.ReadAllTextAsync(bundle).ConfigureAwait(false) : "";
        File.Delete(bundle); // may be a link into /usr/share; the pods get a copy with the cluster's CA added
        await File.WriteAllTextAsync(bundle, existing + (existing.EndsWith('\n') || existing.Length == 0 ? "" : "\n") + extraCaPem).ConfigureAwait(false);

        var node = ClusterLayout.NodeNamespace;
        await HostCommand.RunAsync("ip", ["netns", "add", node]).ConfigureAwait(false);
        await HostCommand.NodeAsync("link", "set", "lo", "up").ConfigureAwait(false);
        await HostCommand.InNamespaceAsync(node, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1").ConfigureAwait(false);

        var internet = ClusterLayout.InternetNamespace;
        await HostCommand.RunAsync("ip", ["netns", "add", internet]).ConfigureAwait(false);
        await HostCommand.NodeAsync("link", "add", ClusterLayout.InternetLink, "type", "veth", "peer", "name", "eth0", "netns", internet).ConfigureAwait(false);
        await HostCommand.NodeAsync("addr", "add", $"{ClusterLayout.InternetGateway}/24", "dev", ClusterLayout.InternetLink).ConfigureAwait(false);
        await HostCommand.NodeAsync("link", "set", ClusterLayout.InternetLink, "up").ConfigureAwait(false);
        await HostCommand.RunAsync("ip", ["-n", internet, "link", "set", "lo", "up"]).ConfigureAwait(false);
        await HostCommand.RunAsync("ip", ["-n", internet, "addr", "add", $"{ClusterLayout.InternetHost}/24", "dev", "eth0"]).ConfigureAwait(false);
        foreach (var site in siteAddresses)
        {
            await HostCommand.RunAsync("ip", ["-n", internet, "addr", "add", $"{site}/24", "dev", "eth0"]).ConfigureAwait(false);
        }

        await HostCommand.RunAsync("ip", ["-n", internet, "link", "set", "eth0", "up"]).ConfigureAwait(false);
        await HostCommand.RunAsync("ip", ["-n", internet, "route", "add", ClusterLayout.PodCidr.ToString(), "via", ClusterLayout.InternetGateway.ToString()]).ConfigureAwait(false);
        report($"network: node {node} (pods {ClusterLayout.PodCidr}, services {ClusterLayout.ServiceCidr}), internet {internet} ({ClusterLayout.InternetCidr}); no route to this machine's network");
        return new ClusterNetwork(ssl);
    }

    /// <summary>
    /// A pod's network: its namespace, the veth pair to the node, its address and routes, and the files
    /// <c>ip netns exec</c> mounts over <c>/etc</c> in it: <c>resolv.conf</c> (kube-dns, the namespace's search path) and
    /// <c>ssl</c> (the bundle with the cluster's CA). SYN retries are lowered to 2, so a connection a policy drops fails
    /// after 7 s rather than Linux's two minutes.
    /// </summary>
    public async Task AddPodAsync(string ns, string pod, IPAddress address)
    {
        var netns = ClusterLayout.PodNamespace(ns, pod);
        var link = ClusterLayout.PodLink(ns, pod);
        await RemovePodAsync(ns, pod).ConfigureAwait(false);
        var etc = Path.Combine(ClusterLayout.EtcNetns, netns);
        Directory.CreateDirectory(etc);
        await File.WriteAllTextAsync(Path.Combine(etc, "resolv.conf"),
            $"search {ns}.svc.{ClusterLayout.Domain} svc.{ClusterLayout.Domain} {ClusterLayout.Domain}\nnameserver {ClusterLayout.DnsServiceAddress}\noptions ndots:5\n").ConfigureAwait(false);
        File.CreateSymbolicLink(Path.Combine(etc, "ssl"), SslDirectory);

        await HostCommand.RunAsync("ip", ["netns", "add", netns]).ConfigureAwait(false);
        await HostCommand.NodeAsync("link", "add", link, "type", "veth", "peer", "name", "eth0", "netns", netns).ConfigureAwait(false);
        await HostCommand.NodeAsync("addr", "add", $"{ClusterLayout.PodGateway}/32", "dev", link).ConfigureAwait(false);
        await HostCommand.NodeAsync("link", "set", link, "up").ConfigureAwait(false);
        await HostCommand.NodeAsync("route", "add", $"{address}/32", "dev", link).ConfigureAwait(false);
        await HostCommand.RunAsync("ip", ["-n", netns, "link", "set", "lo", "up"]).ConfigureAwait(false);
        await HostCommand.RunAsync("ip", ["-n", netns, "addr", "add", $"{address}/32", "dev", "eth0"]).ConfigureAwait(false);
        await HostCommand.RunAsync("ip", ["-n", netns, "link", "set", "eth0", "up"]).ConfigureAwait(false);
        await HostCommand.RunAsync("ip", ["-n", netns, "route", "add", ClusterLayout.PodGateway.ToString(), "dev", "eth0", "scope", "link"]).ConfigureAwait(false);
        await HostCommand.RunAsync("ip", ["-n", netns, "route", "add", "default", "via", ClusterLayout.PodGateway.ToString(), "dev", "eth0"]).ConfigureAwait(false);
        await HostCommand.InNamespaceAsync(netns, "sysctl", "-q", "-w", "net.ipv4.tcp_syn_retries=2").ConfigureAwait(false);
    }

    /// <summary>Stops every process left in the pod's namespace and removes the namespace, its link and its files.</summary>
    public static async Task RemovePodAsync(string ns, string pod) => await RemoveNamespaceAsync(ClusterLayout.PodNamespace(ns, pod)).ConfigureAwait(false);

    /// <summary>
    /// Removes everything a cluster made, running or crashed: every <c>mgk-</c> network namespace (after killing the
    /// processes in it; their links go with them) and the files under <c>/etc/netns</c>. The node namespace goes last.
    /// </summary>
    /// <param name="leftOver">Whether what is removed was left by an earlier cluster (said so in the report).</param>
    public static async Task RemoveAllAsync(Action<string> report, bool leftOver = false)
    {
        var names = await ListAsync().ConfigureAwait(false);
        var removed = 0;
        foreach (var name in names.OrderBy(n => n == ClusterLayout.NodeNamespace ? 1 : 0).ThenBy(n => n, StringComparer.Ordinal))
        {
            await RemoveNamespaceAsync(name).ConfigureAwait(false);
            removed++;
        }

        if (Directory.Exists(ClusterLayout.EtcNetns))
        {
            foreach (var leftover in Directory.GetDirectories(ClusterLayout.EtcNetns, ClusterLayout.NamespacePrefix + "*"))
            {
                Directory.Delete(leftover, recursive: true);
            }
        }

        if (removed > 0)
        {
            report(string.Create(CultureInfo.InvariantCulture, $"removed {removed} network namespaces{(leftOver ? " left by an earlier cluster" : "")}"));
        }
    }

    /// <summary>The cluster's network namespaces that exist now.</summary>
    public static async Task<IReadOnlyList<string>> ListAsync()
    {
        var (_, output, _) = await HostCommand.TryRunAsync("ip", ["netns", "list"]).ConfigureAwait(false);
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(line => line.Split(' ')[0])
            .Where(name => name.StartsWith(ClusterLayout.NamespacePrefix, StringComparison.Ordinal))
            .ToList();
    }

    private static async Task RemoveNamespaceAsync(string netns)
    {
        var (code, pids, _) = await HostCommand.TryRunAsync("ip", ["netns", "pids", netns]).ConfigureAwait(false);
        if (code == 0)
        {
            foreach (var pid in pids.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                await HostCommand.TryRunAsync("kill", ["-KILL", pid]).ConfigureAwait(false);
            }

            await HostCommand.TryRunAsync("ip", ["netns", "del", netns]).ConfigureAwait(false);
        }

        var etc = Path.Combine(ClusterLayout.EtcNetns, netns);
        if (Directory.Exists(etc))
        {
            Directory.Delete(etc, recursive: true);
        }
    }
}

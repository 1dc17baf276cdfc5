using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using k8s.Models;
using Meshgate.Core.Resources;

namespace Meshgate.LocalCluster;

/// <summary>
/// Keeps the node in step with the store, as kube-proxy, the CNI's policy agent and kube-dns's watcher do: Service
/// ClusterIPs (NAT to the endpoints) and NetworkPolicies as the node's nftables table (<see cref="ClusterRules"/>),
/// reloaded in one transaction when they change; and the names kube-dns answers (every Service, every site) as a hosts
/// file dnsmasq re-reads on its own.
/// </summary>
internal sealed class NodeRules(string dnsDirectory, IReadOnlyList<(string Host, IPAddress Address)> sites, Action<string> report)
{
    private string _appliedRules = "";
    private string _writtenHosts = "";

    public string DnsDirectory { get; } = dnsDirectory;

    public async Task ReconcileAsync(ResourceSet set)
    {
        var ready = new HashSet<string>(StringComparer.Ordinal);
        var pods = RunningPods(set, ready);
        var services = Services(set, pods.Where(p => ready.Contains(p.Name + "." + p.Namespace)).ToList());
        var hosts = Hosts(services);
        if (hosts != _writtenHosts)
        {
            Directory.CreateDirectory(DnsDirectory);
            var staging = Path.Combine(Path.GetDirectoryName(DnsDirectory)!, "hosts.next");
            await File.WriteAllTextAsync(staging, hosts).ConfigureAwait(false);
            File.Move(staging, Path.Combine(DnsDirectory, "hosts"), overwrite: true); // dnsmasq --hostsdir sees the new file
            _writtenHosts = hosts;
        }

        var input = new ClusterRuleInput(
            pods,
            [.. set.List(ResourceTypes.Namespace).Select(n => new ClusterNamespace(n.Name, n.Labels))],
            [.. set.List(ResourceTypes.NetworkPolicy).Select(Policy).OfType<V1NetworkPolicy>()],
            services,
            ClusterLayout.PodCidr,
            ClusterLayout.ServiceCidr,
            null);
        var rules = ClusterRules.Render(input);
        if (rules != _appliedRules)
        {
            try
            {
                await HostCommand.NftAsync(ClusterLayout.NodeNamespace, rules).ConfigureAwait(false);
                _appliedRules = rules;
            }
            catch (ClusterException e)
            {
                report("node rules not applied: " + e.Message);
            }
        }
    }

    private static V1NetworkPolicy? Policy(Resource resource)
    {
        V1NetworkPolicy? policy;
        try
        {
            policy = resource.As<V1NetworkPolicy>();
        }
        catch (System.Text.Json.JsonException)
        {
            return null; // validated when applied; an object the model cannot read selects nothing
        }

        if (policy is not null)
        {
            policy.Metadata ??= new V1ObjectMeta();
            policy.Metadata.NamespaceProperty = resource.Namespace;
            policy.Metadata.Name = resource.Name;
        }

        return policy;
    }

    /// <summary>Every pod with an address (policies apply to all of them), and which are Ready (only those are Service endpoints, as in Kubernetes).</summary>
    private static List<ClusterPod> RunningPods(ResourceSet set, HashSet<string> ready)
    {
        var pods = new List<ClusterPod>();
        foreach (var pod in set.List(ResourceTypes.Pod))
        {
            if (pod.Json["status"]?["podIP"]?.GetValue<string>() is not { } ip || !IPAddress.TryParse(ip, out var address) || !ClusterLayout.PodCidr.Contains(address))
            {
                continue;
            }

            var ports = new List<ContainerPort>();
            foreach (var container in pod.Json["spec"]?["containers"] as JsonArray ?? [])
            {
                foreach (var port in container?["ports"] as JsonArray ?? [])
                {
                    if (port?["containerPort"]?.GetValue<int>() is { } number)
                    {
                        ports.Add(new ContainerPort(port["name"]?.GetValue<string>(), number, port["protocol"]?.GetValue<string>() ?? "TCP"));
                    }
                }
            }

            pods.Add(new ClusterPod(pod.Namespace, pod.Name, address, pod.Labels, ports));
            if ((pod.Json["status"]?["conditions"] as JsonArray ?? []).Any(c => c?["type"]?.GetValue<string>() == "Ready" && c["status"]?.GetValue<string>() == "True"))
            {
                ready.Add(pod.Name + "." + pod.Namespace);
            }
        }

        return pods;
    }

    private static List<ClusterService> Services(ResourceSet set, List<ClusterPod> pods)
    {
        var services = new List<ClusterService>();
        var taken = new HashSet<IPAddress>();
        foreach (var service in set.List(ResourceTypes.Service).OrderBy(s => s.Json["spec"]?["clusterIP"] is null ? 1 : 0))
        {
            if (ClusterIp(service, taken) is not { } clusterIp)
            {
                continue;
            }

            var selector = service.Json["spec"]?["selector"] as JsonObject;
            var selected = selector is null || selector.Count == 0
                ? []
                : pods.Where(p => p.Namespace == service.Namespace && selector.All(s => p.Labels.TryGetValue(s.Key, out var v) && v == s.Value?.GetValue<string>())).ToList();
            var ports = new List<ServicePort>();
            foreach (var port in service.Json["spec"]?["ports"] as JsonArray ?? [])
            {
                if (port?["port"]?.GetValue<int>() is not { } number)
                {
                    continue;
                }

                var protocol = port["protocol"]?.GetValue<string>() ?? "TCP";
                var target = port["targetPort"];
                var endpoints = new List<IPEndPoint>();
                foreach (var pod in selected)
                {
                    int? targetPort = target switch
                    {
                        null => number,
                        JsonValue v when v.TryGetValue<int>(out var n) => n,
                        JsonValue v when v.TryGetValue<string>(out var s) && int.TryParse(s, out var n) => n,
                        JsonValue v when v.TryGetValue<string>(out var name) => pod.Ports.FirstOrDefault(p => p.Name == name)?.Port,
                        _ => null,
                    };
                    if (targetPort is { } t)
                    {
                        endpoints.Add(new IPEndPoint(pod.Address, t));
                    }
                }

                ports.Add(new ServicePort(protocol, number, endpoints));
            }

            services.Add(new ClusterService(service.Namespace, service.Name, clusterIp, ports));
        }

        return services;
    }

    /// <summary>
    /// The Service's ClusterIP: its <c>spec.clusterIP</c> when it asks for one in the range (kube-dns's 10.96.0.10), else
    /// one derived from its name, so it stays the same across restarts; none for headless Services.
    /// </summary>
    private static IPAddress? ClusterIp(Resource service, HashSet<IPAddress> taken)
    {
        var asked = service.Json["spec"]?["clusterIP"]?.GetValue<string>();
        if (asked is "None")
        {
            return null;
        }

        if (asked is not null && IPAddress.TryParse(asked, out var fixedAddress) && ClusterLayout.ServiceCidr.Contains(fixedAddress) && taken.Add(fixedAddress))
        {
            return fixedAddress;
        }

        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(service.Namespace + "/" + service.Name));
        var start = ((hash[0] << 8) | hash[1]) % (254 * 255);
        for (var i = 0; i < 254 * 255; i++)
        {
            var n = (start + i) % (254 * 255);
            var address = new IPAddress([10, 96, (byte)(1 + (n / 255)), (byte)(n % 255)]);
            if (address.GetAddressBytes()[3] != 0 && taken.Add(address))
            {
                return address;
            }
        }

        return null;
    }

    private string Hosts(List<ClusterService> services)
    {
        var text = new StringBuilder();
        foreach (var service in services.OrderBy(s => s.Namespace, StringComparer.Ordinal).ThenBy(s => s.Name, StringComparer.Ordinal))
        {
            text.Append(service.ClusterIp).Append(' ').Append(service.Name).Append('.').Append(service.Namespace).Append(".svc.").Append(ClusterLayout.Domain).Append('\n');
        }

        foreach (var (host, address) in sites)
        {
            text.Append(address).Append(' ').Append(host).Append('\n');
        }

        return text.ToString();
    }
}

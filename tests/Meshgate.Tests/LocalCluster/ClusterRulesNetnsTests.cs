using System.Diagnostics;
using System.Globalization;
using System.Net;
using Meshgate.LocalCluster;
using Meshgate.Tests.Capture;
using Meshgate.Tests.EndToEnd;
using Xunit;

namespace Meshgate.Tests.LocalCluster;

/// <summary>
/// The rendered rules for real, in a node of network namespaces built by the test: a "node" namespace that forwards
/// between pod namespaces (Calico style: a /32 per pod, the pod's default route via 169.254.1.1 answered by proxy ARP
/// on the node's veth) and an "internet" namespace. nginx and dnsmasq serve in the pods, curl connects from them, and
/// what the rules allow connects while what they block times out. Addresses are in 10.23x with no route off the
/// machine; namespaces (and with them the veths and the rules) and processes are removed in finally blocks.
/// </summary>
public sealed class ClusterRulesNetnsTests
{
    [RootFact]
    public async Task Rules_InNodeNamespace_ServicesAndNetworkPoliciesEnforced()
    {
        var id = Convert.ToHexString(BitConverter.GetBytes(Random.Shared.Next()))[..6].ToLowerInvariant();
        var net = $"10.{Random.Shared.Next(230, 240)}.{Random.Shared.Next(0, 250)}";
        var link = $"10.{net.Split('.')[1]}.{int.Parse(net.Split('.')[2], CultureInfo.InvariantCulture) + 1}";
        var svc = $"10.{net.Split('.')[1]}.{int.Parse(net.Split('.')[2], CultureInfo.InvariantCulture) + 2}";
        var node = $"mgnp{id}n";
        var internet = $"mgnp{id}i";
        var client = ClusterRulesTests.Pod("default", "client", $"{net}.2", "app=client");
        var web = ClusterRulesTests.Pod("default", "web", $"{net}.3", "app=web", new ContainerPort("http", 80, "TCP"), new ContainerPort("alt", 8080, "TCP"));
        var db = ClusterRulesTests.Pod("default", "db", $"{net}.4", "app=db", new ContainerPort("http", 80, "TCP"));
        var dns = ClusterRulesTests.Pod("kube-system", "coredns", $"{net}.5", "k8s-app=kube-dns", new ContainerPort("dns", 53, "UDP"));
        ClusterPod[] pods = [client, web, db, dns];
        string Ns(ClusterPod pod) => $"mgnp{id}{(char)('a' + Array.IndexOf(pods, pod))}";
        var services = new ClusterService[]
        {
            new("kube-system", "kube-dns", IPAddress.Parse($"{svc}.10"), [new ServicePort("UDP", 53, [new IPEndPoint(dns.Address, 53)])]),
            new("default", "web", IPAddress.Parse($"{svc}.20"), [new ServicePort("TCP", 80, [new IPEndPoint(web.Address, 80)])]),
            new("default", "both", IPAddress.Parse($"{svc}.30"), [new ServicePort("TCP", 80, [new IPEndPoint(web.Address, 80), new IPEndPoint(db.Address, 80)])]),
            new("default", "empty", IPAddress.Parse($"{svc}.40"), [new ServicePort("TCP", 80, [])]),
        };
        // The internet answers on .2 and .4; .6 plays the host (kubelet) on mg-host0.
        ClusterRuleInput Input(string policies) => new(
            pods, [new("default", new Dictionary<string, string>()), new("kube-system", new Dictionary<string, string>())],
            ClusterRulesTests.Policies(policies), services, IPNetwork.Parse($"{net}.0/24"), IPNetwork.Parse($"{svc}.0/24"), IPAddress.Parse($"{link}.6"));

        var dir = Directory.CreateTempSubdirectory("meshgate-cluster-").FullName;
        var namespaces = new List<string>();
        var processes = new List<ChildProcess>();
        var resolvConf = $"/etc/netns/{Ns(client)}";
        var netnsEtcExisted = Directory.Exists("/etc/netns");
        try
        {
            // The node, and the internet behind it (its default route, which proxy ARP for 169.254.1.1 needs).
            await Run("ip", "netns", "add", node);
            namespaces.Add(node);
            await Run("ip", "netns", "exec", node, "sysctl", "-qw", "net.ipv4.ip_forward=1");
            await Run("ip", "netns", "add", internet);
            namespaces.Add(internet);
            await Run("ip", "link", "add", internet, "netns", node, "type", "veth", "peer", "name", "eth0", "netns", internet);
            await Run("ip", "-n", node, "addr", "add", $"{link}.1/29", "dev", internet);
            await Run("ip", "-n", node, "link", "set", internet, "up");
            await Run("ip", "-n", node, "route", "add", "default", "via", $"{link}.2");
            foreach (var address in new[] { 2, 4, 6 })
            {
                await Run("ip", "-n", internet, "addr", "add", $"{link}.{address}/29", "dev", "eth0");
            }

            await Run("ip", "-n", internet, "link", "set", "eth0", "up");
            await Run("ip", "-n", internet, "link", "set", "lo", "up");
            await Run("ip", "-n", internet, "route", "add", $"{net}.0/24", "via", $"{link}.1");

            foreach (var pod in pods)
            {
                var ns = Ns(pod);
                await Run("ip", "netns", "add", ns);
                namespaces.Add(ns);
                await Run("ip", "link", "add", ns, "netns", node, "type", "veth", "peer", "name", "eth0", "netns", ns);
                await Run("ip", "-n", ns, "link", "set", "lo", "up");
                await Run("ip", "-n", ns, "addr", "add", $"{pod.Address}/32", "dev", "eth0");
                await Run("ip", "-n", ns, "link", "set", "eth0", "up");
                await Run("ip", "-n", ns, "route", "add", "169.254.1.1", "dev", "eth0", "scope", "link");
                await Run("ip", "-n", ns, "route", "add", "default", "via", "169.254.1.1", "dev", "eth0");
                await Run("ip", "netns", "exec", node, "sysctl", "-qw", $"net.ipv4.conf.{ns}.proxy_arp=1");
                await Run("ip", "-n", node, "link", "set", ns, "up");
                await Run("ip", "-n", node, "route", "add", $"{pod.Address}/32", "dev", ns);
            }

            // The client resolves through the kube-dns ClusterIP (ip netns exec mounts this over /etc/resolv.conf).
            Directory.CreateDirectory(resolvConf);
            await File.WriteAllTextAsync(Path.Combine(resolvConf, "resolv.conf"), $"nameserver {svc}.10\noptions timeout:1 attempts:1\n");

            await ApplyAsync(node, ClusterRules.Render(Input("")));
            processes.Add(StartNginx(Ns(web), Path.Combine(dir, "web"), $"listen {web.Address}:80; listen {web.Address}:8080;", "web"));
            processes.Add(StartNginx(Ns(db), Path.Combine(dir, "db"), $"listen {db.Address}:80;", "db"));
            processes.Add(StartNginx(internet, Path.Combine(dir, "internet"), "listen 80;", "internet"));
            processes.Add(ChildProcess.Start(ExternalTools.Require("ip"), "netns", "exec", Ns(dns), ExternalTools.Require("dnsmasq"),
                "--no-daemon", "--no-resolv", "--no-hosts", $"--listen-address={dns.Address}", "--bind-interfaces", "--port=53",
                $"--address=/web.cluster.test/{svc}.20", "--user=root", $"--pid-file={Path.Combine(dir, "dnsmasq.pid")}"));

            // No policy: everything connects. Waiting for each server goes through the node, DNS through its ClusterIP.
            await WaitConnectsAsync(Ns(client), $"http://{web.Address}/", "web", processes);
            await WaitConnectsAsync(Ns(client), $"http://{db.Address}/", "db", processes);
            await WaitConnectsAsync(Ns(client), $"http://{link}.2/", "internet", processes);
            await WaitConnectsAsync(Ns(client), "http://web.cluster.test/", "web", processes);
            await AssertConnectsAsync(Ns(db), $"http://{web.Address}:8080/", "web");
            await AssertConnectsAsync(Ns(client), $"http://{svc}.20/", "web");
            await AssertConnectsAsync(Ns(web), $"http://{svc}.20/", "web"); // to itself through its ClusterIP: hairpin
            await AssertBothEndpointsAsync(Ns(client), $"http://{svc}.30/");
            Assert.Equal(7, (await CurlAsync(Ns(client), $"http://{svc}.40/")).Code); // no endpoints: refused at once
            Assert.Equal(7, (await CurlAsync(Ns(client), $"http://{svc}.20:81/")).Code); // no such service port: refused

            // Default deny in "default"; the client may resolve names (UDP 53 to kube-system), reach web's "http" port
            // and the internet but .2; web takes connections from the client on port 80.
            const string policies = """
                apiVersion: networking.k8s.io/v1
                kind: NetworkPolicy
                metadata: {name: default-deny, namespace: default}
                spec:
                  podSelector: {}
                  policyTypes: [Ingress, Egress]
                ---
                apiVersion: networking.k8s.io/v1
                kind: NetworkPolicy
                metadata: {name: client-egress, namespace: default}
                spec:
                  podSelector: {matchLabels: {app: client}}
                  egress:
                  - to: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}}]
                    ports: [{protocol: UDP, port: 53}]
                  - to: [{podSelector: {matchLabels: {app: web}}}]
                    ports: [{port: http}]
                  - to: [{ipBlock: {cidr: LINK.0/29, except: [LINK.2/32]}}]
                ---
                apiVersion: networking.k8s.io/v1
                kind: NetworkPolicy
                metadata: {name: web-from-client, namespace: default}
                spec:
                  podSelector: {matchLabels: {app: web}}
                  ingress:
                  - from: [{podSelector: {matchLabels: {app: client}}}]
                    ports: [{port: 80}, {port: 8080}]
                """;
            await ApplyAsync(node, ClusterRules.Render(Input(policies.Replace("LINK", link, StringComparison.Ordinal))));

            await AssertConnectsAsync(Ns(client), $"http://{web.Address}/", "web"); // web answers though its own egress is denied: replies pass
            await AssertConnectsAsync(Ns(client), "http://web.cluster.test/", "web"); // DNS and HTTP through ClusterIPs, checked after DNAT
            await AssertConnectsAsync(Ns(client), $"http://{link}.4/", "internet");
            await AssertConnectsAsync(internet, $"http://{db.Address}/", "db", source: $"{link}.6"); // the host (kubelet) always connects
            await AssertTimesOutAsync(Ns(client), $"http://{web.Address}:8080/"); // web's ingress allows 8080, the client's egress only "http"
            await AssertTimesOutAsync(Ns(client), $"http://{db.Address}/");
            await AssertTimesOutAsync(Ns(client), $"http://{link}.2/"); // the ipBlock's exception
            await AssertTimesOutAsync(Ns(db), $"http://{svc}.20/"); // db's egress is denied, ClusterIP or not
            await AssertTimesOutAsync(internet, $"http://{web.Address}/"); // web's ingress: the client only
            await AssertConnectsAsync(Ns(web), $"http://{svc}.20/", "web"); // a pod cannot block access to itself

            // A policy change takes effect: the client may now reach db, and db take it.
            await ApplyAsync(node, ClusterRules.Render(Input(policies.Replace("LINK", link, StringComparison.Ordinal) + """

                ---
                apiVersion: networking.k8s.io/v1
                kind: NetworkPolicy
                metadata: {name: client-db, namespace: default}
                spec:
                  podSelector: {}
                  ingress: [{from: [{podSelector: {matchLabels: {app: client}}}]}]
                  egress: [{to: [{podSelector: {matchLabels: {app: db}}}]}]
                """)));
            await AssertConnectsAsync(Ns(client), $"http://{db.Address}/", "db");
            await AssertTimesOutAsync(Ns(db), $"http://{web.Address}/");
        }
        finally
        {
            foreach (var process in processes)
            {
                await process.DisposeAsync();
            }

            foreach (var ns in namespaces)
            {
                await TryRun("ip", "netns", "del", ns); // its veths and nftables rules go with it
            }

            if (Directory.Exists(resolvConf))
            {
                Directory.Delete(resolvConf, recursive: true);
            }

            try
            {
                if (!netnsEtcExisted && Directory.Exists("/etc/netns") && !Directory.EnumerateFileSystemEntries("/etc/netns").Any())
                {
                    Directory.Delete("/etc/netns");
                }
            }
            catch (IOException)
            {
                // another test put a namespace's files there meanwhile: theirs to remove
            }

            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>Every form the rules use, rendered from one rich input, is taken by nft 1.0.6 and the kernel.</summary>
    [RootFact]
    public async Task Render_EveryForm_TakenByNft()
    {
        var ns = $"mgnp{Convert.ToHexString(BitConverter.GetBytes(Random.Shared.Next()))[..6].ToLowerInvariant()}x";
        ClusterPod[] pods =
        [
            ClusterRulesTests.Pod("default", "a", "10.231.0.2", "app=a", new ContainerPort("http", 8080, "TCP"), new ContainerPort("dns", 53, "UDP")),
            ClusterRulesTests.Pod("default", "b", "10.231.0.3", "app=b", new ContainerPort("http", 80, "TCP"), new ContainerPort("s", 7, "SCTP")),
            ClusterRulesTests.Pod("other", "c", "10.231.0.4", "app=c"),
        ];
        var input = new ClusterRuleInput(
            pods,
            [new("other", new Dictionary<string, string> { ["team"] = "x" })],
            ClusterRulesTests.Policies("""
                apiVersion: networking.k8s.io/v1
                kind: NetworkPolicy
                metadata: {name: everything, namespace: default}
                spec:
                  podSelector: {matchExpressions: [{key: app, operator: In, values: [a, b]}]}
                  policyTypes: [Ingress, Egress]
                  ingress:
                  - from: [{podSelector: {}}, {namespaceSelector: {matchLabels: {team: x}}, podSelector: {}}, {ipBlock: {cidr: 0.0.0.0/0, except: [10.0.0.0/8]}}]
                    ports: [{port: http}, {port: 9000, endPort: 9100}, {protocol: SCTP, port: s}, {protocol: UDP}]
                  egress:
                  - to: [{podSelector: {}}]
                    ports: [{port: http}, {protocol: UDP, port: dns}, {protocol: SCTP, port: 7}]
                  - to: [{ipBlock: {cidr: 192.0.2.0/24, except: [192.0.2.1/32, 192.0.2.128/25]}}]
                    ports: [{port: 443}, {protocol: UDP, port: 5000, endPort: 5010}]
                  - ports: [{port: http}]
                  - {}
                ---
                apiVersion: networking.k8s.io/v1
                kind: NetworkPolicy
                metadata: {name: deny, namespace: other}
                spec:
                  podSelector: {}
                  policyTypes: [Egress]
                """),
            [
                new ClusterService("default", "s", IPAddress.Parse("10.96.0.1"),
                [
                    new ServicePort("TCP", 80, [IPEndPoint.Parse("10.231.0.2:8080"), IPEndPoint.Parse("10.231.0.3:80")]),
                    new ServicePort("UDP", 53, [IPEndPoint.Parse("10.231.0.2:53")]),
                    new ServicePort("SCTP", 7, [IPEndPoint.Parse("10.231.0.3:7")]),
                    new ServicePort("TCP", 81, []),
                ]),
            ],
            IPNetwork.Parse("10.231.0.0/24"),
            IPNetwork.Parse("10.96.0.0/12"),
            IPAddress.Parse("10.231.1.1"));
        var rules = ClusterRules.Render(input);
        try
        {
            await Run("ip", "netns", "add", ns);
            await ApplyAsync(ns, rules);
            var listed = (await Run("ip", "netns", "exec", ns, "nft", "list", "table", "inet", ClusterRules.Table)).Output;
            Assert.Contains("numgen random mod 2 map { 0 : 10.231.0.2 . 8080, 1 : 10.231.0.3 . 80 }", listed, StringComparison.Ordinal);
            Assert.Contains("chain egress_", listed, StringComparison.Ordinal);
            await ApplyAsync(ns, rules); // applying again replaces the table
        }
        finally
        {
            await TryRun("ip", "netns", "del", ns);
        }
    }

    private static ChildProcess StartNginx(string ns, string dir, string listen, string answer)
    {
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "nginx.conf"), $$"""
            user root;
            worker_processes 1;
            error_log {{dir}}/error.log info;
            events { worker_connections 64; }
            http {
                access_log off;
                client_body_temp_path {{dir}}/client_body;
                proxy_temp_path {{dir}}/proxy;
                fastcgi_temp_path {{dir}}/fastcgi;
                uwsgi_temp_path {{dir}}/uwsgi;
                scgi_temp_path {{dir}}/scgi;
                server { {{listen}} location / { return 200 "{{answer}}\n"; } }
            }
            """);
        // ip netns exec execs nginx in place, so the child is nginx's master and disposing it stops the workers too.
        return ChildProcess.Start(ExternalTools.Require("ip"), "netns", "exec", ns, ExternalTools.Require("nginx"),
            "-p", dir + "/", "-c", Path.Combine(dir, "nginx.conf"), "-e", Path.Combine(dir, "error.log"), "-g", $"daemon off; pid {dir}/nginx.pid;");
    }

    private static async Task WaitConnectsAsync(string ns, string url, string answer, List<ChildProcess> servers)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            var (code, output) = await CurlAsync(ns, url);
            if (code == 0 && output == answer + "\n")
            {
                return;
            }

            Assert.True(DateTime.UtcNow < deadline, $"{url} from {ns} did not answer \"{answer}\" in time: {code} {output}\n{string.Join("\n", servers.Select(s => s.Output))}");
            await Task.Delay(50);
        }
    }

    private static async Task AssertConnectsAsync(string ns, string url, string answer, string? source = null)
    {
        var (code, output) = await CurlAsync(ns, url, source);
        Assert.True(code == 0 && output == answer + "\n", $"{url} from {ns}: expected \"{answer}\", got exit {code}: {output}");
    }

    /// <summary>Blocked traffic is dropped, not rejected: the connect times out (curl's exit 28).</summary>
    private static async Task AssertTimesOutAsync(string ns, string url)
    {
        var (code, output) = await CurlAsync(ns, url);
        Assert.True(code == 28, $"{url} from {ns}: expected a connect timeout, got exit {code}: {output}");
    }

    /// <summary>A Service with two endpoints: connections land on both (each at random; 30 tries miss one with p = 2⁻²⁹).</summary>
    private static async Task AssertBothEndpointsAsync(string ns, string url)
    {
        var seen = new HashSet<string>();
        for (var i = 0; i < 30 && seen.Count < 2; i++)
        {
            var (code, output) = await CurlAsync(ns, url);
            Assert.True(code == 0, $"{url} from {ns}: exit {code}: {output}");
            seen.Add(output.Trim());
        }

        Assert.Equal(["db", "web"], seen.Order(StringComparer.Ordinal));
    }

    private static Task<(int Code, string Output)> CurlAsync(string ns, string url, string? source = null)
    {
        string[] args = ["netns", "exec", ns, ExternalTools.Require("curl"), "-sS", "-4", "--connect-timeout", "1", "--max-time", "5"];
        return RunAsync("ip", [.. args, .. source is null ? Array.Empty<string>() : ["--interface", source], url], stdin: null, allowFailure: true);
    }

    private static Task ApplyAsync(string ns, string rules) => RunAsync("ip", ["netns", "exec", ns, "nft", "-f", "-"], rules, allowFailure: false);

    private static Task<(int Code, string Output)> Run(string executable, params string[] args) => RunAsync(executable, args, stdin: null, allowFailure: false);

    /// <summary>For clean-up, whose failure is harmless.</summary>
    private static Task<(int Code, string Output)> TryRun(string executable, params string[] args) => RunAsync(executable, args, stdin: null, allowFailure: true);

    private static async Task<(int Code, string Output)> RunAsync(string executable, string[] args, string? stdin, bool allowFailure)
    {
        var info = new ProcessStartInfo(ExternalTools.Require(executable)) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = stdin is not null };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        if (stdin is not null)
        {
            await process.StandardInput.WriteAsync(stdin);
            process.StandardInput.Close();
        }

        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        var result = (process.ExitCode, (await output).Replace("\r", "", StringComparison.Ordinal) + await error);
        Assert.True(allowFailure || process.ExitCode == 0, $"{executable} {string.Join(' ', args)} exited with {process.ExitCode.ToString(CultureInfo.InvariantCulture)}: {result.Item2}\n{stdin}");
        return result;
    }
}

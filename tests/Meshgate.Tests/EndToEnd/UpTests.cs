using Xunit;

namespace Meshgate.Tests.EndToEnd;

/// <summary><c>meshgate up</c> and the CLI as real processes: the seed's configuration survives a restart.</summary>
public sealed class UpTests : IDisposable
{
    private readonly string _data = Directory.CreateTempSubdirectory("meshgate-up-").FullName;
    private readonly int _port = MeshgateProcess.FreePort();

    public void Dispose() => Directory.Delete(_data, recursive: true);

    private string Kubeconfig => Path.Combine(_data, "kubeconfig");

    private MeshgateProcess StartUp() => MeshgateProcess.Start("up", "--data", _data, "--listen", $"127.0.0.1:{_port}", "--discovery-port", "0", "--proxy-address", "127.0.0.73");

    private async Task<string> CliAsync(params string[] args)
    {
        var (code, output) = await MeshgateProcess.RunAsync("", [.. args, "--kubeconfig", Kubeconfig]);
        Assert.True(code == 0, $"meshgate {string.Join(' ', args)} exited {code}:\n{output}");
        return output;
    }

    [Fact]
    public async Task Up_SeedAppliedThenRestarted_KeepsEverythingAndStopsCleanlyOnSigterm()
    {
        var seed = Directory.GetFiles(Path.Combine(TestPaths.TestData, "Seed"), "*.yaml").Order(StringComparer.Ordinal).ToList();
        var up = StartUp();
        await using (up)
        {
            await up.WaitForOutputAsync("control plane ready", TimeSpan.FromSeconds(60));
            Assert.Contains($"resource API on https://127.0.0.1:{_port}/ (export KUBECONFIG={Kubeconfig})", up.Output);
            await CliAsync("create", "namespace", "test-egress");
            foreach (var file in seed.Where(f => !f.Contains("netpol", StringComparison.Ordinal)))
            {
                await CliAsync("apply", "-f", file);
            }

            foreach (var file in seed.Where(f => f.Contains("netpol", StringComparison.Ordinal)))
            {
                await CliAsync("apply", "-n", "test-egress", "-f", file);
            }

            var code = await up.TerminateAsync(TimeSpan.FromSeconds(30));
            Assert.True(code == 0, $"up exited {code}:\n{up.Output}");
            Assert.Contains("meshgate up: stopped", up.Output);
        }

        var again = StartUp();
        await using (again)
        {
            await again.WaitForOutputAsync("control plane ready", TimeSpan.FromSeconds(60));
            var names = await CliAsync("get", "se,gw,vs,dr,gtw,httproute,tlsroute", "-o", "name");
            Assert.Equal("""
                serviceentry.networking.istio.io/cnn
                gateway.networking.istio.io/istio-egressgateway
                virtualservice.networking.istio.io/direct-cnn-through-egress-gateway
                destinationrule.networking.istio.io/egressgateway-for-cnn
                gateway.gateway.networking.k8s.io/cnn-egress-gateway
                httproute.gateway.networking.k8s.io/direct-cnn-to-egress-gateway
                httproute.gateway.networking.k8s.io/forward-cnn-from-egress-gateway
                tlsroute.gateway.networking.k8s.io/direct-cnn-to-egress-gateway
                tlsroute.gateway.networking.k8s.io/forward-cnn-from-egress-gateway

                """.Replace("\r", ""), names);
            Assert.Equal("networkpolicy.networking.k8s.io/allow-egress-to-istio-system-and-kube-dns\n", await CliAsync("get", "netpol", "-n", "test-egress", "-o", "name"));
            var reapplied = await CliAsync("apply", "-f", Path.Combine(TestPaths.TestData, "Seed", "sleep.yaml"));
            Assert.Equal("serviceaccount/sleep unchanged\nservice/sleep unchanged\ndeployment.apps/sleep unchanged\n", reapplied);
            var exit = await again.TerminateAsync(TimeSpan.FromSeconds(30));
            Assert.True(exit == 0, $"up exited {exit}:\n{again.Output}");
        }
    }

    [Fact]
    public async Task Up_KilledWithoutWarning_ItsProxiesStopOnTheirOwn()
    {
        var up = MeshgateProcess.Start("up", "--data", _data, "--listen", $"127.0.0.1:{_port}", "--discovery-port", "0", "--proxy-address", "127.0.0.76");
        await using (up)
        {
            await up.WaitForOutputAsync("meshgate up: ready", TimeSpan.FromSeconds(90));
            var children = ChildrenOf(up.ProcessId);
            Assert.Equal(2, children.Count); // the egress gateway and the sidecar

            await up.KillAsync();

            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
            while (children.Any(pid => Directory.Exists($"/proc/{pid}")))
            {
                Assert.True(DateTime.UtcNow < deadline, $"proxies {string.Join(", ", children.Where(pid => Directory.Exists($"/proc/{pid}")))} outlived their supervisor");
                await Task.Delay(100);
            }
        }
    }

    /// <summary>Processes whose parent is <paramref name="parent"/> (field 4 of /proc/PID/stat).</summary>
    private static List<int> ChildrenOf(int parent)
    {
        var children = new List<int>();
        foreach (var dir in Directory.GetDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid))
            {
                continue;
            }

            try
            {
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                if (int.Parse(fields[1], System.Globalization.CultureInfo.InvariantCulture) == parent)
                {
                    children.Add(pid);
                }
            }
            catch (IOException)
            {
                // gone meanwhile
            }
        }

        return children;
    }

    [Fact]
    public async Task Up_PortAlreadyTaken_ExitsNonZeroWithReason()
    {
        using var blocker = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, _port);
        blocker.Start();

        var (code, output) = await MeshgateProcess.RunAsync("", "up", "--data", _data, "--listen", $"127.0.0.1:{_port}", "--discovery-port", "0");

        Assert.Equal(1, code);
        Assert.Contains($"error: cannot listen on 127.0.0.1:{_port}", output);
    }
}

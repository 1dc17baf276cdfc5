using System.CommandLine;
using System.Diagnostics;
using System.Net;
using System.Reflection;
using Meshgate.Demo;
using Meshgate.Install;
using Meshgate.Proxy.Upstream;

namespace Meshgate.Commands;

/// <summary>
/// <c>meshgate demo</c>: the Egress Gateways task's HTTP and HTTPS sections (Istio APIs) end to end on this machine,
/// with a local stand-in for <c>edition.cnn.com</c> and a resolver override pointing the name at it. Each step prints
/// what it runs and what came back: the apply results, curl's response headers, the gateway's access log.
/// </summary>
public static class DemoCommand
{
    private const string Host = "edition.cnn.com";
    private static readonly TimeSpan StepTimeout = TimeSpan.FromSeconds(30);

    public static Command Create(CliContext cli)
    {
        var address = new Option<string>("--origin-address") { Description = $"Loopback address the stand-in for {Host} listens on (ports 80 and 443)", DefaultValueFactory = _ => "127.0.0.77" };
        var keep = new Option<bool>("--keep") { Description = "Keep the demo's data directory (store, proxy logs) instead of deleting it" };
        var proxyAddress = UpCommand.ProxyAddressOption();
        var loopback = new Option<bool>("--loopback")
        {
            Description = "The loopback walkthrough (HTTP and HTTPS sections through explicit-proxy curl), even where the local cluster could run the page as written",
        };
        var command = new Command("demo", "The Egress Gateways page end to end on this machine: every command as written in a local cluster (root), else its HTTP and HTTPS sections on loopback") { address, proxyAddress, keep, loopback };
        command.SetAction(async (parse, cancellationToken) =>
        {
            if (!parse.GetValue(loopback))
            {
                if (LocalCluster.ClusterMesh.Preflight() is { } why)
                {
                    await cli.Out.WriteLineAsync($"note: {why}; showing the loopback walkthrough instead");
                }
                else
                {
                    void Say(string line)
                    {
                        lock (cli.Out)
                        {
                            cli.Out.WriteLine(line);
                            cli.Out.Flush();
                        }
                    }

                    try
                    {
                        return await ClusterDemo.RunAsync(Say, parse.GetValue(keep), cancellationToken);
                    }
                    catch (LocalCluster.ClusterException e)
                    {
                        throw new CliException("error: " + e.Message);
                    }
                }
            }

            var text = parse.GetValue(address)!;
            if (!IPAddress.TryParse(text, out var ip) || !IPAddress.IsLoopback(ip))
            {
                throw new CliException($"error: --origin-address \"{text}\" is not a loopback address such as 127.0.0.77");
            }

            return await RunAsync(cli, ip, UpCommand.ParseProxyAddress(parse.GetValue(proxyAddress)!), parse.GetValue(keep), cancellationToken);
        });
        return command;
    }

    private static async Task<int> RunAsync(CliContext cli, IPAddress address, string proxyAddress, bool keep, CancellationToken cancellationToken)
    {
        var curl = FindOnPath("curl") ?? throw new CliException("error: meshgate demo sends its requests with curl, which is not installed (apt-get install curl)");
        var directory = Directory.CreateTempSubdirectory("meshgate-demo-").FullName;
        var output = cli.Out;
        void Say(string line)
        {
            lock (output)
            {
                output.WriteLine(line);
                output.Flush();
            }
        }

        try
        {
            Say($"Meshgate demo: the Egress Gateways task (Istio APIs) on this machine; working directory {directory}");
            using var certificates = DemoCertificates.Create(Host);
            var caFile = certificates.WriteCaPem(directory);
            var hostsFile = Path.Combine(directory, "hosts");
            await File.WriteAllTextAsync(hostsFile, $"{address} {Host}\n", cancellationToken);

            StandInOrigin origin;
            try
            {
                origin = await StandInOrigin.StartAsync(address, Host, certificates, cancellationToken);
            }
            catch (IOException e)
            {
                throw new CliException($"error: the stand-in for {Host} cannot listen on {address}:80 and :443 ({e.InnerException?.Message ?? e.Message}); ports below 1024 need root or CAP_NET_BIND_SERVICE, and another program may hold them");
            }

            await using (origin)
            {
                Say($"- a stand-in for {Host} listens on {address}:80 (answers 301 to https) and {address}:443 (200, certificate from a throwaway CA: {caFile})");
                Say($"- the proxies resolve {Host} to {address} ({HostsFile.OverrideVariable}={hostsFile}), a loopback address the egress guard refuses by default: the demo allows it with --set values.meshgate.egress.allowedCidrs={address}");
                using var loggerFactory = Logging.CreateFactory(Microsoft.Extensions.Logging.LogLevel.Warning);
                var options = new LocalMeshOptions
                {
                    DataDirectory = Path.Combine(directory, "data"),
                    ApiEndpoint = new IPEndPoint(IPAddress.Loopback, 0),
                    DiscoveryPort = 0,
                    // The stand-in is on loopback, which the egress guard refuses unless allowed (docs/egress-safety.md).
                    Settings = InstallSettings.Parse("demo", [$"values.meshgate.egress.allowedCidrs={address}"]),
                    ProxyEnvironment = new Dictionary<string, string> { [HostsFile.OverrideVariable] = hostsFile },
                    WorkloadAddress = proxyAddress,
                };
                LocalMesh mesh;
                try
                {
                    mesh = await LocalMesh.StartAsync(options, loggerFactory, line => Say("- " + line), cancellationToken);
                }
                catch (IOException e)
                {
                    throw new CliException($"error: cannot start the demo's control plane: {e.Message}");
                }

                await using (mesh)
                {
                    await mesh.WaitReadyAsync(StepTimeout, cancellationToken);
                    var demo = new Walkthrough(mesh, curl, caFile, proxyAddress, Say);
                    await demo.IdentityAsync(cancellationToken);
                    await demo.HttpAsync(cancellationToken);
                    await demo.HttpsAsync(cancellationToken);
                    await demo.GatewayApiHttpAsync(cancellationToken);
                    await demo.GatewayApiHttpsAsync(cancellationToken);
                    Say("");
                    Say("Done: every flow left through an egress gateway, in both tabs, as the task shows. Stopping the proxies and the control plane.");
                }
            }

            return 0;
        }
        finally
        {
            if (keep)
            {
                Say($"kept {directory}");
            }
            else
            {
                TryDelete(directory);
            }
        }
    }

    private sealed class Walkthrough(LocalMesh mesh, string curl, string caFile, string proxyAddress, Action<string> say)
    {
        private readonly string _kubeconfig = mesh.Server.KubeconfigPath!;

        public async Task HttpAsync(CancellationToken cancellationToken)
        {
            Section("Egress gateway for HTTP traffic");
            await ApplyAsync("Define a ServiceEntry for edition.cnn.com", "http-serviceentry.yaml", cancellationToken);
            await CurlAsync("http://edition.cnn.com/politics", cancellationToken);
            await ApplyAsync("Create an egress Gateway for edition.cnn.com, port 80, and a destination rule for the traffic directed to it", "http-istio-gateway-destinationrule.yaml", cancellationToken);
            await ApplyAsync("Define a VirtualService to direct traffic from the sidecars to the egress gateway and from the egress gateway to the external service", "http-istio-virtualservice.yaml", cancellationToken);
            await CurlAsync("http://edition.cnn.com/politics", cancellationToken);
            await GatewayLogAsync("outbound|80||edition.cnn.com", cancellationToken);
            await CleanupAsync(cancellationToken);
        }

        public async Task HttpsAsync(CancellationToken cancellationToken)
        {
            Section("Egress gateway for HTTPS traffic");
            await ApplyAsync("Define a ServiceEntry for edition.cnn.com, port 443 (TLS)", "https-serviceentry.yaml", cancellationToken);
            await CurlAsync("https://edition.cnn.com/politics", cancellationToken);
            await ApplyAsync("Create an egress Gateway (TLS PASSTHROUGH), a destination rule and a virtual service to route the TLS traffic through it", "https-istio-gateway-destinationrule-virtualservice.yaml", cancellationToken);
            await CurlAsync("https://edition.cnn.com/politics", cancellationToken);
            await GatewayLogAsync("outbound|443||edition.cnn.com", cancellationToken);
            await CleanupAsync(cancellationToken);
        }

        /// <summary>The egress gateway's workload certificate, as the task's "verify the certificate" tip shows it.</summary>
        public async Task IdentityAsync(CancellationToken cancellationToken)
        {
            Section("The egress gateway's identity (secrets default and ROOTCA from the mesh CA)");
            var pod = await PodAsync("istio=egressgateway", "istio-system", cancellationToken);
            await MeshgateAsync(["pc", "secret", "-n", "istio-system", pod], cancellationToken);
        }

        public async Task GatewayApiHttpAsync(CancellationToken cancellationToken)
        {
            Section("Egress gateway for HTTP traffic (Gateway API)");
            await ApplyAsync("Define a ServiceEntry for edition.cnn.com", "http-serviceentry.yaml", cancellationToken);
            await ApplyAsync("Create an egress Gateway of class istio for edition.cnn.com, port 80: the control plane deploys it", "http-gatewayapi-gateway.yaml", cancellationToken);
            await ProgrammedAsync(cancellationToken);
            await ApplyAsync("Route the sidecars' traffic to the gateway, and the gateway's to edition.cnn.com", "http-gatewayapi-httproutes.yaml", cancellationToken);
            await CurlAsync("http://edition.cnn.com/politics", cancellationToken);
            await GatewayLogAsync("outbound|80||edition.cnn.com", cancellationToken, GatewayApiSelector, "default");
            await GatewayApiCleanupAsync("httproute", cancellationToken);
        }

        public async Task GatewayApiHttpsAsync(CancellationToken cancellationToken)
        {
            Section("Egress gateway for HTTPS traffic (Gateway API)");
            await ApplyAsync("Define a ServiceEntry for edition.cnn.com, port 443 (TLS)", "https-serviceentry.yaml", cancellationToken);
            await ApplyAsync("Create an egress Gateway (TLS Passthrough) and TLSRoutes through it", "https-gatewayapi-gateway-tlsroutes.yaml", cancellationToken);
            await ProgrammedAsync(cancellationToken);
            await mesh.WaitSyncedAsync(StepTimeout, cancellationToken);
            await CurlAsync("https://edition.cnn.com/politics", cancellationToken);
            await GatewayLogAsync("outbound|443||edition.cnn.com", cancellationToken, GatewayApiSelector, "default");
            await GatewayApiCleanupAsync("tlsroute", cancellationToken);
        }

        private const string GatewayApiSelector = "gateway.networking.k8s.io/gateway-name=cnn-egress-gateway";

        /// <summary>Waits until the Gateway's deployed proxy runs its configuration, then shows <c>get gtw</c>.</summary>
        private async Task ProgrammedAsync(CancellationToken cancellationToken)
        {
            var deadline = Stopwatch.StartNew();
            while (true)
            {
                using var output = new StringWriter();
                await Cli.RunAsync(["get", "gtw", "cnn-egress-gateway", "--kubeconfig", _kubeconfig], new CliContext(TextReader.Null, output, TextWriter.Null), cancellationToken: cancellationToken);
                if (System.Text.RegularExpressions.Regex.IsMatch(output.ToString(), @"\sTrue\s"))
                {
                    say("");
                    say("$ meshgate get gtw cnn-egress-gateway");
                    Print(output.ToString());
                    await mesh.WaitSyncedAsync(StepTimeout, cancellationToken);
                    return;
                }

                if (deadline.Elapsed > StepTimeout)
                {
                    throw new CliException($"error: Gateway cnn-egress-gateway is not programmed after {StepTimeout.TotalSeconds:0}s:\n{output}");
                }

                await Task.Delay(200, cancellationToken);
            }
        }

        private async Task GatewayApiCleanupAsync(string routeKind, CancellationToken cancellationToken)
        {
            say("");
            say("# Clean up");
            await MeshgateAsync(["delete", "serviceentry", "cnn"], cancellationToken);
            await MeshgateAsync(["delete", "gtw", "cnn-egress-gateway"], cancellationToken);
            await MeshgateAsync(["delete", routeKind, "direct-cnn-to-egress-gateway"], cancellationToken);
            await MeshgateAsync(["delete", routeKind, "forward-cnn-from-egress-gateway"], cancellationToken);
            await mesh.WaitSyncedAsync(StepTimeout, cancellationToken);
        }

        private async Task<string> PodAsync(string selector, string ns, CancellationToken cancellationToken)
        {
            using var output = new StringWriter();
            await Cli.RunAsync(["get", "pod", "-l", selector, "-n", ns, "-o", "jsonpath={.items[0].metadata.name}", "--kubeconfig", _kubeconfig], new CliContext(TextReader.Null, output, TextWriter.Null), cancellationToken: cancellationToken);
            return output.ToString().Trim();
        }

        private void Section(string title)
        {
            say("");
            say("== " + title);
        }

        private async Task ApplyAsync(string title, string step, CancellationToken cancellationToken)
        {
            say("");
            say("# " + title);
            var yaml = ReadStep(step);
            say("$ meshgate apply -f - <<EOF");
            say(yaml.TrimEnd('\n'));
            say("EOF");
            await MeshgateAsync(["apply", "-f", "-"], cancellationToken, stdin: yaml, echo: false);

            await mesh.WaitSyncedAsync(StepTimeout, cancellationToken);
        }

        private async Task CleanupAsync(CancellationToken cancellationToken)
        {
            say("");
            say("# Clean up");
            await MeshgateAsync(["delete", "serviceentry", "cnn"], cancellationToken);
            await MeshgateAsync(["delete", "gateway", "istio-egressgateway"], cancellationToken);
            await MeshgateAsync(["delete", "virtualservice", "direct-cnn-through-egress-gateway"], cancellationToken);
            await MeshgateAsync(["delete", "destinationrule", "egressgateway-for-cnn"], cancellationToken);
            await mesh.WaitSyncedAsync(StepTimeout, cancellationToken);
        }

        private async Task MeshgateAsync(string[] args, CancellationToken cancellationToken, string stdin = "", bool echo = true)
        {
            if (echo)
            {
                say("$ meshgate " + string.Join(' ', args));
            }

            using var output = new StringWriter();
            using var error = new StringWriter();
            var code = await Cli.RunAsync([.. args, "--kubeconfig", _kubeconfig], new CliContext(new StringReader(stdin), output, error), cancellationToken: cancellationToken);
            Print(output.ToString() + error.ToString());
            if (code != 0)
            {
                throw new CliException($"error: the demo step 'meshgate {string.Join(' ', args)}' failed (exit {code})");
            }
        }

        private async Task CurlAsync(string url, CancellationToken cancellationToken)
        {
            say("");
            say($"# Send a request to {url} through the sleep workload's sidecar");
            string[] args = ["-sSL", "-o", "/dev/null", "-D", "-", "--suppress-connect-headers", "-x", $"http://{proxyAddress}:{LocalMesh.SidecarPort}", "--cacert", caFile, "--max-time", "20", url];
            say("$ curl " + string.Join(' ', args));
            var info = new ProcessStartInfo(curl) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var arg in args)
            {
                info.ArgumentList.Add(arg);
            }

            using var process = Process.Start(info)!;
            var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
            var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
            await process.WaitForExitAsync(cancellationToken);
            Print((await stdout).Replace("\r", "", StringComparison.Ordinal) + await stderr);
            if (process.ExitCode != 0)
            {
                throw new CliException($"error: curl {url} through the sidecar failed (exit {process.ExitCode}); the proxies' logs are under the data directory (run with --keep to look)");
            }
        }

        private async Task GatewayLogAsync(string cluster, CancellationToken cancellationToken, string selector = "istio=egressgateway", string ns = "istio-system")
        {
            say("");
            say("# Check the egress gateway's log: the request went through it");
            string[] args = ["logs", "-l", selector, "-c", "istio-proxy", "-n", ns, "--tail", "200"];
            say("$ meshgate " + string.Join(' ', args) + " | tail");
            var deadline = Stopwatch.StartNew();
            while (true)
            {
                using var output = new StringWriter();
                await Cli.RunAsync([.. args, "--kubeconfig", _kubeconfig], new CliContext(TextReader.Null, output, TextWriter.Null), cancellationToken: cancellationToken);
                var lines = output.ToString().Split('\n').Where(l => l.StartsWith('[') && l.Contains(cluster, StringComparison.Ordinal)).ToList();
                if (lines.Count > 0)
                {
                    Print(string.Join('\n', lines.TakeLast(10)) + "\n");
                    return;
                }

                if (deadline.Elapsed > StepTimeout)
                {
                    throw new CliException($"error: the egress gateway logged no request to {cluster} within {StepTimeout.TotalSeconds:0}s");
                }

                await Task.Delay(200, cancellationToken);
            }
        }

        private void Print(string text)
        {
            foreach (var line in text.TrimEnd('\n').Split('\n'))
            {
                say(line);
            }
        }
    }

    private static string ReadStep(string name)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("demo/" + name)
            ?? throw new InvalidOperationException($"the demo step {name} is not built into this program");
        using var reader = new StreamReader(stream);
        var text = reader.ReadToEnd();

        // The files say where they come from in a first comment line; the walkthrough shows the YAML alone.
        return string.Join('\n', text.Split('\n').SkipWhile(l => l.StartsWith('#')));
    }

    private static string? FindOnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin")
            .Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(d => Path.Combine(d, program))
            .FirstOrDefault(File.Exists);

    private static void TryDelete(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}

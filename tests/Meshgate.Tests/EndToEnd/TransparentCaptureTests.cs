using System.Diagnostics;
using System.Globalization;
using System.Net;
using Meshgate.Core.ProxyConfiguration;
using Meshgate.Proxy.Capture;
using Meshgate.Tests.Capture;
using Xunit;

namespace Meshgate.Tests.EndToEnd;

/// <summary>
/// Transparent capture for real: a network namespace made by the test (a "pod") joined by a veth pair to the host side,
/// where nginx plays the external service; <c>meshgate proxy --capture transparent</c> runs inside the namespace,
/// installs its nftables rules, and curl in the namespace, which knows nothing of any proxy, is captured. Addresses are
/// in 10.x with no route out; everything is removed in finally blocks.
/// </summary>
public sealed class TransparentCaptureTests
{
    private const int CapturePort = 15001;

    [RootFact]
    public async Task Curl_InNamespace_CapturedRoutedAndLoggedWithoutLooping()
    {
        var id = Convert.ToHexString(BitConverter.GetBytes(Random.Shared.Next()))[..6].ToLowerInvariant();
        var ns = "mgcap-" + id;
        var hostVeth = "mgh" + id;
        var nsVeth = "mgn" + id;
        var net = $"10.{Random.Shared.Next(200, 250)}.{Random.Shared.Next(1, 250)}";
        var outside = IPAddress.Parse(net + ".1");
        var dir = Directory.CreateTempSubdirectory("meshgate-capture-").FullName;
        ChildProcess? proxy = null;
        NginxServer? nginx = null;
        using var ca = new ThrowawayCa(dir);
        try
        {
            await Run("ip", "netns", "add", ns);
            await Run("ip", "link", "add", hostVeth, "type", "veth", "peer", "name", nsVeth);
            await Run("ip", "link", "set", nsVeth, "netns", ns);
            await Run("ip", "addr", "add", $"{outside}/24", "dev", hostVeth);
            await Run("ip", "link", "set", hostVeth, "up");
            await Run("ip", "-n", ns, "addr", "add", $"{net}.2/24", "dev", nsVeth);
            await Run("ip", "-n", ns, "link", "set", nsVeth, "up");
            await Run("ip", "-n", ns, "link", "set", "lo", "up");

            var (certificate, key) = ca.IssueServer("edition.cnn.com", dir);
            nginx = await NginxServer.StartAsync(dir, $$"""
                    server { listen {{outside}}:8080; location / { return 200 "outside $host $request_uri\n"; } }
                    server { listen {{outside}}:9090; location / { return 200 "excluded\n"; } }
                    server { listen {{outside}}:9091; location / { return 200 "no listener\n"; } }
                    server {
                        listen {{outside}}:8443 ssl;
                        ssl_certificate {{certificate}};
                        ssl_certificate_key {{key}};
                        location / { return 200 "outside tls $ssl_server_name\n"; }
                    }
                """, new IPEndPoint(outside, 8080), new IPEndPoint(outside, 9090), new IPEndPoint(outside, 9091), new IPEndPoint(outside, 8443));

            var config = SidecarSnapshots.Sidecar(
                CapturePort, Cluster.Passthrough, 8080, "nginx.test", $"{outside}:8080", 8443, "edition.cnn.com", $"{outside}:8443",
                AccessLogSettings.Stdout, transparent: true, captureAddress: "0.0.0.0",
                egress: new EgressSettings { AllowedCidrs = [$"{outside}"] }); // the "outside" is 10.x, refused unless allowed
            var path = Path.Combine(dir, "sidecar.json");
            await File.WriteAllTextAsync(path, ProxyConfigLoader.ToJson(config));
            proxy = ChildProcess.Start("ip", "netns", "exec", ns, MeshgateProcess.Executable,
                "proxy", "--role", "sidecar", "--config", path, "--capture", "transparent", "--capture-exclude-ports", "9090", "--admin-port", "0", "--status-port", "0");
            await WaitForAsync(() => proxy.Output.Contains("meshgate proxy: ready", StringComparison.Ordinal), proxy, "the proxy to start");
            Assert.Contains($"redirect to :{CapturePort}", (await Run("ip", "netns", "exec", ns, "nft", "list", "table", "inet", NftablesCapture.Table)).Output, StringComparison.Ordinal);

            // The application's plain request: port 8080 has an HTTP virtual listener; its Host is unknown → allow_any.
            var passthrough = await Run("ip", "netns", "exec", ns, "curl", "--max-time", "20", "-sS", $"http://{outside}:8080/captured");
            Assert.Equal($"outside {outside} /captured\n", passthrough.Output);
            var line = await LogLineAsync(proxy, "/captured");
            Assert.Contains("\"GET /captured HTTP/1.1\" 200 - via_upstream", line, StringComparison.Ordinal);
            Assert.Contains($"\"{outside}:8080\" PassthroughCluster ", line, StringComparison.Ordinal);
            Assert.Contains($" {outside}:8080 {net}.2:", line, StringComparison.Ordinal); // DOWNSTREAM_LOCAL_ADDRESS = the original destination
            Assert.EndsWith(" - allow_any", line, StringComparison.Ordinal);

            // A known host: its own virtual host and cluster.
            var known = await Run("ip", "netns", "exec", ns, "curl", "--max-time", "20", "-sS", "-H", "Host: nginx.test", $"http://{outside}:8080/known");
            Assert.Equal("outside nginx.test /known\n", known.Output);
            Assert.Contains($"\"nginx.test\" \"{outside}:8080\" outbound|8080||nginx.test ", await LogLineAsync(proxy, "/known"), StringComparison.Ordinal);

            // TLS: the 8443 virtual listener peeks the SNI and passes the bytes through to the cluster.
            var tls = await Run("ip", "netns", "exec", ns, "curl", "--max-time", "20", "-sS", "--cacert", ca.CertificatePath,
                "--resolve", $"edition.cnn.com:8443:{outside}", "https://edition.cnn.com:8443/");
            Assert.Equal("outside tls edition.cnn.com\n", tls.Output);
            var tlsLine = await LogLineAsync(proxy, "outbound|8443||edition.cnn.com");
            Assert.Contains("\"- - -\" 0 - - -", tlsLine, StringComparison.Ordinal);
            Assert.EndsWith(" edition.cnn.com -", tlsLine, StringComparison.Ordinal);

            // A port without a virtual listener: the capture listener's default chain relays the bytes to the original destination.
            var relayed = await Run("ip", "netns", "exec", ns, "curl", "--max-time", "20", "-sS", $"http://{outside}:9091/relayed");
            Assert.Equal("no listener\n", relayed.Output);
            var relayLine = await LogLineAsync(proxy, $"\"{outside}:9091\" PassthroughCluster");
            Assert.Contains("\"- - -\" 0 - - -", relayLine, StringComparison.Ordinal);
            Assert.Contains($" {outside}:9091 {net}.2:", relayLine, StringComparison.Ordinal);

            // An excluded port is not captured: the answer comes, the proxy logs nothing.
            var excluded = await Run("ip", "netns", "exec", ns, "curl", "--max-time", "20", "-sS", $"http://{outside}:9090/excluded");
            Assert.Equal("excluded\n", excluded.Output);

            // A connection straight to the capture port has no original destination: refused as a loop, not relayed to itself.
            await TryRun("ip", "netns", "exec", ns, "curl", "--max-time", "5", "-sS", $"http://127.0.0.1:{CapturePort}/self");
            Assert.Contains("upstream_loop_detected", await LogLineAsync(proxy, "upstream_loop_detected"), StringComparison.Ordinal);
            Assert.DoesNotContain("/excluded", proxy.Output, StringComparison.Ordinal);
            Assert.Equal(1, Count(proxy.Output, "/captured")); // one line: the proxy's own connection was not captured again

            // Stopping the proxy removes its rules.
            await proxy.SignalAsync("TERM");
            await WaitForAsync(() => proxy.HasExited, proxy, "the proxy to stop");
            var tables = await Run("ip", "netns", "exec", ns, "nft", "list", "tables");
            Assert.DoesNotContain(NftablesCapture.Table, tables.Output, StringComparison.Ordinal);
        }
        finally
        {
            if (proxy is not null)
            {
                await proxy.DisposeAsync();
            }

            if (nginx is not null)
            {
                await nginx.DisposeAsync();
            }

            await TryRun("ip", "netns", "exec", ns, "nft", "delete", "table", "inet", NftablesCapture.Table);
            await TryRun("ip", "link", "del", hostVeth);
            await TryRun("ip", "netns", "del", ns);
            Directory.Delete(dir, recursive: true);
        }
    }

    private static int Count(string text, string value)
    {
        var count = 0;
        for (var i = text.IndexOf(value, StringComparison.Ordinal); i >= 0; i = text.IndexOf(value, i + value.Length, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }

    private static async Task<string> LogLineAsync(ChildProcess proxy, string contains)
    {
        string? found = null;
        await WaitForAsync(() => (found = proxy.Output.Split('\n').FirstOrDefault(l => l.StartsWith('[') && l.Contains(contains, StringComparison.Ordinal))) is not null, proxy, $"an access-log line with {contains}");
        return found!;
    }

    private static async Task WaitForAsync(Func<bool> condition, ChildProcess proxy, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for {what}; proxy output:\n{proxy.Output}");
            await Task.Delay(50);
        }
    }

    private static Task<(int Code, string Output)> Run(string executable, params string[] args) => RunAsync(executable, args, allowFailure: false);

    /// <summary>For clean-up and probes whose failure is expected or harmless.</summary>
    private static Task<(int Code, string Output)> TryRun(string executable, params string[] args) => RunAsync(executable, args, allowFailure: true);

    private static async Task<(int Code, string Output)> RunAsync(string executable, string[] args, bool allowFailure)
    {
        var info = new ProcessStartInfo(ExternalTools.Require(executable)) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        var result = (process.ExitCode, (await output).Replace("\r", "", StringComparison.Ordinal) + await error);
        Assert.True(allowFailure || process.ExitCode == 0, $"{executable} {string.Join(' ', args)} exited with {process.ExitCode.ToString(CultureInfo.InvariantCulture)}: {result.Item2}");
        return result;
    }
}

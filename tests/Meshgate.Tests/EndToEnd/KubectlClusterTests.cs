using System.Diagnostics;
using Meshgate.Tests.Capture;
using Xunit;

namespace Meshgate.Tests.EndToEnd;

/// <summary>
/// The real kubectl against a real local cluster through the kubeconfig <c>up --cluster</c> writes: <c>kubectl exec</c>
/// over WebSocket (<c>pods/exec</c>) and <c>kubectl logs</c> (<c>pods/log</c>).
/// </summary>
[Collection(LocalClusterCollection.Name)]
public sealed class KubectlClusterTests
{
    [RootFact]
    public async Task ExecAndLogs_WithTheRealKubectl()
    {
        await using var cluster = await LocalClusterRun.StartAsync();
        var kubeconfig = Path.Combine(cluster.DataDirectory, "kubeconfig");
        Assert.Contains("export KUBECONFIG=" + kubeconfig, cluster.UpOutput, StringComparison.Ordinal);
        var kubectl = ExternalTools.Require("kubectl");
        var cache = Path.Combine(cluster.Directory, "kubectl-cache");

        async Task<(int Code, string Out, string Error)> Kubectl(string? input, params string[] args)
        {
            var info = new ProcessStartInfo(kubectl) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
            foreach (var arg in (string[])["--cache-dir", cache, .. args])
            {
                info.ArgumentList.Add(arg);
            }

            info.Environment["KUBECONFIG"] = kubeconfig;
            using var process = Process.Start(info)!;
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEndAsync();
            if (input is not null)
            {
                await process.StandardInput.WriteAsync(input);
            }

            process.StandardInput.Close();
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await process.WaitForExitAsync(deadline.Token);
            return (process.ExitCode, await output, await error);
        }

        var pod = (await cluster.WaitForAsync("kubectl get pod -l app=sleep -o jsonpath='{.items..metadata.name}'", o => o.Trim().Length > 0, "the sleep pod")).Trim();

        // stdout and stderr on their channels, the exit status as kubectl's.
        var (code, stdout, stderr) = await Kubectl(null, "exec", pod, "-c", "sleep", "--", "sh", "-c", "echo out; echo err >&2; echo \"$HOSTNAME\"; exit 3");
        Assert.Equal(3, code);
        Assert.Equal($"out\n{pod}\n", stdout);
        Assert.Equal("err\ncommand terminated with exit code 3\n", stderr);

        // -i: standard input to the command, closed at its end (v5's close of stdin).
        var text = string.Concat(Enumerable.Range(0, 20_000).Select(i => $"line {i}\n"));
        (code, stdout, stderr) = await Kubectl(text, "exec", "-i", pod, "-c", "sleep", "--", "cat");
        Assert.True(code == 0, stderr);
        Assert.Equal(text, stdout);

        // Success, and the pod's network: the container's own address.
        (code, stdout, stderr) = await Kubectl(null, "exec", pod, "-c", "sleep", "--", "curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "http://edition.cnn.com/politics");
        Assert.True(code == 0, stderr);
        Assert.Equal("301", stdout);

        // kubectl's messages.
        (code, _, stderr) = await Kubectl(null, "exec", pod, "-c", "nope", "--", "true");
        Assert.Equal((1, $"Error from server (BadRequest): container nope is not valid for pod {pod}\n"), (code, stderr));
        (code, _, stderr) = await Kubectl(null, "exec", pod, "-c", "sleep", "--", "no-such-command");
        Assert.Equal(1, code);
        Assert.Contains("error: Internal error occurred: error executing command in container: exec: \"no-such-command\": executable file not found in $PATH", stderr, StringComparison.Ordinal);

        // kubectl logs -l: kubectl lists the pods, then reads each one's log.
        (code, stdout, stderr) = await Kubectl(null, "logs", "-l", "app=sleep", "-c", "istio-proxy", "--tail", "200");
        Assert.True(code == 0, stderr);
        Assert.Contains("discovery: applied version", stdout, StringComparison.Ordinal);
        (code, stdout, stderr) = await Kubectl(null, "logs", pod, "-c", "istio-proxy", "--tail", "1");
        Assert.True(code == 0, stderr);
        Assert.Single(stdout.TrimEnd('\n').Split('\n'));

        // Without the admin token nothing runs in the pod: kubectl with another credential in place of the token is
        // refused (a user without any makes kubectl ask for one), and so is the exec upgrade itself (curl, as kubectl
        // would send it after reading the pod).
        var config = await File.ReadAllTextAsync(kubeconfig);
        var anonymous = Path.Combine(cluster.Directory, "anonymous.kubeconfig");
        await File.WriteAllTextAsync(anonymous, config[..config.IndexOf("users:", StringComparison.Ordinal)] + "users:\n- name: meshgate-admin\n  user: {username: admin, password: admin}\n");
        (code, _, stderr) = await Kubectl(null, "--kubeconfig", anonymous, "exec", pod, "-c", "sleep", "--", "true");
        Assert.True(code == 1 && stderr.Contains("You must be logged in to the server", StringComparison.Ordinal), $"exit {code}: {stderr}");
        var server = System.Text.RegularExpressions.Regex.Match(config, @"server: (\S+)").Groups[1].Value;
        Assert.StartsWith("https://127.0.0.1:", server, StringComparison.Ordinal);
        var root = Path.Combine(cluster.Directory, "api-root.pem");
        await File.WriteAllBytesAsync(root, Convert.FromBase64String(System.Text.RegularExpressions.Regex.Match(config, @"certificate-authority-data: (\S+)").Groups[1].Value));
        var (curlCode, answer) = await Curl.RunAsync(
            "-sS", "--http1.1", "--cacert", root, "-o", "-", "-w", "\n%{http_code}",
            "-H", "Connection: Upgrade", "-H", "Upgrade: websocket", "-H", "Sec-WebSocket-Version: 13", "-H", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
            "-H", "Sec-WebSocket-Protocol: v5.channel.k8s.io",
            $"{server}/api/v1/namespaces/default/pods/{pod}/exec?command=true&container=sleep&stdout=true");
        Assert.True(curlCode == 0 && answer.EndsWith("\n401", StringComparison.Ordinal) && answer.Contains("Unauthorized", StringComparison.Ordinal), answer);
    }
}

using System.CommandLine;
using System.Diagnostics;
using System.Text.Json.Nodes;
using Meshgate.Commands;
using Meshgate.Tests.Capture;
using Meshgate.Tests.EndToEnd;
using Xunit;

namespace Meshgate.Tests.Commands;

/// <summary>
/// <c>meshgate exec</c>: its arguments and kubectl's errors against a real control plane holding a kubelet's pods, and
/// (as root) commands run for real in a network namespace made by the test.
/// </summary>
public sealed class ExecCommandTests : IAsyncLifetime
{
    private readonly CliHarness _cli = new();

    public async Task InitializeAsync()
    {
        await _cli.InitializeAsync();
        _cli.StorePod(Pod("sleep-7d9f8", "mgex-absent", sleepState: """{"running": {"startedAt": "2026-01-01T00:00:00Z"}}"""));
        _cli.StorePod(Pod("crashy-1a2b3", "mgex-absent", sleepState: """{"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 40s"}}"""));
        _cli.StorePod(Pod("done-4c5d6", "mgex-absent", sleepState: """{"terminated": {"exitCode": 0, "reason": "Completed"}}""", phase: "Succeeded"));
        _cli.StorePod("""
            {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "istio-egressgateway-abc12", "namespace": "default"},
             "spec": {"containers": [{"name": "istio-proxy", "image": "meshgate"}]},
             "status": {"phase": "Running", "podIP": "127.0.0.1"}}
            """);
    }

    public Task DisposeAsync() => _cli.DisposeAsync();

    /// <summary>An injected pod as the cluster's kubelet writes it.</summary>
    private static string Pod(string name, string netns, string sleepState, string phase = "Running", string annotations = "") => """
        {"apiVersion": "v1", "kind": "Pod",
         "metadata": {"name": "%NAME%", "namespace": "default", "uid": "0b6e2d6c-0000-4000-8000-000000000001",
                      "annotations": {"meshgate.io/netns": "%NETNS%"%ANNOTATIONS%}},
         "spec": {"nodeName": "meshgate", "serviceAccountName": "sleep", "containers": [
           {"name": "sleep", "command": ["/bin/sleep", "infinity"],
            "env": [{"name": "GREETING", "value": "hello"}, {"name": "WHO", "value": "$(GREETING) from $(HOSTNAME) $$(HOSTNAME) $(UNDEFINED)"},
                    {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                    {"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
                    {"name": "SECRET", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}]},
           {"name": "istio-proxy", "command": ["meshgate", "proxy"], "env": [{"name": "PATH", "value": "/opt/proxy/bin"}]}]},
         "status": {"phase": "%PHASE%", "podIP": "10.244.0.7", "podIPs": [{"ip": "10.244.0.7"}],
           "containerStatuses": [
             {"name": "sleep", "ready": true, "restartCount": 0, "state": %SLEEP_STATE%},
             {"name": "istio-proxy", "ready": true, "restartCount": 0, "state": {"running": {}}}]}}
        """.Replace("%NAME%", name, StringComparison.Ordinal).Replace("%NETNS%", netns, StringComparison.Ordinal).Replace("%ANNOTATIONS%", annotations, StringComparison.Ordinal)
            .Replace("%PHASE%", phase, StringComparison.Ordinal).Replace("%SLEEP_STATE%", sleepState, StringComparison.Ordinal);

    /// <summary>Runs <c>meshgate exec</c> in-process, deciding whether the CLI is root.</summary>
    private async Task<CliHarness.Result> ExecAsync(bool root, params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var context = new CliContext(new StringReader(""), output, error);
        var command = new RootCommand { CommonOptions.Server, CommonOptions.Token, CommonOptions.CertificateAuthority, CommonOptions.Kubeconfig, ExecCommand.Create(context, () => root) };
        var parse = command.Parse(CommonOptions.Normalize(["--kubeconfig", _cli.KubeconfigPath, "exec", .. args]));
        int code;
        try
        {
            code = await parse.InvokeAsync(new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false });
        }
        catch (CliException e)
        {
            await error.WriteLineAsync(e.Message);
            code = e.ExitCode;
        }

        return new CliHarness.Result(code, output.ToString(), error.ToString());
    }

    [Theory]
    [InlineData("error: pod, type/name or --filename must be specified\n")]
    [InlineData("error: pod, type/name or --filename must be specified\n", "--", "ls")]
    [InlineData("error: you must specify at least one command for the container\n", "sleep-7d9f8")]
    [InlineData("error: you must specify at least one command for the container\n", "sleep-7d9f8", "--")]
    [InlineData("Error from server (NotFound): pods \"nope\" not found\n", "nope", "--", "ls")]
    [InlineData("Error from server (NotFound): pods \"nope\" not found\n", "nope", "--", "echo", "@/no/such/file", "--help", "-h", "-c", "x", "-n", "y", "--server", "z")]
    [InlineData("Error from server (NotFound): pods \"sleep-7d9f8\" not found\n", "sleep-7d9f8", "-n", "istio-system", "--", "ls")]
    [InlineData("error: cannot exec into a container in a completed pod; current phase is Succeeded\n", "done-4c5d6", "--", "ls")]
    [InlineData("Error from server (BadRequest): container nope is not valid for pod sleep-7d9f8\n", "sleep-7d9f8", "-c", "nope", "--", "ls")]
    [InlineData("error: unable to upgrade connection: container not found (\"sleep\")\n", "crashy-1a2b3", "-c", "sleep", "--", "ls")]
    [InlineData("error: pod istio-egressgateway-abc12 has no network namespace (annotation meshgate.io/netns): exec needs a pod that 'meshgate up --cluster' runs\n", "istio-egressgateway-abc12", "--", "ls")]
    public async Task ErrorsAreKubectls(string error, params string[] args)
    {
        var result = await ExecAsync(true, args);
        Assert.Equal(1, result.ExitCode);
        Assert.Equal("", result.Out);
        Assert.Equal(error, result.Error);
    }

    [Fact]
    public async Task WithoutRootItSaysSoInOneLineAfterKubectlsNotice()
    {
        var result = await ExecAsync(false, "sleep-7d9f8", "--", "ls");
        Assert.Equal(1, result.ExitCode);
        Assert.Equal(
            "Defaulted container \"sleep\" out of: sleep, istio-proxy\n" +
            "error: meshgate exec runs the command in the pod's network namespace and needs root (run it with sudo)\n",
            result.Error);
        Assert.Equal("error: meshgate exec runs the command in the pod's network namespace and needs root (run it with sudo)\n", (await ExecAsync(false, "-q", "sleep-7d9f8", "--", "ls")).Error);
    }

    [Fact]
    public async Task AGoneNamespaceIsNamed()
    {
        var result = await ExecAsync(true, "pod/sleep-7d9f8", "-c", "istio-proxy", "--", "ls");
        Assert.Equal(1, result.ExitCode);
        Assert.Equal("error: unable to upgrade connection: the network namespace \"mgex-absent\" of pod sleep-7d9f8 is gone (is 'meshgate up --cluster' still running?)\n", result.Error);
    }

    [Fact]
    public async Task TheOldFormWithoutDashDashIsDeprecatedAsInKubectl()
    {
        var result = await ExecAsync(false, "sleep-7d9f8", "ls");
        Assert.StartsWith("meshgate exec [POD] [COMMAND] is DEPRECATED and will be removed in a future version. Use meshgate exec [POD] -- [COMMAND] instead.\n", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void WhatFollowsDashDashIsNotSplitLikeKubectlsShortOptions()
    {
        Assert.Equal(new[] { "exec", "-n", "demo", "p", "--", "ls", "-la", "-ojson", "-nx" }, CommonOptions.Normalize(["exec", "-ndemo", "p", "--", "ls", "-la", "-ojson", "-nx"]));
    }

    [Fact]
    public void ThePlanPicksTheContainerAndItsEnvironment()
    {
        var pod = (JsonObject)JsonNode.Parse(Pod("sleep-7d9f8", "mg-1", """{"running": {}}"""))!;
        var plan = ExecCommand.PlanFor(pod, null, "/usr/bin:/bin");
        Assert.Equal(("mg-1", "sleep", "Defaulted container \"sleep\" out of: sleep, istio-proxy"), (plan.Netns, plan.Container, plan.Notice));
        Assert.Equal("/usr/bin:/bin", plan.Environment["PATH"]);
        Assert.Equal("sleep-7d9f8", plan.Environment["HOSTNAME"]);
        Assert.Equal("hello", plan.Environment["GREETING"]);
        Assert.Equal("hello from sleep-7d9f8 $(HOSTNAME) $(UNDEFINED)", plan.Environment["WHO"]);
        Assert.Equal("sleep-7d9f8", plan.Environment["POD_NAME"]);
        Assert.Equal("10.244.0.7", plan.Environment["POD_IP"]);
        Assert.False(plan.Environment.ContainsKey("SECRET"));
        Assert.Equal("/", plan.WorkingDirectory);

        var proxy = ExecCommand.PlanFor(pod, "istio-proxy", "/usr/bin:/bin");
        Assert.Equal(("istio-proxy", null, "/opt/proxy/bin"), (proxy.Container, proxy.Notice, proxy.Environment["PATH"]));

        var annotated = (JsonObject)JsonNode.Parse(Pod("sleep-7d9f8", "mg-1", """{"running": {}}""", annotations: ", \"kubectl.kubernetes.io/default-container\": \"istio-proxy\""))!;
        Assert.Equal(("istio-proxy", null), (ExecCommand.PlanFor(annotated, null, null).Container, ExecCommand.PlanFor(annotated, null, null).Notice));
        Assert.Equal("/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", ExecCommand.PlanFor(annotated, "sleep", null).Environment["PATH"]);
    }

    [Fact]
    public void CommandsAreLookedUpAsTheRuntimeLooksThemUp()
    {
        var sh = ExecCommand.LookPath("sh", "/nonexistent:/usr/bin:/bin", "/");
        Assert.True(sh.Path is "/usr/bin/sh" or "/bin/sh", sh.ToString());
        Assert.Equal((null, "exec: \"no-such-command\": executable file not found in $PATH", 127), ExecCommand.LookPath("no-such-command", "/usr/bin:/bin", "/"));
        Assert.Equal((null, "exec: \"/no/such\": stat /no/such: no such file or directory", 127), ExecCommand.LookPath("/no/such", "/usr/bin", "/"));
        Assert.Equal((null, "exec: \"/etc/passwd\": permission denied", 126), ExecCommand.LookPath("/etc/passwd", "/usr/bin", "/"));
        Assert.Equal(("/bin/sh", null, 0), ExecCommand.LookPath("./sh", "", "/bin"));
    }

    [RootFact]
    public async Task RunsInThePodsNetworkNamespaceWithTheCommandsStreamsAndStatus()
    {
        var netns = "mgex" + Convert.ToHexString(BitConverter.GetBytes(Random.Shared.Next()))[..6].ToLowerInvariant();
        try
        {
            Assert.Equal(0, (await Run("", "ip", "netns", "add", netns)).ExitCode);
            _cli.StorePod(Pod("netns-pod", netns, sleepState: """{"running": {"startedAt": "2026-01-01T00:00:00Z"}}"""));

            // The namespace has a loopback interface and nothing else; the first of two containers is said.
            var addresses = await Meshgate("", "exec", "netns-pod", "--", "ip", "-br", "addr");
            Assert.Equal(0, addresses.ExitCode);
            Assert.Equal(new[] { "lo" }, addresses.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' ')[0]));
            Assert.Equal("Defaulted container \"sleep\" out of: sleep, istio-proxy\n", addresses.Error);

            var streams = await Meshgate("", "exec", "netns-pod", "-c", "sleep", "--", "sh", "-c", "echo out; echo err >&2; exit 3");
            Assert.Equal((3, "out\n", "err\n"), (streams.ExitCode, streams.Out, streams.Error));

            var environment = await Meshgate("", "exec", "netns-pod", "-c", "sleep", "--", "sh", "-c", "echo $HOSTNAME $GREETING $POD_IP; pwd");
            Assert.Equal("netns-pod hello 10.244.0.7\n/\n", environment.Out);

            var input = await Meshgate("hello\nworld\n", "exec", "-i", "netns-pod", "-c", "sleep", "--", "cat");
            Assert.Equal((0, "hello\nworld\n", ""), (input.ExitCode, input.Out, input.Error));

            var noInput = await Meshgate("hello\n", "exec", "netns-pod", "-c", "sleep", "--", "cat");
            Assert.Equal((0, "", ""), (noInput.ExitCode, noInput.Out, noInput.Error));

            var tty = await Meshgate("hi\n", "exec", "-it", "netns-pod", "-c", "sleep", "--", "cat");
            Assert.Equal((0, "hi\n", "Unable to use a TTY - input is not a terminal or the right kind of file\n"), (tty.ExitCode, tty.Out, tty.Error));

            // On a terminal (script(1) makes one) -it gives the command the terminal itself.
            var terminal = await Run("", "script", "-qec", $"{MeshgateProcess.Executable} --kubeconfig {_cli.KubeconfigPath} exec -it netns-pod -c sleep -- sh -c 'tty; exit 4'", "/dev/null");
            Assert.Equal(4, terminal.ExitCode);
            Assert.Contains("/dev/pts/", terminal.Out, StringComparison.Ordinal);

            var missing = await Meshgate("", "exec", "netns-pod", "-c", "sleep", "--", "no-such-command");
            Assert.Equal(127, missing.ExitCode);
            Assert.Equal("error: Internal error occurred: error executing command in container: exec: \"no-such-command\": executable file not found in $PATH\n", missing.Error);
        }
        finally
        {
            await Run("", "ip", "netns", "delete", netns);
        }
    }

    /// <summary>The real meshgate executable, so the command inherits its streams as it does for users.</summary>
    private Task<CliHarness.Result> Meshgate(string stdin, params string[] args) =>
        Run(stdin, MeshgateProcess.Executable, ["--kubeconfig", _cli.KubeconfigPath, .. args]);

    private static async Task<CliHarness.Result> Run(string stdin, string file, params string[] args)
    {
        var info = new ProcessStartInfo(file)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        try
        {
            await process.StandardInput.WriteAsync(stdin);
            process.StandardInput.Close();
        }
        catch (IOException)
        {
            // It did not read its input (exec without -i).
        }

        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(deadline.Token);
        return new CliHarness.Result(process.ExitCode, await output, await error);
    }
}

using System.CommandLine;
using System.CommandLine.Parsing;
using System.Diagnostics;
using System.Text.Json.Nodes;
using Meshgate.ControlPlane.Api;
using Meshgate.Core.Resources;

namespace Meshgate.Commands;

/// <summary>
/// <c>meshgate exec POD [-n NS] [-c CONTAINER] [-i] [-t] -- COMMAND [ARGS...]</c>, as <c>kubectl exec</c>, for the pods
/// <c>meshgate up --cluster</c> runs: their containers are host processes in the pod's network namespace (annotation
/// <c>meshgate.io/netns</c>), so the command runs as <c>ip netns exec NETNS COMMAND...</c> with the container's
/// environment, its output streamed straight to the terminal, and exits with the command's status. Errors are
/// kubectl's where kubectl has one.
/// </summary>
public static class ExecCommand
{
    /// <summary>The annotation the cluster's kubelet writes on a pod: the name of its network namespace (<c>ip netns list</c>).</summary>
    public const string NetnsAnnotation = PodExec.NetnsAnnotation;

    private const string NetnsDirectory = PodExec.NetnsDirectory;

    private const string DefaultPath = PodExec.DefaultPath;

    public static Command Create(CliContext cli) => Create(cli, () => Environment.IsPrivilegedProcess);

    /// <param name="isRoot">Whether the CLI may enter a network namespace (tests decide).</param>
    internal static Command Create(CliContext cli, Func<bool> isRoot)
    {
        var words = new Argument<string[]>("pod-and-command") { Arity = ArgumentArity.ZeroOrMore, Description = "POD -- COMMAND [ARGS...]" };
        var ns = CommonOptions.Namespace();
        var container = new Option<string?>("--container", "-c") { Description = "Container (default: the pod's default container, else its first)" };
        var stdin = new Option<bool>("--stdin", "-i") { Description = "Pass standard input to the command" };
        var tty = new Option<bool>("--tty", "-t") { Description = "The command gets the terminal (with -i, when standard input is one)" };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "Print only what the command prints" };
        var command = new Command("exec", "Run a command in a container of a pod (meshgate up --cluster), as kubectl exec") { words, ns, container, stdin, tty, quiet };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var (podName, argv, dashed) = Split(parse, parse.GetValue(words) ?? []);
            var silent = parse.GetValue(quiet);
            if (!dashed && argv.Count > 0 && !silent)
            {
                await cli.Error.WriteLineAsync("meshgate exec [POD] [COMMAND] is DEPRECATED and will be removed in a future version. Use meshgate exec [POD] -- [COMMAND] instead.");
            }

            if (podName is null)
            {
                throw new CliException("error: pod, type/name or --filename must be specified");
            }

            if (argv.Count == 0)
            {
                throw new CliException("error: you must specify at least one command for the container");
            }

            var namespaceName = parse.GetValue(ns) ?? "default";
            using var client = new ApiClient(ApiTarget.Resolve(parse));
            var pod = await client.GetAsync(ResourcePaths.For(ResourceTypes.Pod, namespaceName, podName), cancellationToken) as JsonObject
                ?? throw new CliException($"Error from server (NotFound): pods \"{podName}\" not found");
            var plan = PlanFor(pod, parse.GetValue(container), Environment.GetEnvironmentVariable("PATH"));
            if (plan.Notice is not null && !silent)
            {
                await cli.Error.WriteLineAsync(plan.Notice);
            }

            if (!isRoot())
            {
                throw new CliException("error: meshgate exec runs the command in the pod's network namespace and needs root (run it with sudo)");
            }

            if (!Directory.Exists(NetnsDirectory) || !File.Exists(Path.Combine(NetnsDirectory, plan.Netns)))
            {
                throw new CliException($"error: unable to upgrade connection: the network namespace \"{plan.Netns}\" of pod {podName} is gone (is 'meshgate up --cluster' still running?)");
            }

            var (_, failure, exitCode) = LookPath(argv[0], plan.Environment.GetValueOrDefault("PATH") ?? "", plan.WorkingDirectory);
            if (failure is not null)
            {
                throw new CliException($"error: Internal error occurred: error executing command in container: {failure}", exitCode);
            }

            var useTty = parse.GetValue(tty) && parse.GetValue(stdin);
            if (useTty && (!ReferenceEquals(cli.In, Console.In) || Console.IsInputRedirected))
            {
                useTty = false;
                if (!silent)
                {
                    await cli.Error.WriteLineAsync("Unable to use a TTY - input is not a terminal or the right kind of file");
                }
            }

            return await RunAsync(cli, plan, argv, parse.GetValue(stdin), useTty, cancellationToken);
        });
        return command;
    }

    /// <summary>What runs: the shared plan (<see cref="PodExec.PlanFor"/>), with kubectl's wording on failure.</summary>
    internal static PodExec.Plan PlanFor(JsonObject pod, string? container, string? cliPath)
    {
        try
        {
            return PodExec.PlanFor(pod, container, cliPath);
        }
        catch (PodExecException e)
        {
            throw new CliException(e.KubectlMessage);
        }
    }

    /// <summary>
    /// The pod name and the command: what precedes <c>--</c> and what follows it (kubectl's deprecated form without
    /// <c>--</c>, POD COMMAND..., is accepted too).
    /// </summary>
    private static (string? Pod, List<string> Command, bool Dashed) Split(ParseResult parse, string[] words)
    {
        var afterDash = 0;
        var seen = false;
        foreach (var token in parse.Tokens)
        {
            if (seen)
            {
                afterDash++;
            }

            seen |= token.Type == TokenType.DoubleDash;
        }

        var before = seen ? words.Length - afterDash : words.Length;
        if (before == 0)
        {
            return (null, [.. words], seen);
        }

        var pod = words[0];
        foreach (var prefix in (string[])["pod/", "pods/", "po/"])
        {
            if (pod.StartsWith(prefix, StringComparison.Ordinal))
            {
                pod = pod[prefix.Length..];
            }
        }

        return (pod, [.. words[1..]], seen);
    }

    internal static (string? Path, string? Failure, int ExitCode) LookPath(string command, string path, string workingDirectory) =>
        PodExec.LookPath(command, path, workingDirectory);

    /// <summary>
    /// <c>ip netns exec NETNS COMMAND...</c>. On a console the command inherits the terminal's output streams (so it
    /// streams, unbuffered) and, with -i, its input; without -i its input is empty. Other streams (tests) are copied.
    /// </summary>
    private static async Task<int> RunAsync(CliContext cli, PodExec.Plan plan, List<string> argv, bool stdin, bool tty, CancellationToken cancellationToken)
    {
        var ip = LookPath("ip", (Environment.GetEnvironmentVariable("PATH") ?? "") + ":" + DefaultPath, "/").Path
            ?? throw new CliException("error: meshgate exec needs the 'ip' command (iproute2) to enter the pod's network namespace");
        var inheritIn = stdin && ReferenceEquals(cli.In, Console.In);
        var inheritOut = ReferenceEquals(cli.Out, Console.Out);
        var inheritError = ReferenceEquals(cli.Error, Console.Error);
        var info = new ProcessStartInfo(ip)
        {
            UseShellExecute = false,
            WorkingDirectory = plan.WorkingDirectory,
            RedirectStandardInput = !inheritIn,
            RedirectStandardOutput = !inheritOut,
            RedirectStandardError = !inheritError,
        };
        foreach (var arg in (string[])["netns", "exec", plan.Netns, .. argv])
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment.Clear();
        foreach (var (key, value) in plan.Environment)
        {
            info.Environment[key] = value;
        }

        if (tty && !plan.Environment.ContainsKey("TERM"))
        {
            info.Environment["TERM"] = Environment.GetEnvironmentVariable("TERM") ?? "xterm";
        }

        await cli.Out.FlushAsync(cancellationToken);
        await cli.Error.FlushAsync(cancellationToken);
        using var process = Process.Start(info) ?? throw new CliException($"error: could not start {ip}");
        var copies = new List<Task>();
        if (!inheritIn)
        {
            if (stdin)
            {
                copies.Add(FeedAsync(cli.In, process.StandardInput));
            }
            else
            {
                process.StandardInput.Close();
            }
        }

        if (!inheritOut)
        {
            copies.Add(CopyAsync(process.StandardOutput, cli.Out));
        }

        if (!inheritError)
        {
            copies.Add(CopyAsync(process.StandardError, cli.Error));
        }

        try
        {
            await process.WaitForExitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // Ctrl-C reached the command too (same process group): let it finish on its own, else stop it.
            using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            try
            {
                await process.WaitForExitAsync(grace.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync(CancellationToken.None);
            }
        }

        await Task.WhenAll(copies);
        return process.ExitCode;
    }

    private static async Task FeedAsync(TextReader input, StreamWriter stdin)
    {
        try
        {
            var buffer = new char[4096];
            int read;
            while ((read = await input.ReadAsync(buffer)) > 0)
            {
                await stdin.WriteAsync(buffer.AsMemory(0, read));
                await stdin.FlushAsync();
            }
        }
        catch (IOException)
        {
            // The command stopped reading (it exited, or closed its input).
        }
        finally
        {
            stdin.Close();
        }
    }

    private static async Task CopyAsync(StreamReader from, TextWriter to)
    {
        var buffer = new char[4096];
        int read;
        while ((read = await from.ReadAsync(buffer)) > 0)
        {
            await to.WriteAsync(buffer.AsMemory(0, read));
            await to.FlushAsync();
        }
    }
}

using System.CommandLine;
using System.CommandLine.Parsing;
using System.Diagnostics;
using System.Text;
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
    public const string NetnsAnnotation = "meshgate.io/netns";

    /// <summary>Where <c>ip netns</c> keeps the namespaces it names.</summary>
    private const string NetnsDirectory = "/run/netns";

    private const string DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

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
            using var client = new ApiClient(ApiClient.ResolveServer(parse.GetValue(CommonOptions.Server)));
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

    /// <summary>What runs: in which namespace, as which container, with what environment, and what to say first.</summary>
    internal sealed record Plan(string Netns, string Container, string? Notice, IReadOnlyDictionary<string, string> Environment, string WorkingDirectory);

    /// <summary>
    /// Checks the pod as the API server and kubelet would before an exec (completed pod, unknown container, container
    /// not running) and picks the container and its environment.
    /// </summary>
    /// <param name="cliPath">The CLI's PATH, which the command gets unless the container sets its own.</param>
    internal static Plan PlanFor(JsonObject pod, string? container, string? cliPath)
    {
        var name = pod["metadata"]?["name"]?.ToString() ?? "";
        var phase = pod["status"]?["phase"]?.ToString();
        if (phase is "Succeeded" or "Failed")
        {
            throw new CliException($"error: cannot exec into a container in a completed pod; current phase is {phase}");
        }

        string? notice = null;
        if (container is { Length: > 0 })
        {
            if (!PodContainers.Has(pod, container))
            {
                throw new CliException($"Error from server (BadRequest): container {container} is not valid for pod {name}");
            }
        }
        else
        {
            var choice = PodContainers.Default(pod) ?? throw new CliException($"error: pod {pod["metadata"]?["namespace"]}/{name} does not have any containers");
            (container, notice) = (choice.Name, choice.Notice);
        }

        if (pod["metadata"]?["annotations"]?[NetnsAnnotation]?.ToString() is not { Length: > 0 } netns)
        {
            throw new CliException($"error: pod {name} has no network namespace (annotation {NetnsAnnotation}): exec needs a pod that 'meshgate up --cluster' runs");
        }

        if (netns.Contains('/', StringComparison.Ordinal) || netns is "." or "..")
        {
            throw new CliException($"error: pod {name}'s annotation {NetnsAnnotation} is \"{netns}\", not a network namespace name (ip netns list)");
        }

        if (!Running(pod, container))
        {
            throw new CliException($"error: unable to upgrade connection: container not found (\"{container}\")");
        }

        var spec = PodContainers.Find(pod, container)!;
        var environment = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["PATH"] = cliPath is { Length: > 0 } ? cliPath : DefaultPath,
            ["HOSTNAME"] = name,
            ["HOME"] = "/root",
        };
        foreach (var variable in spec["env"] as JsonArray ?? [])
        {
            if (variable?["name"]?.ToString() is { Length: > 0 } key && Value(pod, variable, environment) is { } value)
            {
                environment[key] = value;
            }
        }

        var workingDirectory = spec["workingDir"]?.ToString() is { Length: > 0 } dir && Directory.Exists(dir) ? dir : "/";
        return new Plan(netns, container, notice, environment, workingDirectory);
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

    /// <summary>
    /// Whether the container runs: its status says running, or (a pod without container statuses) the pod is Running.
    /// </summary>
    private static bool Running(JsonObject pod, string container)
    {
        var statuses = new[] { "containerStatuses", "initContainerStatuses", "ephemeralContainerStatuses" }
            .SelectMany(list => pod["status"]?[list] as JsonArray ?? [])
            .ToList();
        if (statuses.Count == 0)
        {
            return pod["status"]?["phase"]?.ToString() == "Running";
        }

        return statuses.FirstOrDefault(s => s?["name"]?.ToString() == container)?["state"]?["running"] is JsonObject;
    }

    /// <summary>An <c>env</c> entry's value: its <c>value</c> with <c>$(VAR)</c> references expanded, or the pod field a
    /// <c>valueFrom.fieldRef</c> names; null for sources exec cannot read (secrets, config maps, resources).</summary>
    private static string? Value(JsonObject pod, JsonNode variable, Dictionary<string, string> defined)
    {
        if (variable["value"] is { } value)
        {
            return Expand(value.ToString(), defined);
        }

        if (variable["valueFrom"]?["fieldRef"]?["fieldPath"]?.ToString() is not { } field)
        {
            return variable["valueFrom"] is null ? "" : null;
        }

        var metadata = pod["metadata"];
        if (field.StartsWith("metadata.labels['", StringComparison.Ordinal) && field.EndsWith("']", StringComparison.Ordinal))
        {
            return metadata?["labels"]?[field[17..^2]]?.ToString() ?? "";
        }

        if (field.StartsWith("metadata.annotations['", StringComparison.Ordinal) && field.EndsWith("']", StringComparison.Ordinal))
        {
            return metadata?["annotations"]?[field[22..^2]]?.ToString() ?? "";
        }

        return field switch
        {
            "metadata.name" => metadata?["name"]?.ToString(),
            "metadata.namespace" => metadata?["namespace"]?.ToString(),
            "metadata.uid" => metadata?["uid"]?.ToString(),
            "spec.nodeName" => pod["spec"]?["nodeName"]?.ToString(),
            "spec.serviceAccountName" => pod["spec"]?["serviceAccountName"]?.ToString(),
            "status.hostIP" => pod["status"]?["hostIP"]?.ToString(),
            "status.podIP" => pod["status"]?["podIP"]?.ToString(),
            "status.podIPs" => string.Join(",", (pod["status"]?["podIPs"] as JsonArray ?? []).Select(i => i?["ip"]?.ToString())),
            _ => null,
        } ?? "";
    }

    /// <summary>Kubernetes' expansion of <c>$(NAME)</c> in env values: defined names are replaced, <c>$$</c> is <c>$</c>.</summary>
    private static string Expand(string text, Dictionary<string, string> defined)
    {
        if (!text.Contains('$', StringComparison.Ordinal))
        {
            return text;
        }

        var result = new StringBuilder(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == '$' && i + 1 < text.Length)
            {
                if (text[i + 1] == '$')
                {
                    result.Append('$');
                    i++;
                    continue;
                }

                var close = text[i + 1] == '(' ? text.IndexOf(')', i + 2) : -1;
                if (close > 0 && defined.TryGetValue(text[(i + 2)..close], out var value))
                {
                    result.Append(value);
                    i = close;
                    continue;
                }
            }

            result.Append(text[i]);
        }

        return result.ToString();
    }

    /// <summary>
    /// Finds the command as the container runtime would (Go's exec.LookPath): a name with a slash as it is, else in
    /// PATH. A failure is worded as the runtime words it, with the shell's status: 127 not found, 126 not executable.
    /// </summary>
    internal static (string? Path, string? Failure, int ExitCode) LookPath(string command, string path, string workingDirectory)
    {
        if (command.Contains('/', StringComparison.Ordinal))
        {
            var full = Path.GetFullPath(command, workingDirectory);
            if (!File.Exists(full) && !Directory.Exists(full))
            {
                return (null, $"exec: \"{command}\": stat {command}: no such file or directory", 127);
            }

            return Executable(full) ? (full, null, 0) : (null, $"exec: \"{command}\": permission denied", 126);
        }

        foreach (var directory in path.Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(directory, command);
            if (Executable(candidate))
            {
                return (candidate, null, 0);
            }
        }

        return (null, $"exec: \"{command}\": executable file not found in $PATH", 127);
    }

    private static bool Executable(string file) =>
        File.Exists(file) && (OperatingSystem.IsWindows() || (File.GetUnixFileMode(file) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0);

    /// <summary>
    /// <c>ip netns exec NETNS COMMAND...</c>. On a console the command inherits the terminal's output streams (so it
    /// streams, unbuffered) and, with -i, its input; without -i its input is empty. Other streams (tests) are copied.
    /// </summary>
    private static async Task<int> RunAsync(CliContext cli, Plan plan, List<string> argv, bool stdin, bool tty, CancellationToken cancellationToken)
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

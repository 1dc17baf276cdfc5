using System.Diagnostics;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;

namespace Meshgate.Demo;

/// <summary>What one command of the document did.</summary>
/// <param name="Mismatch">Null when its output is what the document shows (<see cref="SeedOutputMatcher"/>).</param>
public sealed record SeedStepResult(SeedStep Step, string Command, int ExitCode, string Output, string? Mismatch);

/// <summary>Where the document runs: this program, the control plane's kubeconfig (<c>DATA/kubeconfig</c>), and a directory with Istio's <c>samples/sleep/sleep.yaml</c>.</summary>
public sealed record SeedRunOptions(string Meshgate, string Kubeconfig, string WorkingDirectory)
{
    /// <summary>How long a command that only reads (get, exec, logs, pc) is repeated until its output is the document's:
    /// a reader waits for a pod to start or a route to apply before the next step; so does the runner.</summary>
    public TimeSpan SettleTime { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Arguments before the command when this program runs under <c>dotnet</c> (<c>meshgate.dll</c>).</summary>
    public IReadOnlyList<string> Prefix { get; init; } = [];

    /// <summary>How long one command may run.</summary>
    public TimeSpan CommandTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>What <c>kubectl</c> runs, as a shell command line the arguments follow: null for this program; e.g.
    /// <c>command kubectl --cache-dir DIR</c> for the real kubectl (with <c>KUBECONFIG</c> in <see cref="Environment"/>).</summary>
    public string? Kubectl { get; init; }

    /// <summary>Variables set for every command (e.g. <c>KUBECONFIG</c>).</summary>
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();
}

/// <summary>
/// Runs the document's commands for one tab, in order, as a reader types them into one shell: <c>kubectl</c> and
/// <c>istioctl</c> are this program, exported variables carry from one command to the next (<c>SOURCE_POD</c>),
/// "Follow the steps in ... section" runs that section's commands, and nothing else is changed but two placeholders:
/// <c>@samples/sleep/sleep.yaml@</c> (the document's link to Istio's sample) is the sample's path, and
/// <c>&lt;flags-you-used-to-install-Istio&gt;</c> is nothing (Meshgate's install keeps them).
/// </summary>
public sealed class SeedRunner(SeedRunOptions options, Action<string>? print = null)
{
    private readonly string _environment = Path.Combine(options.WorkingDirectory, ".seed-environment");

    /// <summary>The document's steps with the included sections expanded in place.</summary>
    public static IReadOnlyList<SeedStep> Plan(IReadOnlyList<SeedStep> steps)
    {
        var plan = new List<SeedStep>();
        foreach (var step in steps)
        {
            if (step.Include is { } include)
            {
                plan.AddRange(steps.Where(s => s.Include is null && (s.Section == include || s.Section.EndsWith(" / " + include, StringComparison.Ordinal))));
            }
            else
            {
                plan.Add(step);
            }
        }

        return plan;
    }

    /// <summary>Runs <paramref name="plan"/> in order; stops at the first step whose output is not the document's.</summary>
    public async Task<IReadOnlyList<SeedStepResult>> RunAsync(IReadOnlyList<SeedStep> plan, CancellationToken cancellationToken)
    {
        var results = new List<SeedStepResult>();
        string? section = null;
        foreach (var step in plan)
        {
            if (step.Section != section)
            {
                section = step.Section;
                print?.Invoke($"\n## {section}");
            }

            var command = step.Command
                .Replace("@samples/sleep/sleep.yaml@", "samples/sleep/sleep.yaml", StringComparison.Ordinal)
                .Replace("<flags-you-used-to-install-Istio> ", "", StringComparison.Ordinal);
            print?.Invoke("$ " + command);
            var clock = Stopwatch.StartNew();
            SeedStepResult result;
            while (true)
            {
                var (code, output) = await RunAsync(command, cancellationToken).ConfigureAwait(false);
                result = new SeedStepResult(step, command, code, output, SeedOutputMatcher.Check(step, code, output));
                if (result.Mismatch is null || !ReadsOnly(command) || clock.Elapsed > options.SettleTime)
                {
                    break;
                }

                await Task.Delay(500, cancellationToken).ConfigureAwait(false);
            }

            if (!ReadsOnly(command))
            {
                await WaitForDistributionAsync(cancellationToken).ConfigureAwait(false);
            }

            print?.Invoke(result.Output.TrimEnd('\n'));
            results.Add(result);
            if (result.Mismatch is not null)
            {
                print?.Invoke($"# not what the document shows (line {step.Line}): {result.Mismatch}");
                break;
            }
        }

        return results;
    }

    /// <summary>
    /// After a command that changes something, until every proxy runs the configuration (as Istio's own tests of this
    /// page wait with <c>istioctl x wait</c>) and every Deployment's pods are ready (<c>kubectl rollout status</c>): a
    /// reader gives it the seconds it takes. Gives up quietly after the settle time: the
    /// next step's output says what is wrong.
    /// </summary>
    private async Task WaitForDistributionAsync(CancellationToken cancellationToken)
    {
        using var http = Commands.ApiTarget.FromKubeconfig(options.Kubeconfig).CreateHttpClient(TimeSpan.FromSeconds(5));
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < options.SettleTime)
        {
            try
            {
                var answer = await http.GetFromJsonAsync<JsonObject>("/debug/synced", cancellationToken).ConfigureAwait(false);
                var deployments = await http.GetFromJsonAsync<JsonObject>("/apis/apps/v1/deployments", cancellationToken).ConfigureAwait(false);
                var pods = await http.GetFromJsonAsync<JsonObject>("/api/v1/pods", cancellationToken).ConfigureAwait(false);
                if (answer?["synced"]?.GetValue<bool>() == true
                    && (deployments?["items"] as JsonArray ?? []).All(d => (d?["status"]?["readyReplicas"]?.GetValue<int>() ?? 0) >= (d?["spec"]?["replicas"]?.GetValue<int>() ?? 1))
                    && (pods?["items"] as JsonArray ?? []).All(p => (p?["status"]?["conditions"] as JsonArray ?? [])
                        .Any(c => c?["type"]?.GetValue<string>() == "Ready" && c["status"]?.GetValue<string>() == "True")))
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(100, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Commands a reader repeats while waiting (they change nothing): reads, and requests from the sleep pod.</summary>
    private static bool ReadsOnly(string command) =>
        command.StartsWith("kubectl get ", StringComparison.Ordinal) || command.StartsWith("kubectl exec ", StringComparison.Ordinal)
        || command.StartsWith("kubectl logs ", StringComparison.Ordinal) || command.StartsWith("istioctl pc ", StringComparison.Ordinal)
        || command.StartsWith("istioctl proxy-config ", StringComparison.Ordinal);

    private async Task<(int Code, string Output)> RunAsync(string command, CancellationToken cancellationToken)
    {
        var info = new ProcessStartInfo("bash")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = options.WorkingDirectory,
        };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add($$"""
            kubectl() { {{options.Kubectl ?? "\"$MESHGATE\" $MESHGATE_PREFIX"}} "$@"; }
            istioctl() { "$MESHGATE" $MESHGATE_PREFIX "$@"; }
            [ -f '{{_environment}}' ] && . '{{_environment}}'
            {{command}}
            status=$?
            export -p > '{{_environment}}'
            exit $status
            """);
        info.Environment["MESHGATE"] = options.Meshgate;
        info.Environment["KUBECONFIG"] = options.Kubeconfig;
        info.Environment["MESHGATE_PREFIX"] = string.Join(' ', options.Prefix);
        foreach (var (key, value) in options.Environment)
        {
            info.Environment[key] = value;
        }
        using var process = Process.Start(info) ?? throw new InvalidOperationException("cannot start bash");
        process.StandardInput.Close();
        var output = new StringBuilder();
        var gate = new Lock();
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.CommandTimeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            process.Kill(entireProcessTree: true);
            return (124, output + $"\n(no answer within {options.CommandTimeout.TotalSeconds:0}s)");
        }

        process.WaitForExit(); // the last lines of output
        lock (gate)
        {
            return (process.ExitCode, output.ToString());
        }

        void Append(string? line)
        {
            if (line is not null)
            {
                lock (gate)
                {
                    output.Append(line).Append('\n');
                }
            }
        }
    }
}

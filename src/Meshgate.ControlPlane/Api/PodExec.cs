using System.Text;
using System.Text.Json.Nodes;

namespace Meshgate.ControlPlane.Api;

/// <summary>Why a pod's container cannot run a command: <see cref="Reason"/> is the API's (kubectl prints
/// <c>Error from server (REASON): TEXT</c>), null for kubectl's own checks (<c>error: TEXT</c>).</summary>
public sealed class PodExecException(string? reason, string text) : Exception(text)
{
    public string? Reason { get; } = reason;

    /// <summary>As kubectl prints it.</summary>
    public string KubectlMessage => Reason is null ? "error: " + Message : $"Error from server ({Reason}): {Message}";
}

/// <summary>
/// What <c>kubectl exec</c> into a pod of <c>meshgate up --cluster</c> runs, for both <c>meshgate exec</c> and the API's
/// <c>pods/exec</c>: the pod's network namespace (annotation <c>meshgate.io/netns</c>), the container (checked as the
/// API server and kubelet check it) and its environment, and where the command is found.
/// </summary>
public static class PodExec
{
    /// <summary>The annotation the cluster's kubelet writes on a pod: the name of its network namespace (<c>ip netns list</c>).</summary>
    public const string NetnsAnnotation = "meshgate.io/netns";

    /// <summary>Where <c>ip netns</c> keeps the namespaces it names.</summary>
    public const string NetnsDirectory = "/run/netns";

    public const string DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    /// <summary>What runs: in which namespace, as which container, with what environment, and what to say first.</summary>
    public sealed record Plan(string Netns, string Container, string? Notice, IReadOnlyDictionary<string, string> Environment, string WorkingDirectory);

    /// <summary>
    /// Checks the pod as the API server and kubelet would before an exec (completed pod, unknown container, container
    /// not running) and picks the container and its environment.
    /// </summary>
    /// <param name="cliPath">The CLI's PATH, which the command gets unless the container sets its own.</param>
    public static Plan PlanFor(JsonObject pod, string? container, string? cliPath)
    {
        var name = pod["metadata"]?["name"]?.ToString() ?? "";
        var phase = pod["status"]?["phase"]?.ToString();
        if (phase is "Succeeded" or "Failed")
        {
            throw new PodExecException(null, $"cannot exec into a container in a completed pod; current phase is {phase}");
        }

        string? notice = null;
        if (container is { Length: > 0 })
        {
            if (!PodContainers.Has(pod, container))
            {
                throw new PodExecException("BadRequest", $"container {container} is not valid for pod {name}");
            }
        }
        else
        {
            var choice = PodContainers.Default(pod) ?? throw new PodExecException(null, $"pod {pod["metadata"]?["namespace"]}/{name} does not have any containers");
            (container, notice) = (choice.Name, choice.Notice);
        }

        if (pod["metadata"]?["annotations"]?[NetnsAnnotation]?.ToString() is not { Length: > 0 } netns)
        {
            throw new PodExecException(null, $"pod {name} has no network namespace (annotation {NetnsAnnotation}): exec needs a pod that 'meshgate up --cluster' runs");
        }

        if (netns.Contains('/', StringComparison.Ordinal) || netns is "." or "..")
        {
            throw new PodExecException(null, $"pod {name}'s annotation {NetnsAnnotation} is \"{netns}\", not a network namespace name (ip netns list)");
        }

        if (!Running(pod, container))
        {
            throw new PodExecException(null, $"unable to upgrade connection: container not found (\"{container}\")");
        }

        var spec = PodContainers.Find(pod, container)!;
        var environment = ContainerEnvironment(pod, spec, cliPath is { Length: > 0 } ? cliPath : DefaultPath);

        var workingDirectory = spec["workingDir"]?.ToString() is { Length: > 0 } dir && Directory.Exists(dir) ? dir : "/";
        return new Plan(netns, container, notice, environment, workingDirectory);
    }

    /// <summary>
    /// A container's environment, for the kubelet that starts it and for exec into it: PATH, HOSTNAME, HOME, then its
    /// <c>env</c> in order: values with <c>$(VAR)</c> expanded, and the downward API's <c>fieldRef</c>s to the pod
    /// (<c>metadata.labels</c> whole, as <c>k=v,k=v</c>, is Meshgate's, for the proxy's <c>--labels</c>). Sources that
    /// cannot be read here (secrets, config maps, resources) are left out.
    /// </summary>
    public static Dictionary<string, string> ContainerEnvironment(JsonObject pod, JsonObject container, string path)
    {
        var environment = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["PATH"] = path,
            ["HOSTNAME"] = pod["metadata"]?["name"]?.ToString() ?? "",
            ["HOME"] = "/root",
        };
        foreach (var variable in container["env"] as JsonArray ?? [])
        {
            if (variable?["name"]?.ToString() is { Length: > 0 } key && Value(pod, variable, environment) is { } value)
            {
                environment[key] = value;
            }
        }

        return environment;
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
    private static string? Value(JsonObject pod, JsonNode variable, IReadOnlyDictionary<string, string> defined)
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
            "metadata.labels" => string.Join(',', (metadata?["labels"] as JsonObject ?? []).OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => $"{l.Key}={l.Value}")),
            _ => null,
        } ?? "";
    }

    /// <summary>Kubernetes' expansion of <c>$(NAME)</c> in env values, commands and args: defined names are replaced, <c>$$</c> is <c>$</c>.</summary>
    public static string Expand(string text, IReadOnlyDictionary<string, string> defined)
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
    public static (string? Path, string? Failure, int ExitCode) LookPath(string command, string path, string workingDirectory)
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
}

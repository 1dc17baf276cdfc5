using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Meshgate.ControlPlane.Api;
using Meshgate.Core.Resources;

namespace Meshgate.Commands;

/// <summary>
/// <c>meshgate logs POD | -l SELECTOR [-n NS] [-c CONTAINER] [--tail N] [-f]</c>, as <c>kubectl logs</c>: what a
/// container wrote to its standard output and error (a proxy's: its access log and its own messages). Without
/// <c>-c</c> it is the pod's default container (its <c>kubectl.kubernetes.io/default-container</c> annotation, else the
/// first, said on stderr as kubectl says it). With a selector the default is the last 10 lines of each pod, as kubectl.
/// </summary>
public static class LogsCommand
{
    private const int SelectorDefaultTail = 10;

    public static Command Create(CliContext cli)
    {
        var pod = new Argument<string?>("pod") { Arity = ArgumentArity.ZeroOrOne, Description = "Pod name (or pod/NAME); or use -l" };
        var ns = CommonOptions.Namespace();
        var selector = new Option<string?>("--selector", "-l") { Description = "Label selector, e.g. istio=egressgateway" };
        var container = new Option<string?>("--container", "-c") { Description = "Container (default: the pod's default container, else its first)" };
        var tail = new Option<int?>("--tail") { Description = "Lines of recent log to show (default: all, or 10 with -l)" };
        var follow = new Option<bool>("--follow", "-f") { Description = "Keep printing new lines (one pod only)" };
        var prefix = new Option<bool>("--prefix") { Description = "Start each line with [pod/NAME/CONTAINER]" };
        var command = new Command("logs", "Print a container's log (a proxy's access log included), as kubectl logs") { pod, ns, selector, container, tail, follow, prefix };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var podName = parse.GetValue(pod);
            var labelSelector = parse.GetValue(selector);
            if (podName is null == labelSelector is null)
            {
                throw new CliException("error: give a pod name or -l SELECTOR (one of them), e.g. 'meshgate logs -l istio=egressgateway -n istio-system'");
            }

            var namespaceName = parse.GetValue(ns) ?? "default";
            using var client = new ApiClient(ApiTarget.Resolve(parse));
            IReadOnlyList<JsonNode> pods;
            if (podName is not null)
            {
                var name = podName.StartsWith("pod/", StringComparison.Ordinal) ? podName[4..] : podName;
                pods = [await client.GetAsync(ResourcePaths.For(ResourceTypes.Pod, namespaceName, name), cancellationToken) ?? new JsonObject { ["metadata"] = new JsonObject { ["name"] = name } }];
            }
            else
            {
                var list = await client.GetAsync(ResourcePaths.For(ResourceTypes.Pod, namespaceName) + "?labelSelector=" + Uri.EscapeDataString(labelSelector!), cancellationToken);
                pods = (list?["items"] as JsonArray ?? []).OfType<JsonNode>().ToList();
                if (pods.Count == 0)
                {
                    await cli.Error.WriteLineAsync($"No resources found in {namespaceName} namespace.");
                    return 0;
                }
            }

            var lines = parse.GetValue(tail) ?? (labelSelector is null ? -1 : SelectorDefaultTail);
            var followLog = parse.GetValue(follow);
            var names = pods.Select(p => p["metadata"]?["name"]?.ToString() ?? "").ToList();
            if (followLog && pods.Count > 1)
            {
                throw new CliException($"error: -f follows one pod; the selector matches {pods.Count} ({string.Join(", ", names)})");
            }

            for (var i = 0; i < pods.Count; i++)
            {
                var name = names[i];
                var query = new List<string>();
                var containerName = parse.GetValue(container);
                if (containerName is null && PodContainers.Default(pods[i]) is { } choice)
                {
                    if (choice.Notice is not null)
                    {
                        await cli.Error.WriteLineAsync(choice.Notice);
                    }

                    containerName = choice.Name;
                }

                if (containerName is not null)
                {
                    query.Add("container=" + Uri.EscapeDataString(containerName));
                }

                if (lines >= 0)
                {
                    query.Add("tailLines=" + lines.ToString(CultureInfo.InvariantCulture));
                }

                if (followLog)
                {
                    query.Add("follow=true");
                }

                var path = ResourcePaths.For(ResourceTypes.Pod, namespaceName, name) + "/log" + (query.Count > 0 ? "?" + string.Join('&', query) : "");
                if (followLog)
                {
                    try
                    {
                        await client.StreamTextAsync(path, cli.Out, cancellationToken);
                    }
                    catch (OperationCanceledException)
                    {
                    }

                    return 0;
                }

                var text = await client.GetTextAsync(path, cancellationToken);
                if (parse.GetValue(prefix))
                {
                    var tag = $"[pod/{name}/{containerName ?? PodLogApi.ProxyContainer}] ";
                    text = string.Concat(text.Split('\n').Where(l => l.Length > 0).Select(l => tag + l + "\n"));
                }

                await cli.Out.WriteAsync(text);
            }

            return 0;
        });
        return command;
    }
}

using Meshgate.ControlPlane.Store;
using Meshgate.Core.Resources;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Meshgate.ControlPlane.Api;

/// <summary>
/// Kubernetes' pod log path, <c>GET /api/v1/namespaces/NS/pods/NAME/log?container=C&amp;tailLines=N&amp;follow=true</c>:
/// what a container wrote to its standard output and error, from <c>DATA/logs/NS/NAME/C.log</c> (see
/// <see cref="ContainerPathFor"/>, where the cluster's kubelet writes it). Without <c>container</c> it is the pod's
/// only container, else the one its <c>kubectl.kubernetes.io/default-container</c> annotation names, else the first.
/// A proxy that <c>meshgate up</c> supervises (a pod with no per-container log) writes <c>DATA/logs/NS/NAME.log</c>
/// (<see cref="PathFor"/>), served as its <c>istio-proxy</c> container's.
/// </summary>
public static class PodLogApi
{
    /// <summary>The proxy's container, whose log a proxy that <c>meshgate up</c> supervises writes to <see cref="PathFor"/>.</summary>
    public const string ProxyContainer = "istio-proxy";

    private const int MaxTailLines = 100_000;

    /// <summary>The log of a proxy that <c>meshgate up</c> supervises: <c>DATA/logs/NS/POD.log</c>, its istio-proxy container's.</summary>
    public static string PathFor(string logsDirectory, string ns, string pod) => Path.Combine(logsDirectory, ns, pod + ".log");

    /// <summary>One container's log: <c>DATA/logs/NS/POD/CONTAINER.log</c>.</summary>
    public static string ContainerPathFor(string logsDirectory, string ns, string pod, string container) =>
        Path.Combine(logsDirectory, ns, pod, container + ".log");

    public static void Map(IEndpointRouteBuilder app, ResourceStore store, string logsDirectory)
    {
        app.MapGet("/api/v1/namespaces/{ns}/pods/{name}/log", (string ns, string name, string? container, int? tailLines, bool? follow, HttpContext context) =>
            ReadAsync(store, logsDirectory, ns, name, container, tailLines, follow ?? false, context));
    }

    private static async Task ReadAsync(ResourceStore store, string logsDirectory, string ns, string name, string? container, int? tailLines, bool follow, HttpContext context)
    {
        var pod = store.Current.Get(new ObjectKey(ResourceTypes.Pod, ns, name));
        if (pod is null)
        {
            await WriteStatusAsync(context, new Status($"pods \"{name}\" not found", "NotFound", 404)).ConfigureAwait(false);
            return;
        }

        // A pod whose spec lists no containers is a proxy's from before containers were listed: istio-proxy.
        var listsContainers = PodContainers.Containers(pod.Json).Count > 0;
        if (container is { Length: > 0 } && !PodContainers.Has(pod.Json, container) && (listsContainers || container != ProxyContainer))
        {
            await WriteStatusAsync(context, new Status($"container {container} is not valid for pod {name}", "BadRequest", 400)).ConfigureAwait(false);
            return;
        }

        if (container is not { Length: > 0 })
        {
            container = PodContainers.Default(pod.Json)?.Name ?? ProxyContainer;
        }

        if (tailLines is < 0 or > MaxTailLines)
        {
            tailLines = null;
        }

        var paths = container == ProxyContainer
            ? [ContainerPathFor(logsDirectory, ns, name, container), PathFor(logsDirectory, ns, name)]
            : new[] { ContainerPathFor(logsDirectory, ns, name, container) };
        context.Response.ContentType = "text/plain; charset=utf-8";
        var path = paths.FirstOrDefault(File.Exists);
        if (path is null && follow)
        {
            // A container that has not started yet has no log: wait for it, as kubectl logs -f waits.
            await context.Response.Body.FlushAsync(context.RequestAborted).ConfigureAwait(false);
            using var wait = new PeriodicTimer(TimeSpan.FromMilliseconds(200));
            try
            {
                while (path is null && await wait.WaitForNextTickAsync(context.RequestAborted).ConfigureAwait(false))
                {
                    if (store.Current.Get(pod.Key) is null)
                    {
                        return;
                    }

                    path = paths.FirstOrDefault(File.Exists);
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }

        if (path is null)
        {
            return;
        }

        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        var start = tailLines is { } n ? await TailStartAsync(file, n, context.RequestAborted).ConfigureAwait(false) : 0;
        file.Position = start;
        await file.CopyToAsync(context.Response.Body, context.RequestAborted).ConfigureAwait(false);
        if (!follow)
        {
            return;
        }

        // kubectl logs -f: send what is appended until the client goes away.
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(200));
        try
        {
            while (await timer.WaitForNextTickAsync(context.RequestAborted).ConfigureAwait(false))
            {
                if (store.Current.Get(pod.Key) is null)
                {
                    // The pod was deleted: its log ends, as kubectl logs -f ends.
                    return;
                }

                if (file.Length < file.Position)
                {
                    // Truncated (the container started again): follow the new content from its start.
                    file.Position = 0;
                }

                if (file.Length > file.Position)
                {
                    await file.CopyToAsync(context.Response.Body, context.RequestAborted).ConfigureAwait(false);
                    await context.Response.Body.FlushAsync(context.RequestAborted).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>The offset of the last <paramref name="lines"/> lines, read backwards in blocks.</summary>
    internal static async Task<long> TailStartAsync(Stream file, int lines, CancellationToken cancellationToken)
    {
        if (lines == 0)
        {
            return file.Length;
        }

        var buffer = new byte[8192];
        var position = file.Length;
        var newlines = 0;

        // A final newline ends the last line; it does not start another.
        if (position > 0)
        {
            file.Position = position - 1;
            if (file.ReadByte() == '\n')
            {
                position--;
            }
        }

        while (position > 0)
        {
            var size = (int)Math.Min(buffer.Length, position);
            position -= size;
            file.Position = position;
            await file.ReadExactlyAsync(buffer.AsMemory(0, size), cancellationToken).ConfigureAwait(false);
            for (var i = size - 1; i >= 0; i--)
            {
                if (buffer[i] == '\n' && ++newlines == lines)
                {
                    return position + i + 1;
                }
            }
        }

        return 0;
    }

    private static async Task WriteStatusAsync(HttpContext context, Status status)
    {
        context.Response.StatusCode = status.Code;
        await context.Response.WriteAsJsonAsync(status, ApiJson.Options).ConfigureAwait(false);
    }
}

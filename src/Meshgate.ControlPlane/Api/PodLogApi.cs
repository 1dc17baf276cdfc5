using Meshgate.ControlPlane.Store;
using Meshgate.Core.Resources;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Meshgate.ControlPlane.Api;

/// <summary>
/// Kubernetes' pod log path, <c>GET /api/v1/namespaces/NS/pods/NAME/log?container=istio-proxy&amp;tailLines=N&amp;follow=true</c>:
/// what a supervised proxy wrote to its standard output and error (its access log included), from
/// <c>DATA/logs/NS/NAME.log</c> (see <see cref="PathFor"/>).
/// </summary>
public static class PodLogApi
{
    /// <summary>The one container whose log Meshgate keeps, as in <c>kubectl logs ... -c istio-proxy</c>.</summary>
    public const string ProxyContainer = "istio-proxy";

    private const int MaxTailLines = 100_000;

    public static string PathFor(string logsDirectory, string ns, string pod) => Path.Combine(logsDirectory, ns, pod + ".log");

    public static void Map(IEndpointRouteBuilder app, ResourceStore store, string logsDirectory)
    {
        app.MapGet("/api/v1/namespaces/{ns}/pods/{name}/log", (string ns, string name, string? container, int? tailLines, bool? follow, HttpContext context) =>
            ReadAsync(store, logsDirectory, ns, name, container, tailLines, follow ?? false, context));
    }

    private static async Task ReadAsync(ResourceStore store, string logsDirectory, string ns, string name, string? container, int? tailLines, bool follow, HttpContext context)
    {
        if (store.Current.Get(new ObjectKey(ResourceTypes.Pod, ns, name)) is null)
        {
            await WriteStatusAsync(context, new Status($"pods \"{name}\" not found", "NotFound", 404)).ConfigureAwait(false);
            return;
        }

        if (container is { Length: > 0 } && container != ProxyContainer)
        {
            await WriteStatusAsync(context, new Status(
                $"container {container} is not valid for pod {name}: Meshgate keeps the log of the {ProxyContainer} container only (the proxy); use -c {ProxyContainer} or leave -c out",
                "BadRequest",
                400)).ConfigureAwait(false);
            return;
        }

        if (tailLines is < 0 or > MaxTailLines)
        {
            tailLines = null;
        }

        var path = PathFor(logsDirectory, ns, name);
        context.Response.ContentType = "text/plain; charset=utf-8";
        if (!File.Exists(path))
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

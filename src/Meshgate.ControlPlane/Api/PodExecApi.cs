using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;
using Meshgate.ControlPlane.Store;
using Meshgate.Core.Resources;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Meshgate.ControlPlane.Api;

/// <summary>
/// <c>pods/exec</c> for the real kubectl: <c>GET /api/v1/namespaces/NS/pods/NAME/exec?command=...&amp;container=C&amp;stdin=true&amp;stdout=true&amp;stderr=true&amp;tty=false</c>
/// upgraded to a WebSocket with the subprotocol <c>v5.channel.k8s.io</c> (or <c>v4.channel.k8s.io</c>): binary
/// messages whose first byte is the channel (0 stdin, 1 stdout, 2 stderr, 3 error, 4 resize, 255 close a channel). The
/// command runs as <c>ip netns exec NETNS COMMAND...</c> in the pod's network namespace with the container's
/// environment (<see cref="PodExec"/>), so it needs the local cluster (<c>meshgate up --cluster</c>) and a control
/// plane running as root. The last message is the exit status on channel 3: a <c>meta/v1 Status</c>, Success or
/// Failure with reason <c>NonZeroExitCode</c> and the code as its <c>ExitCode</c> cause, which kubectl exits with.
/// Errors before the upgrade are answered as kube-apiserver and the kubelet answer them (a Status, or the kubelet's
/// plain text, which kubectl prints as <c>error: unable to upgrade connection: ...</c>), to the WebSocket request and
/// to the SPDY request kubectl falls back to; SPDY itself is not served.
/// </summary>
public static class PodExecApi
{
    private static readonly string[] Protocols = ["v5.channel.k8s.io", "v4.channel.k8s.io"];

    private const byte Stdin = 0;
    private const byte Stdout = 1;
    private const byte Stderr = 2;
    private const byte Error = 3;
    private const byte Close = 255;

    public static void Map(IEndpointRouteBuilder app, ResourceStore store) => Map(app, store, () => Environment.IsPrivilegedProcess);

    /// <param name="isRoot">Whether this process may enter a network namespace (tests decide).</param>
    public static void Map(IEndpointRouteBuilder app, ResourceStore store, Func<bool> isRoot)
    {
        app.MapMethods("/api/v1/namespaces/{ns}/pods/{name}/exec", ["GET", "POST"], (string ns, string name, HttpContext context) =>
            ExecAsync(store, isRoot, ns, name, context));
    }

    private static async Task ExecAsync(ResourceStore store, Func<bool> isRoot, string ns, string name, HttpContext context)
    {
        var query = context.Request.Query;
        var command = query["command"].OfType<string>().ToList();
        var pod = store.Current.Get(new ObjectKey(ResourceTypes.Pod, ns, name));
        if (pod is null)
        {
            await WriteStatusAsync(context, new Status($"pods \"{name}\" not found", "NotFound", 404, new StatusDetails(Name: name, Kind: "pods"))).ConfigureAwait(false);
            return;
        }

        if (command.Count == 0)
        {
            await WriteStatusAsync(context, new Status("you must specify at least one command for the container", "BadRequest", 400)).ConfigureAwait(false);
            return;
        }

        PodExec.Plan plan;
        try
        {
            plan = PodExec.PlanFor(pod.Json, query["container"].ToString() is { Length: > 0 } c ? c : null, Environment.GetEnvironmentVariable("PATH"));
        }
        catch (PodExecException e) when (e.Message.StartsWith(UpgradePrefix, StringComparison.Ordinal))
        {
            await WriteUpgradeFailureAsync(context, e.Message[UpgradePrefix.Length..]).ConfigureAwait(false);
            return;
        }
        catch (PodExecException e)
        {
            await WriteStatusAsync(context, new Status(e.Message, "BadRequest", 400)).ConfigureAwait(false);
            return;
        }

        if (!isRoot())
        {
            await WriteStatusAsync(context, new Status(
                "Internal error occurred: pods/exec runs the command in the pod's network namespace, which needs the control plane to run as root (sudo meshgate up --cluster)",
                "InternalError", 500)).ConfigureAwait(false);
            return;
        }

        if (!File.Exists(Path.Combine(PodExec.NetnsDirectory, plan.Netns)))
        {
            await WriteUpgradeFailureAsync(context, $"the network namespace \"{plan.Netns}\" of pod {name} is gone").ConfigureAwait(false);
            return;
        }

        var protocol = context.WebSockets.WebSocketRequestedProtocols.FirstOrDefault(p => Protocols.Contains(p, StringComparer.Ordinal));
        if (!context.WebSockets.IsWebSocketRequest || protocol is null)
        {
            await WriteStatusAsync(context, new Status(
                $"pods/exec is served over WebSocket with the subprotocol {string.Join(" or ", Protocols)} (kubectl 1.30 or later); SPDY is not served",
                "BadRequest", 400)).ConfigureAwait(false);
            return;
        }

        var ip = PodExec.LookPath("ip", (Environment.GetEnvironmentVariable("PATH") ?? "") + ":" + PodExec.DefaultPath, "/").Path;
        if (ip is null)
        {
            await WriteUpgradeFailureAsync(context, "the control plane needs the 'ip' command (iproute2) to enter the pod's network namespace").ConfigureAwait(false);
            return;
        }

        using var socket = await context.WebSockets.AcceptWebSocketAsync(protocol).ConfigureAwait(false);
        var tty = Flag(query, "tty");
        var session = new Session(socket, Flag(query, "stdin"), Flag(query, "stdout"), Flag(query, "stderr") && !tty);
        await session.RunAsync(ip, plan, command, tty, context.RequestAborted).ConfigureAwait(false);
    }

    private const string UpgradePrefix = "unable to upgrade connection: ";

    private static bool Flag(IQueryCollection query, string name) =>
        query[name].ToString() is "true" or "1" or "True";

    /// <summary>The kubelet's answer to an exec it cannot start: plain text, which kubectl prints as
    /// <c>error: unable to upgrade connection: TEXT</c>.</summary>
    private static async Task WriteUpgradeFailureAsync(HttpContext context, string text)
    {
        context.Response.StatusCode = 400;
        context.Response.ContentType = "text/plain; charset=utf-8";
        await context.Response.WriteAsync(text).ConfigureAwait(false);
    }

    private static async Task WriteStatusAsync(HttpContext context, Status status)
    {
        context.Response.StatusCode = status.Code;
        await context.Response.WriteAsJsonAsync(status, ApiJson.Options).ConfigureAwait(false);
    }

    /// <summary>One exec: the process and the socket, with one writer at a time on the socket.</summary>
    private sealed class Session(WebSocket socket, bool stdin, bool stdout, bool stderr)
    {
        private readonly SemaphoreSlim _send = new(1, 1);

        public async Task RunAsync(string ip, PodExec.Plan plan, List<string> command, bool tty, CancellationToken aborted)
        {
            var (_, failure, _) = PodExec.LookPath(command[0], plan.Environment.GetValueOrDefault("PATH") ?? "", plan.WorkingDirectory);
            if (failure is not null)
            {
                await FinishAsync(Failure($"Internal error occurred: error executing command in container: {failure}", "InternalError", null), aborted, awaitClose: true).ConfigureAwait(false);
                return;
            }

            var info = new ProcessStartInfo(ip)
            {
                UseShellExecute = false,
                WorkingDirectory = plan.WorkingDirectory,
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            foreach (var arg in (string[])["netns", "exec", plan.Netns, .. command])
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
                info.Environment["TERM"] = "xterm";
            }

            using var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {ip}");
            if (!stdin)
            {
                process.StandardInput.Close();
            }

            using var stop = CancellationTokenSource.CreateLinkedTokenSource(aborted);
            var reading = ReadAsync(process, stop.Token);
            var output = PumpAsync(process.StandardOutput.BaseStream, stdout ? Stdout : null, stop.Token);
            var errors = PumpAsync(process.StandardError.BaseStream, stderr ? Stderr : tty && stdout ? Stdout : null, stop.Token);
            var exited = process.WaitForExitAsync(CancellationToken.None);
            if (await Task.WhenAny(exited, reading).ConfigureAwait(false) == reading && !exited.IsCompleted && socket.State != WebSocketState.Open && socket.State != WebSocketState.CloseSent)
            {
                // The client went away: the command goes too, as the kubelet ends an exec whose stream closed.
                Kill(process);
            }

            await exited.ConfigureAwait(false);
            try
            {
                await Task.WhenAll(output, errors).ConfigureAwait(false);
            }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException)
            {
                return;
            }

            var code = process.ExitCode;
            var status = code == 0
                ? new JsonObject { ["kind"] = "Status", ["apiVersion"] = "v1", ["metadata"] = new JsonObject(), ["status"] = "Success" }
                : Failure($"command terminated with non-zero exit code: error executing command [{string.Join(' ', command)}], exit code {code}", "NonZeroExitCode", code);
            await FinishAsync(status, aborted).ConfigureAwait(false);

            // The client answers the close when it has read everything; cancelling the read earlier would reset the
            // connection under it (kubectl: "error reading from error stream").
            try
            {
                await reading.WaitAsync(TimeSpan.FromSeconds(10), aborted).ConfigureAwait(false);
            }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException or TimeoutException)
            {
                await stop.CancelAsync().ConfigureAwait(false);
            }
        }

        private static JsonObject Failure(string message, string reason, int? exitCode)
        {
            var status = new JsonObject
            {
                ["kind"] = "Status",
                ["apiVersion"] = "v1",
                ["metadata"] = new JsonObject(),
                ["status"] = "Failure",
                ["message"] = message,
                ["reason"] = reason,
            };
            if (exitCode is { } code)
            {
                status["details"] = new JsonObject
                {
                    ["causes"] = new JsonArray(new JsonObject { ["reason"] = "ExitCode", ["message"] = code.ToString(System.Globalization.CultureInfo.InvariantCulture) }),
                };
            }
            else
            {
                status["code"] = 500;
            }

            return status;
        }

        /// <summary>The status on the error channel, then the close: kubectl reads the error channel to its end.</summary>
        /// <param name="awaitClose">Whether to wait here for the client's close (when nothing else reads the socket).</param>
        private async Task FinishAsync(JsonObject status, CancellationToken aborted, bool awaitClose = false)
        {
            try
            {
                await SendAsync(Error, Encoding.UTF8.GetBytes(status.ToJsonString()), aborted).ConfigureAwait(false);
                using var grace = CancellationTokenSource.CreateLinkedTokenSource(aborted);
                grace.CancelAfter(TimeSpan.FromSeconds(5));
                await (awaitClose
                    ? socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, grace.Token)
                    : socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, grace.Token)).ConfigureAwait(false);
            }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException)
            {
            }
        }

        private async Task SendAsync(byte channel, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
        {
            var frame = new byte[data.Length + 1];
            frame[0] = channel;
            data.CopyTo(frame.AsMemory(1));
            await _send.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                await socket.SendAsync(frame, WebSocketMessageType.Binary, endOfMessage: true, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                _send.Release();
            }
        }

        /// <summary>The process's output to its channel (or nowhere, when the client did not ask for it), to its end.</summary>
        private async Task PumpAsync(Stream from, byte? channel, CancellationToken cancellationToken)
        {
            var buffer = new byte[32 * 1024];
            int read;
            while ((read = await from.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                if (channel is { } c)
                {
                    await SendAsync(c, buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                }
            }
        }

        /// <summary>The client's messages: stdin data, stdin's close (v5), resizes (ignored: no terminal), the close.</summary>
        private async Task ReadAsync(Process process, CancellationToken cancellationToken)
        {
            var buffer = new byte[32 * 1024];
            var message = new MemoryStream();
            var input = stdin ? process.StandardInput.BaseStream : null;
            try
            {
                while (socket.State is WebSocketState.Open or WebSocketState.CloseSent)
                {
                    var result = await socket.ReceiveAsync(buffer, cancellationToken).ConfigureAwait(false);
                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        break;
                    }

                    message.Write(buffer, 0, result.Count);
                    if (!result.EndOfMessage)
                    {
                        continue;
                    }

                    var data = message.ToArray();
                    message.SetLength(0);
                    if (data.Length == 0)
                    {
                        continue;
                    }

                    if (data[0] == Stdin && input is not null && data.Length > 1)
                    {
                        try
                        {
                            await input.WriteAsync(data.AsMemory(1), cancellationToken).ConfigureAwait(false);
                            await input.FlushAsync(cancellationToken).ConfigureAwait(false);
                        }
                        catch (IOException)
                        {
                            input = null; // the command stopped reading
                        }
                    }
                    else if (data[0] == Close && data.Length > 1 && data[1] == Stdin)
                    {
                        CloseInput(ref input);
                    }
                }
            }
            finally
            {
                CloseInput(ref input);
            }
        }

        private static void CloseInput(ref Stream? input)
        {
            try
            {
                input?.Close();
            }
            catch (IOException)
            {
            }

            input = null;
        }

        private static void Kill(Process process)
        {
            try
            {
                process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
            }
        }
    }
}

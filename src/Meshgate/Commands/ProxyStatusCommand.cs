using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Meshgate.Writers;

namespace Meshgate.Commands;

/// <summary>
/// <c>meshgate proxy-status</c>: every proxy the control plane knows, the configuration version it runs and whether it
/// is in sync (istioctl proxy-status), from <c>/debug/syncz</c>.
/// </summary>
public static class ProxyStatusCommand
{
    public static Command Create(CliContext cli)
    {
        var output = new Option<string?>("--output", "-o") { Description = "json, or a table by default" };
        output.AcceptOnlyFromAmong("json");
        var command = new Command("proxy-status", "Show each proxy's configuration version and whether it ACKed or NACKed it") { output };
        command.Aliases.Add("ps");
        command.SetAction(async (parse, cancellationToken) =>
        {
            using var api = new ApiClient(ApiTarget.Resolve(parse));
            var syncz = await api.GetAsync("/debug/syncz", cancellationToken) as JsonArray ?? [];
            if (parse.GetValue(output) == "json")
            {
                await cli.Out.WriteLineAsync(syncz.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
                return 0;
            }

            if (syncz.Count == 0)
            {
                await cli.Error.WriteLineAsync("No proxies connected to the control plane.");
                return 0;
            }

            var rows = syncz.OfType<JsonObject>().Select(p => (IReadOnlyList<string>)
            [
                $"{Text(p, "name")}.{Text(p, "namespace")}",
                Text(p, "role"),
                Text(p, "ackedVersion") is { Length: > 0 } acked ? acked : "-",
                Status(p),
                p["adminPort"] is JsonValue port ? "127.0.0.1:" + port.GetValue<int>().ToString(CultureInfo.InvariantCulture) : "-",
            ]).ToList();
            await cli.Out.WriteAsync(TableWriter.Write(["NAME", "ROLE", "VERSION", "STATUS", "ADMIN"], rows));
            return 0;
        });
        return command;
    }

    /// <summary>SYNCED, STALE (sent, not yet acknowledged), NACK: reason, DISCONNECTED, or NOT SENT.</summary>
    public static string Status(JsonObject proxy)
    {
        if (proxy["connected"]?.GetValue<bool>() != true)
        {
            return "DISCONNECTED";
        }

        if (Text(proxy, "nackError") is { Length: > 0 } nack)
        {
            return "NACK: " + nack.ReplaceLineEndings(" ");
        }

        var sent = Text(proxy, "sentVersion");
        return sent.Length == 0 ? "NOT SENT" : sent == Text(proxy, "ackedVersion") ? "SYNCED" : "STALE";
    }

    private static string Text(JsonObject o, string name) => o[name]?.GetValue<string>() ?? "";
}

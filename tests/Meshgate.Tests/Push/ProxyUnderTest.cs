using System.Net.Sockets;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Meshgate.Commands;
using Meshgate.Tests.EndToEnd;
using Xunit;

namespace Meshgate.Tests.Push;

/// <summary>Helpers for the discovery tests: a real <c>meshgate proxy</c> following a control plane, polling, the CLI.</summary>
internal static partial class ProxyUnderTest
{
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    /// <param name="caRootFile">The mesh root, to follow the control plane over TLS; null follows a plaintext port.</param>
    public static MeshgateProcess Start(int discoveryPort, string name, string ns, string labels, string role = "gateway", string? caRootFile = null) =>
        MeshgateProcess.Start(
        [
            "proxy", "--discovery-address", $"127.0.0.1:{discoveryPort}", .. caRootFile is null ? ["--discovery-plaintext"] : new[] { "--ca-root-file", caRootFile },
            "--role", role, "--name", name, "--namespace", ns,
            "--labels", labels, "--service-account", name + "-sa", "--ip", "127.0.0.1", "--admin-port", "0", "--status-port", "0",
        ]);

    /// <summary>The readiness port the proxy printed at startup.</summary>
    public static async Task<int> StatusPortAsync(MeshgateProcess proxy)
    {
        await proxy.WaitForOutputAsync("readiness on", Deadline);
        return int.Parse(ReadinessPattern().Match(proxy.Output).Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
    }

    public static async Task<int> ReadyStatusAsync(int statusPort)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        using var response = await http.GetAsync($"http://127.0.0.1:{statusPort}/healthz/ready");
        return (int)response.StatusCode;
    }

    public static async Task<JsonObject> ConfigDumpAsync(int adminPort)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        return JsonNode.Parse(await http.GetStringAsync($"http://127.0.0.1:{adminPort}/config_dump"))!.AsObject();
    }

    /// <summary>A plaintext test API (<c>UnauthenticatedPlaintextApiForTests</c>): no token, no certificate.</summary>
    public static ApiTarget Plain(Uri api) => new(api, null, null, "--server");

    public static Task<JsonArray> SynczAsync(Uri api) => SynczAsync(Plain(api));

    public static async Task<JsonArray> SynczAsync(ApiTarget api)
    {
        using var http = api.CreateHttpClient(TimeSpan.FromSeconds(5));
        return JsonNode.Parse(await http.GetStringAsync("/debug/syncz"))!.AsArray();
    }

    public static Task<JsonObject> WaitForSyncAsync(Uri api, string name, Func<JsonObject, bool> condition, Func<string>? context = null) =>
        WaitForSyncAsync(Plain(api), name, condition, context);

    /// <summary>Polls <c>/debug/syncz</c> until <paramref name="condition"/> holds for the proxy named <paramref name="name"/>.</summary>
    public static async Task<JsonObject> WaitForSyncAsync(ApiTarget api, string name, Func<JsonObject, bool> condition, Func<string>? context = null)
    {
        var deadline = DateTime.UtcNow + Deadline;
        JsonArray last = [];
        while (true)
        {
            try
            {
                last = await SynczAsync(api);
                if (last.OfType<JsonObject>().FirstOrDefault(p => p["name"]?.GetValue<string>() == name) is { } proxy && condition(proxy))
                {
                    return proxy;
                }
            }
            catch (HttpRequestException)
            {
                // the control plane is (re)starting
            }

            Assert.True(DateTime.UtcNow < deadline, $"proxy {name} did not reach the expected state; syncz: {last.ToJsonString()}\n{context?.Invoke()}");
            await Task.Delay(50);
        }
    }

    public static bool Synced(JsonObject p) =>
        p["connected"]?.GetValue<bool>() == true && p["sentVersion"] is { } sent && sent.GetValue<string>() == p["ackedVersion"]?.GetValue<string>();

    public static async Task<bool> AcceptsAsync(int port)
    {
        using var client = new TcpClient();
        try
        {
            await client.ConnectAsync(System.Net.IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
        {
            // Something listens: the test snapshots send connections to BlackHoleCluster, which may reset this one
            // before the connect is reported.
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    public static async Task WaitUntilAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + Deadline;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting until {what}");
            await Task.Delay(50);
        }
    }

    /// <summary>Runs the CLI in-process against the plaintext test API <paramref name="api"/>.</summary>
    public static Task<(int Code, string Out, string Error)> CliAsync(Uri api, params string[] args) => RunCliAsync([.. args, "--server", api.ToString()]);

    /// <summary>Runs the CLI in-process with the kubeconfig a control plane wrote.</summary>
    public static Task<(int Code, string Out, string Error)> CliAsync(string kubeconfig, params string[] args) => RunCliAsync([.. args, "--kubeconfig", kubeconfig]);

    private static async Task<(int Code, string Out, string Error)> RunCliAsync(string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await Meshgate.Cli.RunAsync(args, new CliContext(new StringReader(""), output, error));
        return (code, output.ToString(), error.ToString());
    }

    [GeneratedRegex(@"readiness on 127\.0\.0\.1:(\d+)")]
    private static partial Regex ReadinessPattern();
}

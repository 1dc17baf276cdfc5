using System.Net;
using System.Text.Json.Nodes;
using Meshgate.Commands;
using Meshgate.ControlPlane;
using Meshgate.Core.Resources;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace Meshgate.Tests.Commands;

/// <summary>
/// A real control plane (own store, own port, HTTPS with its admin token) and the CLI run in-process against it
/// through the kubeconfig the control plane writes.
/// </summary>
public sealed class CliHarness : IAsyncLifetime
{
    private readonly string _data = Directory.CreateTempSubdirectory("meshgate-cli-").FullName;

    public ControlPlaneServer Server { get; private set; } = null!;

    public string DataDirectory => _data;

    /// <summary><c>DATA/kubeconfig</c>: the API's address, the mesh root and the admin token.</summary>
    public string KubeconfigPath => Server.KubeconfigPath!;

    /// <summary>An HTTP client for the API, as the CLI makes it from the kubeconfig (trust and token).</summary>
    public HttpClient CreateHttpClient() => ApiTarget.FromKubeconfig(KubeconfigPath).CreateHttpClient(TimeSpan.FromSeconds(100));

    public async Task InitializeAsync()
    {
        Server = ControlPlaneServer.Create(
            new ControlPlaneOptions { DataDirectory = _data, ApiEndpoint = new IPEndPoint(IPAddress.Loopback, 0), DiscoveryEndpoint = new IPEndPoint(IPAddress.Loopback, 0) },
            NullLoggerFactory.Instance);
        await Server.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await Server.DisposeAsync();
        Directory.Delete(_data, recursive: true);
    }

    public sealed record Result(int ExitCode, string Out, string Error)
    {
        public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Out}--- stderr\n{Error}";
    }

    /// <summary>Runs <c>meshgate ARGS</c> with <paramref name="stdin"/> as standard input.</summary>
    public async Task<Result> RunWithStdinAsync(string stdin, params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var context = new CliContext(new StringReader(stdin), output, error);
        // Before a "--" (exec's command follows it), else last.
        var dash = Array.IndexOf(args, "--");
        var at = dash < 0 ? args.Length : dash;
        var code = await Meshgate.Cli.RunAsync([.. args[..at], "--kubeconfig", KubeconfigPath, .. args[at..]], context);
        return new Result(code, output.ToString(), error.ToString());
    }

    public Task<Result> RunAsync(params string[] args) => RunWithStdinAsync("", args);

    /// <summary>Stores a Pod with its status, as the cluster's kubelet writes it (apply leaves status to the server).</summary>
    public void StorePod(string json) => Server.Store.ApplyWithStatus(new Resource(ResourceTypes.Pod, (JsonObject)JsonNode.Parse(json)!));

    /// <summary>Runs and asserts success, returning stdout.</summary>
    public async Task<string> OkAsync(params string[] args)
    {
        var result = await RunWithStdinAsync("", args);
        Assert.True(result.ExitCode == 0, result.ToString());
        return result.Out;
    }

    public async Task<string> OkStdinAsync(string stdin, params string[] args)
    {
        var result = await RunWithStdinAsync(stdin, args);
        Assert.True(result.ExitCode == 0, result.ToString());
        return result.Out;
    }
}

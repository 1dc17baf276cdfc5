using Meshgate.Commands;
using Xunit;
using static Meshgate.Tests.Push.ProxyUnderTest;

namespace Meshgate.Tests.EndToEnd;

/// <summary>
/// <c>meshgate controlplane</c> and <c>meshgate proxy</c> as real processes: the proxy registers and ACKs, keeps
/// serving while the control plane is gone, and resyncs with the restarted one (same data directory and ports).
/// </summary>
public sealed class DiscoveryRestartTests : IDisposable
{
    private readonly string _data = Directory.CreateTempSubdirectory("meshgate-restart-").FullName;
    private readonly int _apiPort = MeshgateProcess.FreePort();
    private readonly int _discoveryPort = MeshgateProcess.FreePort();

    public void Dispose() => Directory.Delete(_data, recursive: true);

    /// <summary>The kubeconfig the control plane writes at every start (its address, root and admin token).</summary>
    private string Kubeconfig => Path.Combine(_data, "kubeconfig");

    private ApiTarget Api => ApiTarget.FromKubeconfig(Kubeconfig);

    private async Task<MeshgateProcess> StartControlPlaneAsync()
    {
        var process = MeshgateProcess.Start("controlplane", "--data", _data, "--listen", $"127.0.0.1:{_apiPort}", "--discovery-port", _discoveryPort.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await process.WaitForOutputAsync("control plane ready", Deadline);
        Assert.Contains($"discovery and CA (gRPC over TLS) on 127.0.0.1:{_discoveryPort}", process.Output, StringComparison.Ordinal);
        return process;
    }

    [Fact]
    public async Task ControlPlaneRestart_ProxyKeepsServingAndResyncs()
    {
        var controlPlane = await StartControlPlaneAsync();
        await using var proxy = Start(_discoveryPort, "sleep", "default", "app=sleep", role: "sidecar", caRootFile: Path.Combine(_data, "ca", "root-cert.pem"));
        var statusPort = await StatusPortAsync(proxy);
        FirstSync first;
        await using (controlPlane)
        {
            var synced = await WaitForSyncAsync(Api, "sleep", Synced, () => proxy.Output + controlPlane.Output);
            first = new FirstSync(synced["ackedVersion"]!.GetValue<string>(), synced["adminPort"]!.GetValue<int>());
            Assert.Equal(200, await ReadyStatusAsync(statusPort));
            Assert.Equal("sidecar", synced["role"]!.GetValue<string>());
            var pods = await CliAsync(Kubeconfig, "get", "pods");
            Assert.Contains("sleep", pods.Out, StringComparison.Ordinal);
            var status = await CliAsync(Kubeconfig, "proxy-status");
            Assert.Contains("sleep.default", status.Out, StringComparison.Ordinal);
            Assert.Contains("SYNCED", status.Out, StringComparison.Ordinal);
            Assert.Contains($"127.0.0.1:{first.AdminPort}", status.Out, StringComparison.Ordinal);
        }

        // The control plane is gone (killed): the proxy says so and keeps serving its snapshot.
        await proxy.WaitForOutputAsync("discovery: disconnected", Deadline);
        Assert.Equal(200, await ReadyStatusAsync(statusPort));
        Assert.Equal(first.Version, (await ConfigDumpAsync(first.AdminPort))["version"]!.GetValue<string>());

        await using var restarted = await StartControlPlaneAsync();
        var resynced = await WaitForSyncAsync(Api, "sleep", p => Synced(p) && p["ackedAt"] is not null, () => proxy.Output + restarted.Output);
        Assert.Equal(first.AdminPort, resynced["adminPort"]!.GetValue<int>());
        Assert.Equal(resynced["ackedVersion"]!.GetValue<string>(), (await ConfigDumpAsync(first.AdminPort))["version"]!.GetValue<string>());
        Assert.Equal(2, proxy.Output.Split('\n').Count(l => l.Contains("discovery: connected", StringComparison.Ordinal)));
        Assert.Equal(200, await ReadyStatusAsync(statusPort));
        Assert.Contains("SYNCED", (await CliAsync(Kubeconfig, "proxy-status")).Out, StringComparison.Ordinal);
    }

    private sealed record FirstSync(string Version, int AdminPort);
}

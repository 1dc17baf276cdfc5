using System.Diagnostics;
using Meshgate.Tests.Capture;
using Meshgate.Tests.EndToEnd;
using Xunit;

namespace Meshgate.Tests.Faults;

/// <summary>
/// The store's filesystem fills up, then is read-only (a 24 MiB tmpfs the test mounts as the control plane's data
/// directory; root). An apply on the full store fails with an error that names the cause and a non-zero exit; nothing
/// of it is stored, the previous configuration is still stored and served, and the control plane keeps running; once
/// there is room again the same apply works, without a restart. A control plane (re)started on the read-only store
/// serves what is stored and refuses applies the same way; once the filesystem is writable again, applies work.
/// </summary>
public sealed class StoreFilesystemTests : IAsyncLifetime
{
    private readonly string _mount = Directory.CreateTempSubdirectory("meshgate-faults-store-").FullName;
    private bool _mounted;
    private FaultMesh? _mesh;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_mesh is not null)
        {
            await _mesh.DisposeAsync();
        }

        if (_mounted)
        {
            await RunAsync("umount", _mount);
        }

        Directory.Delete(_mount, recursive: true);
    }

    [RootFact]
    public async Task StoreFullThenReadOnly_FailsNamingTheCause_NothingLost_ThenWorksAgain()
    {
        await RunAsync("mount", "-t", "tmpfs", "-o", "size=24m,mode=0700", "tmpfs", _mount);
        _mounted = true;
        _mesh = await FaultMesh.StartAsync("127.0.0.170", "127.0.0.171", "127.0.0.171", dataDirectory: _mount);
        await _mesh.ApplyAsync(ServiceEntries("before", 1));

        // Full: a filler file takes every free block, then an apply of 500 objects (~0.4 MiB) cannot be written.
        var filler = Path.Combine(_mount, "filler");
        await RunAsync("bash", "-c", $"dd if=/dev/zero of={filler} bs=64k 2>/dev/null; test -s {filler}");
        var (code, output) = await ApplyAsync(ServiceEntries("full", 500));
        Assert.True(code != 0, $"apply on a full store exited 0: {output}");
        Assert.Contains("no space left on device", output, StringComparison.OrdinalIgnoreCase);
        await AssertNothingLostAsync(expectBefore: 1, absent: "full-0");
        Assert.Equal(0, await CountAsync("full-"));

        File.Delete(filler);
        (code, output) = await ApplyAsync(ServiceEntries("full", 500));
        Assert.True(code == 0, $"apply once the store has room again exited {code}: {output}");
        Assert.Equal(500, await CountAsync("full-"));

        // Read-only: SQLite keeps the store open for writing, so Linux refuses to remount its filesystem read-only under
        // a running control plane (EBUSY); what happens is a control plane (re)started on a store that is read-only by
        // then. It starts and serves what is stored (the proxies resync), and an apply fails naming the cause.
        await _mesh.ControlPlane.KillAsync();
        await RunAsync("mount", "-o", "remount,ro", _mount);
        await _mesh.RestartControlPlaneAsync();
        await _mesh.WaitSyncedAsync();
        (code, output) = await ApplyAsync(ServiceEntries("read-only", 1));
        Assert.True(code != 0, $"apply on a read-only store exited 0: {output}");
        Assert.Contains("read-only file system", output, StringComparison.OrdinalIgnoreCase);
        await AssertNothingLostAsync(expectBefore: 1, absent: "read-only-0");
        Assert.Equal(500, await CountAsync("full-"));

        // Writable again: the same apply works without a restart, and everything is still there after one.
        await RunAsync("mount", "-o", "remount,rw", _mount);
        (code, output) = await ApplyAsync(ServiceEntries("read-only", 1));
        Assert.True(code == 0, $"apply once the store is writable again exited {code}: {output}");
        await _mesh.ControlPlane.KillAsync();
        await _mesh.RestartControlPlaneAsync();
        Assert.Equal(1, await CountAsync("before-"));
        Assert.Equal(500, await CountAsync("full-"));
        Assert.Equal(1, await CountAsync("read-only-"));
        await _mesh.WaitSyncedAsync();
        Assert.True((await _mesh.RequestAsync()).Ok, _mesh.Output);
    }

    /// <summary>The control plane runs, the earlier objects are stored, the refused one is not, and traffic flows.</summary>
    private async Task AssertNothingLostAsync(int expectBefore, string absent)
    {
        Assert.True(_mesh!.ControlPlane.ExitCode is null, $"the control plane exited:\n{_mesh.ControlPlane.Output}");
        Assert.Equal(expectBefore, await CountAsync("before-"));
        var (code, output) = await MeshgateProcess.RunAsync("", "get", "serviceentry", absent, "-n", "default", "--kubeconfig", _mesh.Kubeconfig);
        Assert.True(code != 0 && output.Contains("NotFound", StringComparison.Ordinal), $"get {absent}: exit {code}: {output}");
        var result = await _mesh.RequestAsync();
        Assert.True(result.Ok, $"request with the store failing: {result}\n{_mesh.Output}");
    }

    private async Task<int> CountAsync(string prefix)
    {
        var (code, output) = await MeshgateProcess.RunAsync("", "get", "serviceentry", "-n", "default", "-o", "name", "--kubeconfig", _mesh!.Kubeconfig);
        Assert.True(code == 0, output);
        return output.Split('\n').Count(l => l.Contains("/" + prefix, StringComparison.Ordinal));
    }

    private Task<(int ExitCode, string Output)> ApplyAsync(string yaml) =>
        MeshgateProcess.RunAsync(yaml, "apply", "-f", "-", "--kubeconfig", _mesh!.Kubeconfig);

    private static string ServiceEntries(string prefix, int count) => string.Concat(Enumerable.Range(0, count).Select(i =>
        $"---\napiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {{name: {prefix}-{i}, namespace: default, annotations: {{padding: \"{new string('x', 600)}\"}}}}\nspec:\n  hosts: [{prefix}-{i}.example.com]\n  ports: [{{number: 80, name: http, protocol: HTTP}}]\n  resolution: DNS\n"));

    private static async Task RunAsync(string file, params string[] args)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        Assert.True(process.ExitCode == 0, $"{file} {string.Join(' ', args)} exited {process.ExitCode}: {await output}{await error}");
    }
}

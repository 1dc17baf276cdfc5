using System.Diagnostics;
using System.Text;
using Meshgate.Tests.EndToEnd;
using Xunit;
using Xunit.Abstractions;

namespace Meshgate.Tests.Faults;

/// <summary>
/// The control plane is killed (SIGKILL) while it stores a large multi-document apply. <c>meshgate apply</c> promises
/// one transaction (all objects or none: docs/contracts.md, the store's SQLite transaction), so after a restart the store
/// holds all of that apply or none of it, never a part. The proxies keep serving with the configuration they have
/// while the control plane is gone, and resync with the restarted one.
/// </summary>
public sealed class ControlPlaneKillDuringApplyTests(ITestOutputHelper log) : IAsyncLifetime
{
    private const int Objects = 1500;
    private FaultMesh _mesh = null!;

    public async Task InitializeAsync() => _mesh = await FaultMesh.StartAsync("127.0.0.168", "127.0.0.169", "127.0.0.169");

    public async Task DisposeAsync() => await _mesh.DisposeAsync();

    [Fact]
    public async Task ControlPlaneKilledDuringALargeApply_StoreHoldsAllOrNone_ProxiesServeThroughout_ThenResync()
    {
        // One file: a namespace and 1,500 ServiceEntries in it.
        var yaml = new StringBuilder("apiVersion: v1\nkind: Namespace\nmetadata: {name: faults}\n");
        for (var i = 0; i < Objects; i++)
        {
            yaml.Append($"---\napiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {{name: se-{i}, namespace: faults}}\nspec:\n  hosts: [se-{i}.example.com]\n  ports: [{{number: 80, name: http, protocol: HTTP}}]\n  resolution: DNS\n");
        }

        var file = Path.Combine(_mesh.Directory, "many.yaml");
        await File.WriteAllTextAsync(file, yaml.ToString());
        var wal = Path.Combine(_mesh.DataDirectory, "store.db-wal");

        // Kill as soon as the store is writing the apply (its write-ahead log has grown by 256 KiB of the ~1 MiB this
        // transaction writes; the mesh's own small writes do not grow it that much), or, if that is not seen within
        // 30 s, wherever the apply is then: either way the assertion is the same.
        var before = Length(wal);
        var apply = MeshgateProcess.RunAsync(TimeSpan.FromSeconds(90), "", "apply", "-f", file, "--kubeconfig", _mesh.Kubeconfig);
        var watch = Stopwatch.StartNew();
        var sawWrite = false;
        while (watch.Elapsed < TimeSpan.FromSeconds(30) && !apply.IsCompleted)
        {
            if (Length(wal) > before + 256 * 1024)
            {
                sawWrite = true;
                break;
            }

            Thread.Sleep(1); // a tight poll: the commit takes tens of milliseconds
        }

        await _mesh.ControlPlane.KillAsync();
        var (code, output) = await apply;
        var killedOutput = _mesh.ControlPlane.Output;

        // Proxies keep serving what they had while the control plane is gone.
        await _mesh.Sidecar.WaitForOutputAsync("discovery: disconnected", TimeSpan.FromSeconds(30));
        for (var i = 0; i < 5; i++)
        {
            var result = await _mesh.RequestAsync();
            Assert.True(result.Ok, $"request {i} with the control plane gone: {result}\n{_mesh.Output}");
        }

        await _mesh.RestartControlPlaneAsync();
        var stored = await _mesh.CountAsync("apis/networking.istio.io/v1", "faults", "serviceentries");
        log.WriteLine($"killed {(sawWrite ? "while the store wrote the apply" : "before the store wrote (not seen in 30 s)")}; apply exited {code}; stored {stored} of {Objects}");
        Assert.True(stored == 0 || stored == Objects,
            $"after the kill the store holds {stored} of the apply's {Objects} ServiceEntries (all or none expected); saw the write start: {sawWrite}; apply exited {code}: {output}\n{killedOutput}");
        // If apply said it succeeded, all must be there; if none is there, apply must not have said so.
        Assert.True(code != 0 || stored == Objects, $"apply exited 0 but the store holds {stored} of {Objects}");

        // Proxies resync with the restarted control plane, and the apply, done again, is stored whole and pushed.
        await _mesh.WaitSyncedAsync();
        await _mesh.ApplyAsync(await File.ReadAllTextAsync(file));
        Assert.Equal(Objects, await _mesh.CountAsync("apis/networking.istio.io/v1", "faults", "serviceentries"));
        await _mesh.WaitSyncedAsync();
        for (var i = 0; i < 5; i++)
        {
            var result = await _mesh.RequestAsync();
            Assert.True(result.Ok, $"request {i} after the resync: {result}\n{_mesh.Output}");
        }
    }

    private static long Length(string path)
    {
        var info = new FileInfo(path);
        return info.Exists ? info.Length : 0;
    }
}

using System.Diagnostics;
using Xunit;

namespace Meshgate.Tests.EndToEnd;

/// <summary>Tests that run <c>meshgate up --cluster</c>: one cluster per machine, so they never run side by side.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class LocalClusterCollection
{
    public const string Name = "local cluster";
}

/// <summary>
/// A real local cluster (<c>meshgate up --cluster</c>) for one test, and a bash in which <c>kubectl</c> and
/// <c>istioctl</c> are <c>meshgate</c>, so the seed's commands run as the document writes them. Disposing stops the
/// cluster, runs <c>meshgate down</c> whatever happened, and checks that no network namespace of it is left.
/// </summary>
internal sealed class LocalClusterRun : IAsyncDisposable
{
    private readonly MeshgateProcess _up;

    private LocalClusterRun(MeshgateProcess up, string directory)
    {
        _up = up;
        Directory = directory;
    }

    /// <summary>The test's folder: the data directory (<c>data</c>) and Istio's <c>samples/sleep/sleep.yaml</c>, the scripts' working directory.</summary>
    public string Directory { get; }

    /// <summary><c>DATA/kubeconfig</c>, which <c>up --cluster</c> writes (the API over HTTPS, the mesh root, the admin token).</summary>
    public string Kubeconfig => Path.Combine(DataDirectory, "kubeconfig");

    public string DataDirectory => Path.Combine(Directory, "data");

    public string UpOutput => _up.Output;

    public static async Task<LocalClusterRun> StartAsync(params string[] arguments)
    {
        var directory = System.IO.Directory.CreateTempSubdirectory("meshgate-cluster-").FullName;
        var samples = Path.Combine(directory, "samples", "sleep");
        System.IO.Directory.CreateDirectory(samples);
        File.Copy(Path.Combine(TestPaths.TestData, "Seed", "sleep.yaml"), Path.Combine(samples, "sleep.yaml"));
        var port = MeshgateProcess.FreePort();
        var up = MeshgateProcess.Start(["up", "--cluster", "--data", Path.Combine(directory, "data"), "--listen", $"127.0.0.1:{port}", .. arguments]);
        var run = new LocalClusterRun(up, directory);
        try
        {
            await up.WaitForOutputAsync("meshgate up: ready", TimeSpan.FromSeconds(120));
        }
        catch
        {
            await run.DisposeAsync();
            throw;
        }

        return run;
    }

    /// <summary>Runs <paramref name="script"/> in bash (within <paramref name="timeout"/>, 60 s by default) with kubectl and istioctl as meshgate.</summary>
    public async Task<(int Code, string Output, string Error)> BashAsync(string script, TimeSpan? timeout = null)
    {
        var info = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Directory };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add($$"""
            kubectl() { "$MESHGATE" "$@"; }
            istioctl() { "$MESHGATE" "$@"; }
            {{script}}
            """);
        info.Environment["MESHGATE"] = MeshgateProcess.Executable;
        info.Environment["KUBECONFIG"] = Kubeconfig;
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"the script did not finish in time:\n{script}\noutput so far:\n{await output}{await error}");
        }

        return (process.ExitCode, (await output).Replace("\r", "", StringComparison.Ordinal), await error);
    }

    /// <summary>Runs a script that must succeed, and returns its standard output.</summary>
    public async Task<string> StepAsync(string script, TimeSpan? timeout = null)
    {
        var (code, output, error) = await BashAsync(script, timeout);
        Assert.True(code == 0, $"step failed (exit {code}):\n{script}\nstdout:\n{output}\nstderr:\n{error}\ncluster:\n{Tail(UpOutput)}");
        return output;
    }

    /// <summary>Polls a script until its output satisfies <paramref name="done"/> (within 60 s); returns that output.</summary>
    public async Task<string> WaitForAsync(string script, Func<string, bool> done, string what)
    {
        var clock = Stopwatch.StartNew();
        var last = "";
        while (clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            var (_, output, error) = await BashAsync(script);
            last = output + error;
            if (done(output))
            {
                return output;
            }

            await Task.Delay(200);
        }

        throw new TimeoutException($"timed out waiting for {what}; last output:\n{last}\ncluster:\n{Tail(UpOutput)}");
    }

    private static string Tail(string text) => text.Length > 6000 ? text[^6000..] : text;

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _up.TerminateAsync(TimeSpan.FromSeconds(60));
        }
        finally
        {
            await _up.DisposeAsync();
        }

        var (code, output) = await MeshgateProcess.RunAsync("", "down");
        Assert.True(code == 0, "meshgate down failed: " + output);
        var (_, namespaces) = await Bash.RunAsync("ip netns list | grep '^mgk-' || true");
        Assert.True(namespaces.Trim().Length == 0, "network namespaces of the cluster are left: " + namespaces);
        System.IO.Directory.Delete(Directory, recursive: true);
    }
}

using System.Diagnostics;
using Meshgate.Supervision;
using Xunit;

namespace Meshgate.Tests.Supervision;

/// <summary>Real child processes (sh) under the supervisor <c>meshgate up</c> uses for its proxies.</summary>
public sealed class SupervisedProcessTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("meshgate-supervise-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task OutputAndErrorGoToTheLogAndACrashedProcessIsStartedAgain()
    {
        var reports = new List<string>();
        var log = Path.Combine(_dir, "ns", "pod.log");
        await using var child = new SupervisedProcess("pod", "/bin/sh", ["-c", "echo out; echo err >&2; exit 3"], log, r => { lock (reports) { reports.Add(r); } });
        child.Start();
        await Until(() => child.Starts >= 2, TimeSpan.FromSeconds(15));
        await child.StopAsync(TimeSpan.FromSeconds(5));

        var lines = await File.ReadAllLinesAsync(log);
        Assert.Contains("out", lines);
        Assert.Contains("err", lines);
        lock (reports)
        {
            Assert.Contains(reports, r => r.StartsWith("pod exited with code 3; restarting in 1s", StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task StopSendsSigtermAndTheChildCanCleanUp()
    {
        var log = Path.Combine(_dir, "term.log");
        await using var child = new SupervisedProcess("term", "/bin/sh", ["-c", "trap 'echo got TERM; exit 0' TERM; echo started; while true; do sleep 0.1; done"], log, _ => { });
        child.Start();
        await Until(() => File.Exists(log) && File.ReadAllText(log).Contains("started", StringComparison.Ordinal), TimeSpan.FromSeconds(10));
        var pid = child.ProcessId!.Value;
        await child.StopAsync(TimeSpan.FromSeconds(10));

        Assert.Contains("got TERM", await File.ReadAllTextAsync(log), StringComparison.Ordinal);
        Assert.Equal(1, child.Starts);
        Assert.Throws<ArgumentException>(() => Process.GetProcessById(pid));
    }

    private static async Task Until(Func<bool> condition, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(deadline.Elapsed < timeout, "condition not met in time");
            await Task.Delay(50);
        }
    }
}

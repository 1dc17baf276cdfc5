using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Xunit;

namespace Meshgate.Tests.EndToEnd;

/// <summary>The real <c>meshgate</c> executable as a child process, its output captured.</summary>
public sealed class MeshgateProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly Lock _lock = new();

    private MeshgateProcess(Process process)
    {
        _process = process;
    }

    public static string Executable => Path.Combine(AppContext.BaseDirectory, "meshgate");

    public string Output
    {
        get
        {
            lock (_lock)
            {
                return _output.ToString();
            }
        }
    }

    public int ProcessId => _process.Id;

    public int? ExitCode => _process.HasExited ? _process.ExitCode : null;

    private static int s_nextPort = Random.Shared.Next(20000, 31000);

    /// <summary>
    /// A port free right now, for a process the test starts next. Taken below the kernel's ephemeral range (32768 and
    /// up, where port-0 listeners and every outgoing connection take theirs), handed out once per test run (so two
    /// tests never get the same one), and checked by binding it.
    /// </summary>
    public static int FreePort()
    {
        for (var attempt = 0; attempt < 12000; attempt++)
        {
            var port = 20000 + (Interlocked.Increment(ref s_nextPort) % 12000);
            try
            {
                using var listener = new TcpListener(IPAddress.Loopback, port);
                listener.Start();
                return port;
            }
            catch (SocketException)
            {
            }
        }

        throw new InvalidOperationException("no free port between 20000 and 32000");
    }

    public static MeshgateProcess Start(params string[] args) => Start(new Dictionary<string, string>(), args);

    /// <summary>Starts meshgate with <paramref name="environment"/> added; the test run's own MESHGATE_DNS_SERVERS is not passed on.</summary>
    public static MeshgateProcess Start(IReadOnlyDictionary<string, string> environment, params string[] args) =>
        StartProgram(Executable, environment, args);

    /// <summary>As <see cref="Start(IReadOnlyDictionary{string, string}, string[])"/>, for another of Meshgate's programs (<c>meshgate-proxy</c>).</summary>
    public static MeshgateProcess StartProgram(string executable, IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var info = new ProcessStartInfo(executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment.Remove("MESHGATE_DNS_SERVERS");
        foreach (var (name, value) in environment)
        {
            info.Environment[name] = value;
        }

        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var result = new MeshgateProcess(process);
        process.OutputDataReceived += (_, e) => result.Append(e.Data);
        process.ErrorDataReceived += (_, e) => result.Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return result;
    }

    /// <summary>Runs a command to completion (deadline 60s) and returns its exit code and output.</summary>
    public static Task<(int ExitCode, string Output)> RunAsync(string stdin, params string[] args) => RunAsync(TimeSpan.FromSeconds(60), stdin, args);

    /// <summary>Runs a command to completion within <paramref name="deadline"/> and returns its exit code and output.</summary>
    public static Task<(int ExitCode, string Output)> RunAsync(TimeSpan deadline, string stdin, params string[] args) =>
        RunAsync(new Dictionary<string, string>(), deadline, stdin, args);

    /// <summary>Runs a command with <paramref name="environment"/> added, to completion within <paramref name="deadline"/>.</summary>
    public static Task<(int ExitCode, string Output)> RunAsync(IReadOnlyDictionary<string, string> environment, TimeSpan deadline, string stdin, params string[] args) =>
        RunProgramAsync(Executable, environment, deadline, stdin, args);

    /// <summary>Runs another of Meshgate's programs to completion within <paramref name="deadline"/>.</summary>
    public static async Task<(int ExitCode, string Output)> RunProgramAsync(string executable, IReadOnlyDictionary<string, string> environment, TimeSpan deadline, string stdin, params string[] args)
    {
        await using var process = StartProgram(executable, environment, args);
        await process._process.StandardInput.WriteAsync(stdin);
        process._process.StandardInput.Close();
        using var timeout = new CancellationTokenSource(deadline);
        await process._process.WaitForExitAsync(timeout.Token);
        process._process.WaitForExit(); // drains the output readers
        return (process._process.ExitCode, process.Output);
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_lock)
        {
            _output.Append(line).Append('\n');
        }
    }

    /// <summary>Polls the output (10 s) for an access-log line containing <paramref name="contains"/>.</summary>
    public async Task<string> AccessLogLineAsync(string contains)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            var line = Output.Split('\n').FirstOrDefault(l => l.StartsWith('[') && l.Contains(contains, StringComparison.Ordinal));
            if (line is not null)
            {
                return line;
            }

            Assert.True(DateTime.UtcNow < deadline, $"no access-log line with {contains}:\n{Output}");
            await Task.Delay(50);
        }
    }

    /// <summary>Polls the output for <paramref name="text"/> until the deadline.</summary>
    public async Task WaitForOutputAsync(string text, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!Output.Contains(text, StringComparison.Ordinal))
        {
            Assert.True(DateTime.UtcNow < deadline, $"\"{text}\" did not appear within {timeout}; output so far:\n{Output}");
            Assert.False(_process.HasExited, $"meshgate exited with {(_process.HasExited ? _process.ExitCode : 0)} before \"{text}\":\n{Output}");
            await Task.Delay(50);
        }
    }

    /// <summary>SIGKILL: the process gets no chance to clean up, as when a machine or container dies.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
        }

        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await _process.WaitForExitAsync(cancel.Token);
    }

    /// <summary>Sends SIGTERM, as a supervisor or Ctrl-C would, and waits for the exit.</summary>
    public async Task<int> TerminateAsync(TimeSpan timeout)
    {
        if (!_process.HasExited)
        {
            using var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            await kill.WaitForExitAsync();
        }

        using var cancel = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cancel.Token);
        _process.WaitForExit();
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }
}

using System.Diagnostics;
using System.Globalization;

namespace Meshgate.Supervision;

/// <summary>
/// One child process kept running by <c>meshgate up</c>, as a kubelet keeps a container running: its standard output
/// and error go, line by line, to its log file (what <c>meshgate logs</c> reads); when it exits on its own it is
/// started again after a back-off (1 s doubling to 30 s, reset after a minute of running); <see cref="StopAsync"/>
/// sends SIGTERM and waits, then kills.
/// </summary>
public sealed class SupervisedProcess : IAsyncDisposable
{
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan HealthyAfter = TimeSpan.FromMinutes(1);

    private readonly string _executable;
    private readonly IReadOnlyList<string> _arguments;
    private readonly IReadOnlyDictionary<string, string> _environment;
    private readonly Action<string> _report;
    private readonly Action<string>? _onLine;
    private readonly CancellationTokenSource _stopping = new();
    private readonly object _logLock = new();
    private Task? _loop;
    private Process? _current;

    public SupervisedProcess(
        string name,
        string executable,
        IReadOnlyList<string> arguments,
        string logPath,
        Action<string> report,
        IReadOnlyDictionary<string, string>? environment = null,
        Action<string>? onLine = null)
    {
        Name = name;
        _executable = executable;
        _arguments = arguments;
        LogPath = logPath;
        _report = report;
        _environment = environment ?? new Dictionary<string, string>();
        _onLine = onLine;
    }

    public string Name { get; }

    public string LogPath { get; }

    /// <summary>How many times the process was started (1 when it never had to be restarted).</summary>
    public int Starts { get; private set; }

    /// <summary>The running process's id; null between runs (read from a field: the <see cref="Process"/> of an ended run is disposed).</summary>
    public int? ProcessId => _running ? _processId : null;

    private volatile int _processId;

    /// <summary>Whether the process runs now (between its start and its exit).</summary>
    public bool IsRunning => _running;

    /// <summary>How many times it was started again after exiting (a container's <c>restartCount</c>).</summary>
    public int Restarts => Math.Max(0, Starts - 1);

    /// <summary>When the current (or last) run started.</summary>
    public DateTimeOffset? StartedAt { get; private set; }

    /// <summary>The exit code and time of the last run that ended; null while none has.</summary>
    public (int Code, DateTimeOffset At)? LastExit { get; private set; }

    /// <summary>Why it is not running: it could not be started at all (the program is missing).</summary>
    public string? StartError { get; private set; }

    private volatile bool _running;

    public void Start()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(LogPath)!);
        _loop = Task.Run(RunAsync);
    }

    private async Task RunAsync()
    {
        var backoff = TimeSpan.FromSeconds(1);
        while (!_stopping.IsCancellationRequested)
        {
            var started = Stopwatch.StartNew();
            int exitCode;
            try
            {
                exitCode = await RunOnceAsync().ConfigureAwait(false);
            }
            catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
            {
                _report($"{Name}: cannot start {_executable}: {e.Message}");
                StartError = e.Message;
                return;
            }

            LastExit = (exitCode, DateTimeOffset.UtcNow);
            if (_stopping.IsCancellationRequested)
            {
                return;
            }

            if (started.Elapsed > HealthyAfter)
            {
                backoff = TimeSpan.FromSeconds(1);
            }

            _report(string.Create(CultureInfo.InvariantCulture, $"{Name} exited with code {exitCode}; restarting in {backoff.TotalSeconds:0}s (log: {LogPath})"));
            try
            {
                await Task.Delay(backoff, _stopping.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
        }
    }

    private async Task<int> RunOnceAsync()
    {
        var info = new ProcessStartInfo(_executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in _arguments)
        {
            info.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in _environment)
        {
            info.Environment[key] = value;
        }

        info.Environment[ParentWatch.EnvironmentVariable] = Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        using var process = new Process { StartInfo = info };
        using var log = new StreamWriter(new FileStream(LogPath, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete)) { AutoFlush = true };
        process.OutputDataReceived += (_, e) => Write(log, e.Data);
        process.ErrorDataReceived += (_, e) => Write(log, e.Data);
        process.Start();
        Starts++;
        StartedAt = DateTimeOffset.UtcNow;
        _current = process;
        _processId = process.Id;
        _running = true;
        if (_stopping.IsCancellationRequested)
        {
            Signals.Terminate(process.Id); // StopAsync ran while this run was starting and saw the previous process
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
        }
        finally
        {
            _running = false;
        }

        return process.ExitCode;
    }

    private void Write(StreamWriter log, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_logLock)
        {
            log.WriteLine(line);
        }

        _onLine?.Invoke(line);
    }

    /// <summary>SIGTERM, then up to <paramref name="grace"/> for it to exit, then SIGKILL. No restart afterwards.</summary>
    public async Task StopAsync(TimeSpan grace)
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_current is { } process)
        {
            try
            {
                if (!process.HasExited)
                {
                    Signals.Terminate(process.Id);
                    using var timeout = new CancellationTokenSource(grace);
                    try
                    {
                        await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException)
                    {
                        _report($"{Name} did not stop within {grace.TotalSeconds:0}s; killing it");
                        process.Kill(entireProcessTree: true);
                    }
                }
            }
            catch (InvalidOperationException)
            {
                // Exited between the checks.
            }
        }

        if (_loop is not null)
        {
            await _loop.ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        _stopping.Dispose();
    }
}

using System.Diagnostics;
using System.Text;
using Meshgate.Tests.Commands;
using Meshgate.Tests.EndToEnd;
using Xunit;

namespace Meshgate.Tests.Kubernetes;

/// <summary>
/// A control plane started in-process (<see cref="CliHarness"/>) and the real kubectl pointed at it with the kubeconfig
/// the control plane wrote, and a discovery cache of its own in a temporary directory (kubectl caches discovery for 6 hours).
/// </summary>
public sealed class KubectlHarness : IAsyncLifetime
{
    private readonly string _home = Directory.CreateTempSubdirectory("meshgate-kubectl-").FullName;

    public CliHarness Cli { get; } = new();

    public string Home => _home;

    public string Kubectl { get; } = ExternalTools.Require("kubectl");

    /// <summary>The kubeconfig the control plane wrote (<c>DATA/kubeconfig</c>: HTTPS, the mesh root, the admin token), as is.</summary>
    public string KubeconfigPath => Cli.KubeconfigPath;

    public Task InitializeAsync() => Cli.InitializeAsync();

    public async Task DisposeAsync()
    {
        await Cli.DisposeAsync();
        Directory.Delete(_home, recursive: true);
    }

    public sealed record Result(int ExitCode, string Out, string Error)
    {
        public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Out}--- stderr\n{Error}";
    }

    private ProcessStartInfo StartInfo(IEnumerable<string> args)
    {
        var info = new ProcessStartInfo(Kubectl)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = TestPaths.RepositoryRoot,
        };
        info.ArgumentList.Add("--kubeconfig");
        info.ArgumentList.Add(KubeconfigPath);
        info.ArgumentList.Add("--cache-dir");
        info.ArgumentList.Add(Path.Combine(_home, "cache"));
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment["HOME"] = _home;
        info.Environment.Remove("KUBECONFIG");
        return info;
    }

    /// <summary>Runs <c>kubectl ARGS</c> to its end (at most a minute).</summary>
    public async Task<Result> RunAsync(params string[] args)
    {
        using var process = Process.Start(StartInfo(args))!;
        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"kubectl {string.Join(' ', args)} did not finish within 60 s\n{await output}{await error}");
        }

        return new Result(process.ExitCode, await output, await error);
    }

    /// <summary>Runs and asserts success (exit 0), returning stdout.</summary>
    public async Task<string> OkAsync(params string[] args)
    {
        var result = await RunAsync(args);
        Assert.True(result.ExitCode == 0, $"kubectl {string.Join(' ', args)}\n{result}");
        return result.Out;
    }

    /// <summary>Starts a long-running kubectl (<c>get -w</c>); its stdout lines arrive as they are printed.</summary>
    public RunningKubectl Start(params string[] args)
    {
        var process = Process.Start(StartInfo(args))!;
        process.StandardInput.Close();
        return new RunningKubectl(process);
    }

    public sealed class RunningKubectl : IAsyncDisposable
    {
        private readonly Process _process;
        private readonly StringBuilder _error = new();
        private readonly Task _errors;

        public RunningKubectl(Process process)
        {
            _process = process;
            _errors = Task.Run(async () =>
            {
                var text = await process.StandardError.ReadToEndAsync();
                lock (_error)
                {
                    _error.Append(text);
                }
            });
        }

        public string Error
        {
            get
            {
                lock (_error)
                {
                    return _error.ToString();
                }
            }
        }

        /// <summary>The next line of stdout, or null at its end.</summary>
        public Task<string?> ReadLineAsync(CancellationToken cancellationToken) => _process.StandardOutput.ReadLineAsync(cancellationToken).AsTask();

        public async ValueTask DisposeAsync()
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }

            await _process.WaitForExitAsync();
            await _errors;
            _process.Dispose();
        }
    }
}

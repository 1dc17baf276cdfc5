using System.Threading.Channels;
using Meshgate.Core.ProxyConfiguration;
using Microsoft.Extensions.Logging;

namespace Meshgate.Proxy.Sync;

/// <summary>
/// Follows a static configuration file (<c>meshgate proxy --config FILE</c>): when it changes, it is read, checked
/// and handed to <see cref="ProxyServer.UpdateAsync"/>, and the outcome logged: <c>applied version X</c>, or every
/// error with the version that stays. A file that cannot be read or parsed changes nothing. The whole directory is
/// watched, so editors that write a new file and rename it, and Kubernetes ConfigMap volumes that swap a symlink,
/// are followed too; events are debounced and an unchanged file is ignored.
/// </summary>
public sealed partial class ConfigFileWatcher : IAsyncDisposable
{
    /// <summary>Quiet time after the last event before the file is read, so a write in several steps is read once.</summary>
    public static readonly TimeSpan Debounce = TimeSpan.FromMilliseconds(200);

    private readonly string _path;
    private readonly ProxyServer _proxy;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly FileSystemWatcher _watcher;
    private readonly Channel<bool> _changes = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private string? _lastText;

    private ConfigFileWatcher(string path, ProxyServer proxy)
    {
        _path = path;
        _proxy = proxy;
        _time = proxy.Time;
        _logger = proxy.LoggerFactory.CreateLogger("meshgate.proxy.config");
        var full = Path.GetFullPath(path);
        _watcher = new FileSystemWatcher(Path.GetDirectoryName(full)!)
        {
            NotifyFilter = NotifyFilters.FileName | NotifyFilters.LastWrite | NotifyFilters.Size | NotifyFilters.CreationTime,
            IncludeSubdirectories = false,
        };
        _watcher.Changed += (_, _) => Signal();
        _watcher.Created += (_, _) => Signal();
        _watcher.Renamed += (_, _) => Signal();
        _watcher.Deleted += (_, _) => Signal();
        _watcher.Error += (_, e) =>
        {
            Log.WatchFailed(_logger, _path, e.GetException().Message);
            Signal();
        };
        _watcher.EnableRaisingEvents = true;
        _loop = Task.Run(RunAsync);

        // A change between the first read and the watch starting would be missed; one check closes that gap.
        Signal();
    }

    /// <summary>Starts following <paramref name="path"/> for <paramref name="proxy"/>.</summary>
    public static ConfigFileWatcher Start(string path, ProxyServer proxy)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(proxy);
        return new ConfigFileWatcher(path, proxy);
    }

    public async ValueTask DisposeAsync()
    {
        _watcher.EnableRaisingEvents = false;
        _watcher.Dispose();
        _changes.Writer.TryComplete();
        await _stop.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stop.Dispose();
    }

    private void Signal() => _changes.Writer.TryWrite(true);

    private async Task RunAsync()
    {
        var reader = _changes.Reader;
        try
        {
            while (await reader.WaitToReadAsync(_stop.Token).ConfigureAwait(false))
            {
                // Wait until the events stop for a moment, then read once.
                do
                {
                    reader.TryRead(out _);
                    await Task.Delay(Debounce, _time, _stop.Token).ConfigureAwait(false);
                }
                while (reader.TryPeek(out _));

                await ReloadAsync(_stop.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
    }

    private async Task ReloadAsync(CancellationToken cancellationToken)
    {
        var current = _proxy.Snapshots.Current.Config;
        string text;
        try
        {
            text = await File.ReadAllTextAsync(_path, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Log.Unreadable(_logger, _path, e.Message, current.Version);
            return;
        }

        if (text == _lastText)
        {
            return;
        }

        _lastText = text;
        var loaded = ProxyConfigLoader.Load(text, _path);
        if (loaded.Config is not { } next)
        {
            _proxy.Metrics.UpdateRejected();
            foreach (var error in loaded.Errors)
            {
                Log.Rejected(_logger, _path, current.Version, error);
            }

            return;
        }

        if (next == current)
        {
            return;
        }

        var result = await _proxy.UpdateAsync(next, cancellationToken).ConfigureAwait(false);
        if (!result.Applied)
        {
            foreach (var error in result.Errors)
            {
                Log.Rejected(_logger, _path, current.Version, error);
            }

            return;
        }

        Log.Applied(_logger, _path, next.Version);
        foreach (var error in result.Errors)
        {
            Log.AppliedWithErrors(_logger, _path, next.Version, error);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "configuration {Path}: applied version {Version}")]
        public static partial void Applied(ILogger logger, string path, string version);

        [LoggerMessage(2, LogLevel.Warning, "configuration {Path}: rejected, keeping version {Current}: {Error}")]
        public static partial void Rejected(ILogger logger, string path, string current, string error);

        [LoggerMessage(3, LogLevel.Warning, "configuration {Path}: cannot be read ({Reason}); keeping version {Current}")]
        public static partial void Unreadable(ILogger logger, string path, string reason, string current);

        [LoggerMessage(4, LogLevel.Warning, "configuration {Path}: version {Version} applied, but {Error}")]
        public static partial void AppliedWithErrors(ILogger logger, string path, string version, string error);

        [LoggerMessage(5, LogLevel.Warning, "configuration {Path}: watching the file failed ({Reason}); checking it now")]
        public static partial void WatchFailed(ILogger logger, string path, string reason);
    }
}

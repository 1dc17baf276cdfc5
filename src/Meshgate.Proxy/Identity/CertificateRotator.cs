using Grpc.Core;
using Microsoft.Extensions.Logging;

namespace Meshgate.Proxy.Identity;

/// <summary>
/// Keeps the proxy's workload certificate fresh: the first before the proxy takes configuration, then a new one before
/// half of the current one's remaining lifetime has passed (Istio's SECRET_GRACE_PERIOD_RATIO 0.5, with jitter so
/// proxies started together do not ask together). A failed request is retried with capped backoff while the
/// current certificate serves on; each new one is put in force without dropping a connection
/// (<see cref="ProxyServer.SetWorkloadSecretsAsync"/>).
/// </summary>
public sealed partial class CertificateRotator : IAsyncDisposable
{
    private static readonly TimeSpan InitialBackoff = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);

    private readonly ProxyServer _proxy;
    private readonly WorkloadCertificateClient _client;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource _first = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task _loop = Task.CompletedTask;

    private CertificateRotator(ProxyServer proxy, WorkloadCertificateClient client)
    {
        _proxy = proxy;
        _client = client;
        _logger = proxy.LoggerFactory.CreateLogger("meshgate.proxy.identity");
    }

    /// <summary>Completes once the first certificate is in force.</summary>
    public Task FirstIssued => _first.Task;

    public static CertificateRotator Start(ProxyServer proxy, WorkloadCertificateClient client)
    {
        var rotator = new CertificateRotator(proxy, client);
        rotator._loop = Task.Run(rotator.RunAsync);
        return rotator;
    }

    private async Task RunAsync()
    {
        var cancellationToken = _stop.Token;
        var backoff = InitialBackoff;
        while (!cancellationToken.IsCancellationRequested)
        {
            TimeSpan wait;
            try
            {
                var secrets = await _client.RequestAsync(cancellationToken).ConfigureAwait(false);
                await _proxy.SetWorkloadSecretsAsync(secrets, cancellationToken).ConfigureAwait(false);
                var now = _proxy.Time.GetUtcNow();
                wait = (secrets.NotAfter - now) / 2 * (0.8 + 0.2 * Random.Shared.NextDouble());
                if (wait < TimeSpan.FromSeconds(1))
                {
                    wait = TimeSpan.FromSeconds(1);
                }

                Log.Issued(_logger, secrets.Identity, secrets.SerialNumber, secrets.NotAfter, now + wait);
                _first.TrySetResult();
                backoff = InitialBackoff;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e) when (e is RpcException or IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException or HttpRequestException)
            {
                var current = _proxy.Snapshots.Current.Workload;
                Log.Failed(_logger, _client.Identity, e is RpcException rpc ? $"{rpc.StatusCode}: {rpc.Status.Detail}" : e.Message,
                    current is null ? "none yet" : $"serial {current.SerialNumber} until {current.NotAfter:O}", backoff.TotalSeconds);
                wait = backoff;
                backoff = backoff * 2 > MaxBackoff ? MaxBackoff : backoff * 2;
            }

            try
            {
                await Task.Delay(wait, _proxy.Time, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _first.TrySetCanceled();
        _stop.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "identity: certificate for {Identity} in force (serial {Serial}, expires {NotAfter:O}); next rotation at {Next:O}")]
        public static partial void Issued(ILogger logger, string identity, string serial, DateTimeOffset notAfter, DateTimeOffset next);

        [LoggerMessage(2, LogLevel.Warning, "identity: no certificate for {Identity}: {Reason}; current: {Current}; retrying in {Seconds:0.#} s")]
        public static partial void Failed(ILogger logger, string identity, string reason, string current, double seconds);
    }
}

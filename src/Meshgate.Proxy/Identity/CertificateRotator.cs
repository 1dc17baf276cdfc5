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
    private readonly SemaphoreSlim _secrets = new(1, 1); // one writer of the secrets at a time: this loop, or a new trust bundle
    private readonly MeshTrust? _trust;
    private Task _loop = Task.CompletedTask;
    private CancellationTokenSource _wait = new();
    private string _wantedSigner = "";

    private CertificateRotator(ProxyServer proxy, WorkloadCertificateClient client, MeshTrust? trust)
    {
        _proxy = proxy;
        _client = client;
        _trust = trust;
        _logger = proxy.LoggerFactory.CreateLogger("meshgate.proxy.identity");
    }

    /// <summary>Completes once the first certificate is in force.</summary>
    public Task FirstIssued => _first.Task;

    /// <summary>Raised after each new certificate is in force.</summary>
    public event Action? CertificateInForce;

    /// <param name="trust">The roots in force, when the control plane may change them (<see cref="ApplyTrustAsync"/>).</param>
    public static CertificateRotator Start(ProxyServer proxy, WorkloadCertificateClient client, MeshTrust? trust = null)
    {
        var rotator = new CertificateRotator(proxy, client, trust);
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
                await _secrets.WaitAsync(cancellationToken).ConfigureAwait(false);
                try
                {
                    // The roots in force now: a bundle that came while the request was out is not undone.
                    secrets = secrets with { RootCa = WorkloadCertificateClient.RootCa(_trust, secrets.IssuerRoot) };
                    await _proxy.SetWorkloadSecretsAsync(secrets, cancellationToken).ConfigureAwait(false);
                }
                finally
                {
                    _secrets.Release();
                }

                var now = _proxy.Time.GetUtcNow();
                var wanted = Volatile.Read(ref _wantedSigner);
                if (wanted.Length > 0 && secrets.Signer.Length > 0 && secrets.Signer != wanted)
                {
                    // Issued by the CA being replaced just before it was: ask again soon, from the new one.
                    wait = backoff;
                    backoff = backoff * 2 > MaxBackoff ? MaxBackoff : backoff * 2;
                }
                else
                {
                    wait = (secrets.NotAfter - now) / 2 * (0.8 + 0.2 * Random.Shared.NextDouble());
                    if (wait < TimeSpan.FromSeconds(1))
                    {
                        wait = TimeSpan.FromSeconds(1);
                    }

                    backoff = InitialBackoff;
                }

                Log.Issued(_logger, secrets.Identity, secrets.SerialNumber, secrets.NotAfter, now + wait);
                _first.TrySetResult();
                CertificateInForce?.Invoke();
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

            var renew = Volatile.Read(ref _wait);
            try
            {
                using var either = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, renew.Token);
                await Task.Delay(wait, _proxy.Time, either.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // RenewNow: a new CA signs; ask at once.
            }
            catch (OperationCanceledException)
            {
                break;
            }

            if (renew.IsCancellationRequested)
            {
                Interlocked.CompareExchange(ref _wait, new CancellationTokenSource(), renew);
                renew.Dispose();
            }
        }
    }

    /// <summary>The CA now signs as <paramref name="signer"/>: a certificate from another is replaced at once.</summary>
    public void RenewNow(string signer)
    {
        Volatile.Write(ref _wantedSigner, signer);
        var current = _proxy.Snapshots.Current.Workload;
        if (current is null || current.Signer == signer)
        {
            return;
        }

        Log.Renewing(_logger, _client.Identity, current.SerialNumber, signer);
        try
        {
            Volatile.Read(ref _wait).Cancel();
        }
        catch (ObjectDisposedException)
        {
            // the loop swapped in a new one meanwhile: it is about to ask anyway
        }
    }

    /// <summary>Puts the roots in force now into secret <c>ROOTCA</c> of the certificate that serves (no new certificate).</summary>
    public async Task ApplyTrustAsync(CancellationToken cancellationToken)
    {
        await _secrets.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_proxy.Snapshots.Current.Workload is { } current)
            {
                await _proxy.SetWorkloadSecretsAsync(current with { RootCa = WorkloadCertificateClient.RootCa(_trust, current.IssuerRoot) }, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            _secrets.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _first.TrySetCanceled();
        _stop.Dispose();
        _wait.Dispose();
        _secrets.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "identity: certificate for {Identity} in force (serial {Serial}, expires {NotAfter:O}); next rotation at {Next:O}")]
        public static partial void Issued(ILogger logger, string identity, string serial, DateTimeOffset notAfter, DateTimeOffset next);

        [LoggerMessage(2, LogLevel.Warning, "identity: no certificate for {Identity}: {Reason}; current: {Current}; retrying in {Seconds:0.#} s")]
        public static partial void Failed(ILogger logger, string identity, string reason, string current, double seconds);

        [LoggerMessage(3, LogLevel.Information, "identity: the mesh CA now signs as {Signer}; replacing certificate {Serial} of {Identity} now")]
        public static partial void Renewing(ILogger logger, string identity, string serial, string signer);
    }
}

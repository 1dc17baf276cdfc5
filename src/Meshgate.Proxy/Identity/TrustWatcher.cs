using Grpc.Core;
using Grpc.Net.Client;
using Meshgate.Trust.V1;
using Microsoft.Extensions.Logging;

namespace Meshgate.Proxy.Identity;

/// <summary>
/// Follows the control plane's trust stream (proto/trust.proto): puts each bundle in force (for the control plane's
/// certificate and as <c>ROOTCA</c>) before confirming it, and asks for a new certificate at once when another CA
/// signs, so that a change of the mesh root drops no connection (docs/identity.md "Changing the root"). Reports what it
/// holds after each bundle and each new certificate. Reconnects with capped backoff while the control plane is away.
/// </summary>
public sealed partial class TrustWatcher : IAsyncDisposable
{
    private static readonly TimeSpan InitialBackoff = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(5);

    private readonly ProxyServer _proxy;
    private readonly GrpcChannel _channel;
    private readonly MeshTrust _trust;
    private readonly CertificateRotator _rotator;
    private readonly string _name;
    private readonly string _namespace;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly System.Threading.Channels.Channel<bool> _reportWanted =
        System.Threading.Channels.Channel.CreateBounded<bool>(new System.Threading.Channels.BoundedChannelOptions(1) { FullMode = System.Threading.Channels.BoundedChannelFullMode.DropWrite });
    private Task _loop = Task.CompletedTask;

    private TrustWatcher(ProxyServer proxy, GrpcChannel channel, MeshTrust trust, CertificateRotator rotator, string name, string @namespace)
    {
        _proxy = proxy;
        _channel = channel;
        _trust = trust;
        _rotator = rotator;
        _name = name;
        _namespace = @namespace;
        _logger = proxy.LoggerFactory.CreateLogger("meshgate.proxy.identity");
    }

    public static TrustWatcher Start(ProxyServer proxy, GrpcChannel channel, MeshTrust trust, CertificateRotator rotator, string name, string @namespace)
    {
        var watcher = new TrustWatcher(proxy, channel, trust, rotator, name, @namespace);
        rotator.CertificateInForce += watcher.WantReport;
        watcher._loop = Task.Run(watcher.RunAsync);
        return watcher;
    }

    private void WantReport() => _reportWanted.Writer.TryWrite(true);

    private async Task RunAsync()
    {
        var cancellationToken = _stop.Token;
        var backoff = InitialBackoff;
        var client = new TrustDistribution.TrustDistributionClient(_channel);
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                using var call = client.Watch(cancellationToken: cancellationToken);
                using var reporting = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                await call.RequestStream.WriteAsync(Report(), cancellationToken).ConfigureAwait(false);
                var reports = ReportAsync(call.RequestStream, reporting.Token);
                try
                {
                    await foreach (var bundle in call.ResponseStream.ReadAllAsync(cancellationToken).ConfigureAwait(false))
                    {
                        backoff = InitialBackoff;
                        await ApplyAsync(bundle, cancellationToken).ConfigureAwait(false);
                    }
                }
                finally
                {
                    await reporting.CancelAsync().ConfigureAwait(false);
                    await reports.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.Cancelled && cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is RpcException or IOException or HttpRequestException or InvalidOperationException)
            {
                Log.Disconnected(_logger, e is RpcException rpc ? $"{rpc.StatusCode}: {rpc.Status.Detail}" : e.Message);
            }

            try
            {
                await Task.Delay(backoff, _proxy.Time, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            backoff = backoff * 2 > MaxBackoff ? MaxBackoff : backoff * 2;
        }
    }

    /// <summary>Puts a bundle in force (when it is new), then confirms it; a new signer gets this proxy a new certificate.</summary>
    private async Task ApplyAsync(TrustBundle bundle, CancellationToken cancellationToken)
    {
        if (_trust.Current.Version != bundle.Version || _trust.Current.Roots != bundle.Roots)
        {
            try
            {
                _trust.Set(bundle.Version, bundle.Roots);
            }
            catch (System.Security.Cryptography.CryptographicException e)
            {
                Log.BundleRefused(_logger, bundle.Version, e.Message);
                return;
            }

            await _rotator.ApplyTrustAsync(cancellationToken).ConfigureAwait(false);
            Log.BundleInForce(_logger, bundle.Version, CertificateCount(bundle.Roots), bundle.Signer);
        }

        WantReport();
        _rotator.RenewNow(bundle.Signer);
    }

    private async Task ReportAsync(IClientStreamWriter<TrustReport> requests, CancellationToken cancellationToken)
    {
        await foreach (var _ in _reportWanted.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            await requests.WriteAsync(Report(), cancellationToken).ConfigureAwait(false);
        }
    }

    private TrustReport Report()
    {
        var certificate = _proxy.Snapshots.Current.Workload;
        return new TrustReport
        {
            Name = _name,
            Namespace = _namespace,
            BundleVersion = _trust.Current.Version,
            CertificateSigner = certificate?.Signer ?? "",
            CertificateNotAfter = certificate?.NotAfter.ToUnixTimeSeconds() ?? 0,
        };
    }

    private static int CertificateCount(string pem)
    {
        var count = 0;
        for (var at = pem.IndexOf("-----BEGIN CERTIFICATE-----", StringComparison.Ordinal); at >= 0; at = pem.IndexOf("-----BEGIN CERTIFICATE-----", at + 1, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }

    public async ValueTask DisposeAsync()
    {
        _rotator.CertificateInForce -= WantReport;
        await _stop.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stop.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "identity: trust bundle {Version} in force ({Roots} root(s), for the control plane and as ROOTCA); the CA signs as {Signer}")]
        public static partial void BundleInForce(ILogger logger, string version, int roots, string signer);

        [LoggerMessage(2, LogLevel.Warning, "identity: trust bundle {Version} refused: {Reason}; keeping the roots in force")]
        public static partial void BundleRefused(ILogger logger, string version, string reason);

        [LoggerMessage(3, LogLevel.Warning, "identity: trust stream: {Reason}; reconnecting")]
        public static partial void Disconnected(ILogger logger, string reason);
    }
}

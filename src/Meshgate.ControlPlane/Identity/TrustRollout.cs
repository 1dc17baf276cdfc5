using System.Net;
using System.Net.Security;
using Meshgate.ControlPlane.Store;
using Meshgate.Core.Resources;
using Microsoft.Extensions.Logging;

namespace Meshgate.ControlPlane.Identity;

/// <summary>
/// Changes the mesh's root without dropping a connection, as Istio's plug-in CA rotation is done by hand: when Secret
/// <c>cacerts</c> in the root namespace is created, changed or deleted (back to the self-signed root), the control plane
/// (1) publishes a trust bundle holding the old and the new roots and waits until every proxy following the trust
/// stream has it in force, (2) signs with the new CA (its own discovery certificate too) and tells the proxies, who ask
/// for new certificates at once, (3) drops the old roots once every proxy holds a certificate from the new CA (one still
/// holding an old CA's certificate is waited for until that certificate expires) and <see cref="HandshakeDrain"/> has
/// passed for handshakes begun with an old certificate. Each step is logged; an unusable <c>cacerts</c> is refused with a
/// line naming the key and changes nothing. The bundle in force is also written to <c>DATA/ca/mesh-roots.pem</c>
/// (what proxies start with: <c>--ca-root-file</c>), Istio's <c>istio-ca-root-cert</c> ConfigMap.
/// </summary>
public sealed partial class TrustRollout : IAsyncDisposable
{
    /// <summary>The file in the CA directory that holds the bundle in force (0644).</summary>
    public const string BundleFile = "mesh-roots.pem";

    /// <summary>How long the first step waits for proxies that do not confirm the bundle before going on without them.</summary>
    public static readonly TimeSpan AnnounceTimeout = TimeSpan.FromSeconds(60);

    /// <summary>
    /// How long the old roots stay in the bundle after every proxy reports a certificate from the new CA: a handshake a
    /// proxy began with its old certificate just before it put the new one in force may still be running, and its peer
    /// must not check it against the new roots only. The proxies give up a handshake after 10 s (their TLS handshake
    /// and connect timeouts), so none begun with an old certificate is left after this.
    /// </summary>
    public static readonly TimeSpan HandshakeDrain = TimeSpan.FromSeconds(10);

    private static readonly TimeSpan ServerCertificateLifetime = TimeSpan.FromDays(365);

    private readonly MeshIdentity _identity;
    private readonly ResourceStore _store;
    private readonly string _caDirectory;
    private readonly string _trustDomain;
    private readonly ObjectKey _secretKey;
    private readonly IPAddress? _listening;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private readonly List<TrustSubscriber> _subscribers = [];
    private readonly Dictionary<string, DateTimeOffset> _issuedUntil = new(StringComparer.Ordinal); // signer fingerprint -> latest NotAfter
    private readonly List<CertificateAuthority> _retired = [];
    private readonly CancellationTokenSource _stop = new();
    private Task _loop = Task.CompletedTask;
    private Task _watch = Task.CompletedTask;

    private List<string> _roots;
    private long _version = 1;
    private Phase _phase = Phase.Steady;
    private CertificateAuthority? _next;
    private DateTimeOffset _deadline;
    private DateTimeOffset? _drainUntil;
    private Trust.V1.TrustBundle _bundle;
    private SslStreamCertificateContext? _serverContext;

    private enum Phase
    {
        Steady,
        Announcing,
        Reissuing,
    }

    public TrustRollout(MeshIdentity identity, ResourceStore store, string caDirectory, string trustDomain, string rootNamespace, IPAddress? listening, TimeProvider time, ILogger logger)
    {
        _identity = identity;
        _store = store;
        _caDirectory = caDirectory;
        _trustDomain = trustDomain;
        _secretKey = new ObjectKey(ResourceTypes.Secret, rootNamespace, "cacerts");
        _listening = listening;
        _time = time;
        _logger = logger;
        _roots = [.. identity.Authority.Roots];
        _bundle = Bundle();
        if (listening is not null)
        {
            _serverContext = ServerContext(identity.Authority);
        }

        WriteBundleFile();
    }

    /// <summary>The bundle in force now, as the trust stream sends it.</summary>
    internal Trust.V1.TrustBundle Current
    {
        get
        {
            lock (_gate)
            {
                return _bundle;
            }
        }
    }

    /// <summary>The roots in force now (PEM).</summary>
    public string RootBundle => Current.Roots;

    /// <summary>The discovery port's certificate (issued by the CA that signs now) with the chain it is sent with.</summary>
    public SslStreamCertificateContext ServerCertificate => Volatile.Read(ref _serverContext) ?? throw new InvalidOperationException("the control plane has no TLS port");

    /// <summary>Cancelled when the control plane stops: the trust streams end.</summary>
    internal CancellationToken Stopping => _stop.Token;

    public void Start()
    {
        var revision = _store.Current.Revision;
        _watch = Task.Run(() => WatchAsync(revision, _stop.Token));
        _loop = Task.Run(() => TickAsync(_stop.Token));
    }

    /// <summary>A proxy opened the trust stream; it gets the bundle in force at once.</summary>
    internal TrustSubscriber Subscribe(string name, string @namespace)
    {
        var subscriber = new TrustSubscriber(name, @namespace);
        lock (_gate)
        {
            _subscribers.Add(subscriber);
            subscriber.Offer(_bundle);
        }

        return subscriber;
    }

    internal void Unsubscribe(TrustSubscriber subscriber)
    {
        lock (_gate)
        {
            _subscribers.Remove(subscriber);
            Advance();
        }
    }

    /// <summary>A proxy reported what it holds.</summary>
    internal void Reported(TrustSubscriber subscriber, Trust.V1.TrustReport report)
    {
        lock (_gate)
        {
            subscriber.BundleVersion = report.BundleVersion;
            subscriber.CertificateSigner = report.CertificateSigner;
            subscriber.CertificateNotAfter = DateTimeOffset.FromUnixTimeSeconds(Math.Clamp(report.CertificateNotAfter, 0, 253402300799));
            Advance();
        }
    }

    /// <summary>A workload certificate was issued by <paramref name="signer"/> until <paramref name="notAfter"/>: the old root stays at most that long.</summary>
    internal void Issued(string signer, DateTimeOffset notAfter)
    {
        lock (_gate)
        {
            if (!_issuedUntil.TryGetValue(signer, out var until) || notAfter > until)
            {
                _issuedUntil[signer] = notAfter;
            }
        }
    }

    private async Task WatchAsync(long revision, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await foreach (var change in _store.Changes.WatchAsync(revision, cancellationToken).ConfigureAwait(false))
                {
                    revision = change.Revision;
                    if (change.Object.Key == _secretKey)
                    {
                        SecretChanged(_store.Current.Get(_secretKey));
                    }
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (StoreException)
            {
                revision = _store.Current.Revision; // fell behind the feed: read the secret as it is now
                SecretChanged(_store.Current.Get(_secretKey));
            }
        }
    }

    private async Task TickAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(1), _time, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            lock (_gate)
            {
                Advance();
            }
        }
    }

    /// <summary>Secret <c>cacerts</c> is now <paramref name="secret"/> (null: deleted): starts a change of root when it names another CA.</summary>
    internal void SecretChanged(Resource? secret)
    {
        CertificateAuthority candidate;
        try
        {
            candidate = secret is null
                ? CertificateAuthority.Load(_caDirectory, _trustDomain, null, _time)
                : CertificateAuthority.Load(_caDirectory, _trustDomain, CertificateAuthority.PlugInData(secret.Json), _time);
        }
        catch (Exception e) when (e is InvalidDataException or System.Security.Cryptography.CryptographicException or IOException)
        {
            Log.Refused(_logger, e.Message, _identity.Authority.Source);
            return;
        }

        lock (_gate)
        {
            var target = _next ?? _identity.Authority;
            if (target.SignerFingerprint == candidate.SignerFingerprint && target.RootBundle == candidate.RootBundle)
            {
                candidate.Dispose(); // the same CA (a label changed, or the control plane started with it)
                return;
            }

            if (_next is not null && !ReferenceEquals(_next, _identity.Authority))
            {
                _retired.Add(_next); // announced, never signed: a newer one replaces it
            }

            _next = candidate;
            foreach (var root in candidate.Roots)
            {
                if (!_roots.Contains(root))
                {
                    _roots.Add(root);
                }
            }

            _phase = Phase.Announcing;
            _deadline = _time.GetUtcNow() + AnnounceTimeout;
            _drainUntil = null;
            Publish();
            Log.Announcing(_logger, candidate.Source, candidate.SigningCertificate.SerialNumber.ToLowerInvariant(), _roots.Count, _bundle.Version, _subscribers.Count);
            Advance();
        }
    }

    /// <summary>Moves the change on when the proxies are ready for its next step (or waited long enough). Called under the gate.</summary>
    private void Advance()
    {
        var now = _time.GetUtcNow();
        if (_phase == Phase.Announcing)
        {
            var waiting = Waiting(s => s.BundleVersion != _bundle.Version);
            if (waiting.Count > 0 && now < _deadline)
            {
                return;
            }

            if (waiting.Count > 0)
            {
                Log.AnnounceTimedOut(_logger, _bundle.Version, string.Join(", ", waiting));
            }

            var next = _next!;
            var previous = _identity.Authority;
            _identity.SignWith(next);
            _retired.Add(previous);
            if (_listening is not null)
            {
                Volatile.Write(ref _serverContext, ServerContext(next));
            }

            _phase = Phase.Reissuing;
            var oldUntil = now;
            foreach (var (signer, until) in _issuedUntil)
            {
                if (signer != next.SignerFingerprint && until > oldUntil)
                {
                    oldUntil = until;
                }
            }

            foreach (var subscriber in _subscribers)
            {
                if (subscriber.CertificateSigner.Length > 0 && subscriber.CertificateSigner != next.SignerFingerprint && subscriber.CertificateNotAfter > oldUntil)
                {
                    oldUntil = subscriber.CertificateNotAfter; // issued before this control plane started
                }
            }

            Publish();
            Log.Signing(_logger, next.Source, next.SigningCertificate.SerialNumber.ToLowerInvariant(), _bundle.Version, oldUntil);
            return;
        }

        if (_phase == Phase.Reissuing)
        {
            var signer = _identity.Authority.SignerFingerprint;
            // A proxy still on an old CA's certificate keeps the old root in the bundle until that certificate expires.
            var waiting = Waiting(s => s.CertificateSigner.Length > 0 && s.CertificateSigner != signer && s.CertificateNotAfter > now);
            var expired = Waiting(s => s.CertificateSigner.Length > 0 && s.CertificateSigner != signer && s.CertificateNotAfter <= now);
            if (waiting.Count > 0)
            {
                return;
            }

            if (_drainUntil is null && _subscribers.Count > 0)
            {
                _drainUntil = now + HandshakeDrain;
                Log.Draining(_logger, _drainUntil.Value);
            }

            if (_drainUntil is { } until && now < until)
            {
                return;
            }

            _drainUntil = null;
            _roots = [.. _identity.Authority.Roots];
            _phase = Phase.Steady;
            _next = null;
            Publish();
            Log.Completed(_logger, _identity.Authority.Source, _roots.Count, _bundle.Version, expired.Count == 0 ? "every proxy holds a certificate from the new CA" : $"the old CA's certificates have expired ({string.Join(", ", expired)} did not renew)");
        }
    }

    private List<string> Waiting(Func<TrustSubscriber, bool> notReady)
    {
        var waiting = new List<string>();
        foreach (var subscriber in _subscribers)
        {
            if (notReady(subscriber))
            {
                waiting.Add($"{subscriber.Name}.{subscriber.Namespace}");
            }
        }

        return waiting;
    }

    /// <summary>A new bundle version to every subscriber (called under the gate).</summary>
    private void Publish()
    {
        _version++;
        _bundle = Bundle();
        foreach (var subscriber in _subscribers)
        {
            subscriber.Offer(_bundle);
        }

        WriteBundleFile();
    }

    private Trust.V1.TrustBundle Bundle() => new()
    {
        Version = _version.ToString(System.Globalization.CultureInfo.InvariantCulture),
        Roots = string.Concat(_roots),
        Signer = _identity.Authority.SignerFingerprint,
    };

    private void WriteBundleFile()
    {
        Directory.CreateDirectory(_caDirectory);
        var path = Path.Combine(_caDirectory, BundleFile);
        if (File.Exists(path) && File.ReadAllText(path) == _bundle.Roots)
        {
            return; // unchanged: nothing to write (a control plane may start on a read-only data directory)
        }

        var temporary = path + ".tmp";
        File.WriteAllText(temporary, _bundle.Roots);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(temporary, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        }

        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>istiod's serving certificate: <c>istiod.istio-system.svc</c>, <c>localhost</c> and the address it listens on.</summary>
    private SslStreamCertificateContext ServerContext(CertificateAuthority authority)
    {
        var addresses = new List<IPAddress> { IPAddress.Loopback, IPAddress.IPv6Loopback };
        if (_listening is { } listening && !listening.Equals(IPAddress.Any) && !listening.Equals(IPAddress.IPv6Any) && !addresses.Contains(listening))
        {
            addresses.Add(listening);
        }

        var certificate = authority.IssueServerCertificate(["istiod.istio-system.svc", "istiod.istio-system.svc.cluster.local", "localhost"], addresses, ServerCertificateLifetime);
        return SslStreamCertificateContext.Create(certificate, authority.ChainAboveLeaf(), offline: true);
    }

    public async ValueTask DisposeAsync()
    {
        if (_stop.IsCancellationRequested)
        {
            return;
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        await _watch.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        lock (_gate)
        {
            foreach (var authority in _retired)
            {
                if (!ReferenceEquals(authority, _identity.Authority))
                {
                    authority.Dispose();
                }
            }

            _retired.Clear();
            if (_next is not null && !ReferenceEquals(_next, _identity.Authority))
            {
                _next.Dispose();
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "ca: root change 1/3: Secret cacerts now names the {Source} (signing serial {Serial}); trust bundle {Version} holds {Roots} roots, old and new, sent to {Proxies} proxies; still signing with the old CA until they have it")]
        public static partial void Announcing(ILogger logger, string source, string serial, int roots, string version, int proxies);

        [LoggerMessage(2, LogLevel.Warning, "ca: root change: trust bundle {Version} not confirmed within the wait by {Proxies}; going on without them")]
        public static partial void AnnounceTimedOut(ILogger logger, string version, string proxies);

        [LoggerMessage(6, LogLevel.Information, "ca: root change 3/3: every proxy reports a certificate from the new CA; the old root stays in the bundle until {Until:O}, for handshakes begun with an old certificate")]
        public static partial void Draining(ILogger logger, DateTimeOffset until);

        [LoggerMessage(3, LogLevel.Information, "ca: root change 2/3: every proxy trusts the new root; signing with the {Source} (serial {Serial}) from now on, the discovery certificate too (bundle {Version}); proxies renew their certificates now, the old root stays until they have (at the latest {OldUntil:O})")]
        public static partial void Signing(ILogger logger, string source, string serial, string version, DateTimeOffset oldUntil);

        [LoggerMessage(4, LogLevel.Information, "ca: root change 3/3: complete, {Reason}; trust bundle {Version} holds the {Roots} root(s) of the {Source} only")]
        public static partial void Completed(ILogger logger, string source, int roots, string version, string reason);

        [LoggerMessage(5, LogLevel.Error, "ca: refused the new CA: {Reason}; nothing changes, still signing with the {Current}")]
        public static partial void Refused(ILogger logger, string reason, string current);
    }
}

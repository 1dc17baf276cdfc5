namespace Meshgate.ControlPlane.Identity;

/// <summary>The control plane's identity services: the CA, the pod-bound tokens, and the certificate lifetimes in force.</summary>
public sealed class MeshIdentity(CertificateAuthority authority, ServiceAccountTokens tokens, TimeSpan defaultLifetime, TimeSpan maxLifetime) : IDisposable
{
    /// <summary>Istio's default workload certificate lifetime (DEFAULT_WORKLOAD_CERT_TTL).</summary>
    public static readonly TimeSpan DefaultWorkloadLifetime = TimeSpan.FromHours(24);

    /// <summary>Istio's longest (MAX_WORKLOAD_CERT_TTL).</summary>
    public static readonly TimeSpan MaxWorkloadLifetime = TimeSpan.FromDays(90);

    private CertificateAuthority _authority = authority;

    /// <summary>The CA that signs now; <see cref="TrustRollout"/> replaces it when the root changes.</summary>
    public CertificateAuthority Authority => Volatile.Read(ref _authority);

    /// <summary>Signs with <paramref name="next"/> from now on. The one before is kept alive (a request may be signing with it).</summary>
    internal void SignWith(CertificateAuthority next) => Volatile.Write(ref _authority, next);

    public ServiceAccountTokens Tokens { get; } = tokens;

    public TimeSpan DefaultLifetime { get; } = defaultLifetime;

    /// <summary>The lifetime for a request of <paramref name="seconds"/> (0: the default; more than the maximum: the maximum).</summary>
    public TimeSpan Lifetime(long seconds) =>
        seconds <= 0 ? DefaultLifetime : TimeSpan.FromSeconds(Math.Min(seconds, (long)maxLifetime.TotalSeconds));

    public void Dispose()
    {
        Authority.Dispose();
        Tokens.Dispose();
    }
}

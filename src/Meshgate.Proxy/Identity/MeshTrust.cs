using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace Meshgate.Proxy.Identity;

/// <summary>
/// The roots this proxy trusts for the mesh (the control plane's certificate, and secret <c>ROOTCA</c>): first
/// <c>--ca-root-file</c>'s, then each bundle the control plane sends on the trust stream (<see cref="TrustWatcher"/>),
/// replaced whole. Readers take <see cref="Current"/> once; a change never touches a handshake already done.
/// </summary>
public sealed class MeshTrust
{
    private State _state;

    public MeshTrust(string rootBundle)
    {
        _state = State.From("", rootBundle);
    }

    /// <summary>The roots in force as PEM, and the control plane's version of them (empty: the file's).</summary>
    public (string Version, string Roots) Current
    {
        get
        {
            var state = Volatile.Read(ref _state);
            return (state.Version, state.Pem);
        }
    }

    /// <summary>Puts <paramref name="roots"/> (PEM) in force as version <paramref name="version"/>.</summary>
    /// <exception cref="System.Security.Cryptography.CryptographicException">The bundle holds no certificate.</exception>
    public void Set(string version, string roots) => Volatile.Write(ref _state, State.From(version, roots));

    /// <summary>
    /// Whether <paramref name="certificate"/> (the control plane's) chains to a root in force; the platform has
    /// checked its name (<see cref="SslPolicyErrors.RemoteCertificateNameMismatch"/>), the chain is checked here
    /// against these roots only, never the system's.
    /// </summary>
    public bool Validate(X509Certificate? certificate, X509Chain? presented, SslPolicyErrors errors)
    {
        if (certificate is null || (errors & (SslPolicyErrors.RemoteCertificateNameMismatch | SslPolicyErrors.RemoteCertificateNotAvailable)) != 0)
        {
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.DisableCertificateDownloads = true;
        chain.ChainPolicy.CustomTrustStore.AddRange(Volatile.Read(ref _state).Roots);
        if (presented is not null)
        {
            // The intermediates the server sent (the platform put them there) and whatever chain it built.
            chain.ChainPolicy.ExtraStore.AddRange(presented.ChainPolicy.ExtraStore);
            foreach (var element in presented.ChainElements)
            {
                chain.ChainPolicy.ExtraStore.Add(element.Certificate);
            }
        }

        return chain.Build(certificate as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData()));
    }

    private sealed record State(string Version, string Pem, X509Certificate2Collection Roots)
    {
        public static State From(string version, string pem)
        {
            var roots = new X509Certificate2Collection();
            roots.ImportFromPem(pem);
            if (roots.Count == 0)
            {
                throw new System.Security.Cryptography.CryptographicException("the trust bundle holds no PEM certificate");
            }

            return new State(version, pem, roots);
        }
    }
}

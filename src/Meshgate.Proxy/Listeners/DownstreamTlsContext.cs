using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Meshgate.Core.ProxyConfiguration;
using Meshgate.Proxy.Upstream;

namespace Meshgate.Proxy.Listeners;

/// <summary>
/// TLS termination for one filter chain (an Istio Gateway server with <c>tls.mode: SIMPLE</c>, <c>MUTUAL</c> or
/// <c>ISTIO_MUTUAL</c>), built once per snapshot: the certificate chain and key the proxy presents, and for the mutual
/// modes the trusted CA and the identities a client certificate must carry. Nothing is parsed per connection; each
/// handshake gets only a small options object carrying its own failure reason.
/// </summary>
internal sealed class DownstreamTlsContext
{
    /// <summary>ALPN of an HTTPS chain on a bound listener: HTTP/2 preferred, HTTP/1.1.</summary>
    public static readonly List<SslApplicationProtocol> Http2AndHttp11 = [SslApplicationProtocol.Http2, SslApplicationProtocol.Http11];

    /// <summary>ALPN of an HTTPS chain reached through the capture listener, whose Kestrel speaks HTTP/1.1 only.</summary>
    public static readonly List<SslApplicationProtocol> Http11Only = [SslApplicationProtocol.Http11];

    private readonly SslStreamCertificateContext? _certificate;
    private readonly X509ChainPolicy? _clientPolicy;
    private readonly string[] _subjectAltNames = [];

    private DownstreamTlsContext(string unusable)
    {
        Unusable = unusable;
    }

    private DownstreamTlsContext(SslStreamCertificateContext certificate, X509ChainPolicy? clientPolicy, string[] subjectAltNames)
    {
        _certificate = certificate;
        _clientPolicy = clientPolicy;
        _subjectAltNames = subjectAltNames;
    }

    /// <summary>Why the chain cannot terminate TLS (a missing or unreadable secret); every handshake is refused then.</summary>
    public string? Unusable { get; }

    /// <summary>True when a client certificate is required (MUTUAL, ISTIO_MUTUAL).</summary>
    public bool Mutual => _clientPolicy is not null;

    /// <summary>
    /// The context for <paramref name="tls"/>, reading PEM from <paramref name="secrets"/>. Never throws: a missing or
    /// unreadable secret gives a context whose handshakes are all refused, with <see cref="Unusable"/> saying why.
    /// </summary>
    public static DownstreamTlsContext Create(DownstreamTls tls, IReadOnlyDictionary<string, Secret> secrets)
    {
        try
        {
            return Build(tls, secrets);
        }
        catch (Exception e) when (e is InvalidOperationException or CryptographicException or ArgumentException)
        {
            return new DownstreamTlsContext(e.Message);
        }
    }

    private static DownstreamTlsContext Build(DownstreamTls tls, IReadOnlyDictionary<string, Secret> secrets)
    {
        if (tls.EffectiveCertificateSecret is not { } certificateName)
        {
            throw new InvalidOperationException("filter chain tls.certificateSecret: absent; name the secret with the server's certificateChain and privateKey");
        }

        var secret = Find(secrets, certificateName, "certificateSecret");
        if (secret.CertificateChain is null || secret.PrivateKey is null)
        {
            throw new InvalidOperationException($"filter chain tls.certificateSecret: secret \"{certificateName}\" needs certificateChain and privateKey (PEM)");
        }

        var chain = new X509Certificate2Collection();
        chain.ImportFromPem(secret.CertificateChain);
        var leaf = X509Certificate2.CreateFromPem(secret.CertificateChain, secret.PrivateKey);
        chain.RemoveAt(0);
        var certificate = SslStreamCertificateContext.Create(leaf, chain, offline: true);

        X509ChainPolicy? policy = null;
        if (tls.Mode is TlsMode.Mutual or TlsMode.IstioMutual)
        {
            if (tls.EffectiveCaSecret is not { } caName)
            {
                throw new InvalidOperationException("filter chain tls.caSecret: absent; MUTUAL needs the secret whose trustedCa verifies client certificates");
            }

            var ca = Find(secrets, caName, "caSecret");
            if (ca.TrustedCa is null)
            {
                throw new InvalidOperationException($"filter chain tls.caSecret: secret \"{caName}\" has no trustedCa; put the CA certificate (PEM) there");
            }

            // As BoringSSL in Envoy: only the given CA, no revocation checks, no fetching of missing intermediates.
            policy = new X509ChainPolicy
            {
                RevocationMode = X509RevocationMode.NoCheck,
                DisableCertificateDownloads = true,
                TrustMode = X509ChainTrustMode.CustomRootTrust,
            };
            var roots = new X509Certificate2Collection();
            roots.ImportFromPem(ca.TrustedCa);
            policy.CustomTrustStore.AddRange(roots);
        }

        var sans = new string[tls.SubjectAltNames.Count];
        for (var i = 0; i < sans.Length; i++)
        {
            sans[i] = tls.SubjectAltNames[i];
        }

        return new DownstreamTlsContext(certificate, policy, sans);
    }

    /// <summary>
    /// Options for one handshake offering <paramref name="alpn"/> (none for a chain that relays TCP);
    /// <paramref name="failure"/> receives why a client certificate was refused.
    /// </summary>
    public SslServerAuthenticationOptions Options(List<SslApplicationProtocol>? alpn, TlsFailure failure)
    {
        var options = new SslServerAuthenticationOptions
        {
            ServerCertificateContext = _certificate,
            ApplicationProtocols = alpn,
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
        };
        if (_clientPolicy is not null)
        {
            options.ClientCertificateRequired = true;
            // No resumed sessions: OpenSSL keeps only the client's leaf in a session (SSL_get_peer_cert_chain is empty
            // on resumption), so a client certificate issued by an intermediate (a plug-in CA) would no longer chain
            // to the root and the resumed handshake would be refused. BoringSSL, in Envoy, keeps the chain.
            options.AllowTlsResume = false;
            options.CertificateChainPolicy = _clientPolicy.Clone(); // SslStream adds the client's intermediates to it: one each
            options.RemoteCertificateValidationCallback = (_, certificate, _, errors) => Validate(certificate as X509Certificate2, errors, failure);
        }

        return options;
    }

    private bool Validate(X509Certificate2? certificate, SslPolicyErrors errors, TlsFailure failure)
    {
        if (certificate is null || (errors & SslPolicyErrors.RemoteCertificateNotAvailable) != 0)
        {
            failure.Reason = "TLS_error:|PEER_DID_NOT_RETURN_A_CERTIFICATE:TLS_error_end";
            return false;
        }

        if ((errors & SslPolicyErrors.RemoteCertificateChainErrors) != 0)
        {
            failure.Reason = "TLS_error:|CERTIFICATE_VERIFY_FAILED:TLS_error_end";
            return false;
        }

        // A client's certificate names no host: only the SAN list, when given, restricts who may connect.
        if (_subjectAltNames.Length == 0)
        {
            return true;
        }

        foreach (var name in _subjectAltNames)
        {
            if (UpstreamTlsContext.HasSubjectAltName(certificate, name))
            {
                return true;
            }
        }

        failure.Reason = "TLS_error:|CERTIFICATE_VERIFY_FAILED:verify cert failed: verify SAN list:TLS_error_end";
        return false;
    }

    private static Secret Find(IReadOnlyDictionary<string, Secret> secrets, string name, string field) =>
        secrets.TryGetValue(name, out var secret)
            ? secret
            : throw new InvalidOperationException($"filter chain tls.{field}: no secret named \"{name}\" in the snapshot's secrets; add it (ISTIO_MUTUAL needs \"default\" and \"ROOTCA\")");
}

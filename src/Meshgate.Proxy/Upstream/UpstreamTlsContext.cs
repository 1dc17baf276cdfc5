using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Meshgate.Core.ProxyConfiguration;

namespace Meshgate.Proxy.Upstream;

/// <summary>
/// TLS origination towards a cluster's endpoints (Istio's DestinationRule <c>tls.mode: SIMPLE</c> or <c>MUTUAL</c>),
/// built once per cluster: the SNI sent (<c>tls.sni</c>, else the cluster's service host), the trusted roots (the
/// <c>CaSecret</c>'s trusted CA, else the system's), the identities the server certificate must carry
/// (<c>subjectAltNames</c>, else the SNI name) and, for MUTUAL, the client certificate.
/// </summary>
public sealed class UpstreamTlsContext
{
    private readonly X509Certificate2Collection? _roots;
    private readonly string[] _subjectAltNames;
    private readonly SslStreamCertificateContext? _clientCertificate;

    /// <summary>ISTIO_MUTUAL: the peer is a workload named by its SPIFFE identity, never by the SNI (which names the destination host).</summary>
    private readonly bool _meshPeer;

    /// <summary>ALPN for an HTTP/1.1 connection.</summary>
    internal static readonly List<SslApplicationProtocol> Http11Only = [SslApplicationProtocol.Http11];

    /// <summary>ALPN for a cluster that speaks HTTP/2 (Envoy's <c>http2_protocol_options</c> with TLS).</summary>
    internal static readonly List<SslApplicationProtocol> Http2Only = [SslApplicationProtocol.Http2];

    /// <summary>ALPN for a cluster that takes HTTP/2 when the server offers it, else HTTP/1.1.</summary>
    internal static readonly List<SslApplicationProtocol> Http2AndHttp11 = [SslApplicationProtocol.Http2, SslApplicationProtocol.Http11];

    /// <summary>The mesh tunnel's mark (<see cref="UpstreamTls.TunnelProtocol"/>); nothing else is offered.</summary>
    internal static readonly List<SslApplicationProtocol> TunnelOnly = [new(UpstreamTls.TunnelProtocol)];

    private readonly List<SslApplicationProtocol> _alpn;

    private UpstreamTlsContext(string sni, X509Certificate2Collection? roots, string[] subjectAltNames, SslStreamCertificateContext? clientCertificate, bool meshPeer = false, bool tunnel = false)
    {
        _meshPeer = meshPeer;
        _alpn = tunnel ? TunnelOnly : Http11Only;
        Sni = sni;
        _roots = roots;
        _subjectAltNames = subjectAltNames;
        _clientCertificate = clientCertificate;
    }

    /// <summary>The server name sent in the ClientHello (RFC 6066) and checked against the certificate when no SANs are given.</summary>
    public string Sni { get; }

    /// <summary>
    /// The context for <paramref name="tls"/>, reading PEM from <paramref name="secrets"/>; an error names the field and
    /// the fix when a secret is missing or unreadable.
    /// </summary>
    public static UpstreamTlsContext Create(UpstreamTls tls, string serviceHost, IReadOnlyDictionary<string, Secret> secrets)
    {
        try
        {
            return Build(tls, serviceHost, secrets);
        }
        catch (Exception e) when (e is InvalidOperationException or CryptographicException or ArgumentException)
        {
            // Never fail a snapshot over it: every handshake fails instead, saying why in the access log.
            return new UpstreamTlsContext(tls.Sni ?? serviceHost, null, [], null) { Unusable = e.Message };
        }
    }

    /// <summary>Why the cluster's TLS settings cannot be used (a missing or unreadable secret); null when they can.</summary>
    public string? Unusable { get; private init; }

    private static UpstreamTlsContext Build(UpstreamTls tls, string serviceHost, IReadOnlyDictionary<string, Secret> secrets)
    {
        X509Certificate2Collection? roots = null;
        if (tls.EffectiveCaSecret is { } caName)
        {
            var ca = Find(secrets, caName, "caSecret");
            if (ca.TrustedCa is null)
            {
                throw new InvalidOperationException($"cluster tls.caSecret: secret \"{caName}\" has no trustedCa; put the CA certificate (PEM) there");
            }

            roots = [];
            roots.ImportFromPem(ca.TrustedCa);
        }

        SslStreamCertificateContext? client = null;
        if (tls.EffectiveCertificateSecret is { } certificateName)
        {
            var secret = Find(secrets, certificateName, "certificateSecret");
            if (secret.CertificateChain is null || secret.PrivateKey is null)
            {
                throw new InvalidOperationException($"cluster tls.certificateSecret: secret \"{certificateName}\" needs certificateChain and privateKey (PEM)");
            }

            var chain = new X509Certificate2Collection();
            chain.ImportFromPem(secret.CertificateChain);
            var leaf = X509Certificate2.CreateFromPem(secret.CertificateChain, secret.PrivateKey);
            chain.RemoveAt(0);
            client = SslStreamCertificateContext.Create(leaf, chain, offline: true);
        }

        var sans = new string[tls.SubjectAltNames.Count];
        for (var i = 0; i < sans.Length; i++)
        {
            sans[i] = tls.SubjectAltNames[i];
        }

        return new UpstreamTlsContext(tls.Sni ?? serviceHost, roots, sans, client, tls.Mode == TlsMode.IstioMutual, tls.Tunnel);
    }

    /// <summary>The mesh tunnel (ALPN <c>istio</c>, HTTP/1.1 inside): its connections offer nothing else.</summary>
    public bool Tunnel => ReferenceEquals(_alpn, TunnelOnly);

    /// <summary>ISTIO_MUTUAL: the peer is a mesh workload (a sidecar or a gateway).</summary>
    public bool MeshPeer => _meshPeer;

    /// <summary>Options for one handshake; <paramref name="failure"/> receives why the server was refused, Envoy style.</summary>
    public SslClientAuthenticationOptions Options(TlsFailure failure) => Options(failure, null);

    /// <summary>
    /// As <see cref="Options(TlsFailure)"/>, offering <paramref name="alpn"/> (HTTP/1.1 when null); the tunnel always
    /// offers only its own mark.
    /// </summary>
    public SslClientAuthenticationOptions Options(TlsFailure failure, List<SslApplicationProtocol>? alpn)
    {
        var options = new SslClientAuthenticationOptions
        {
            TargetHost = Sni,
            ApplicationProtocols = Tunnel ? TunnelOnly : alpn ?? Http11Only,
            RemoteCertificateValidationCallback = (_, certificate, chain, errors) => Validate(certificate as X509Certificate2, errors, failure),
        };
        // As BoringSSL in Envoy: no revocation checks and no fetching of missing intermediates, so a handshake never
        // waits on the network (handlers may run on the socket threads, see InlineIo).
        options.CertificateChainPolicy = new X509ChainPolicy
        {
            RevocationMode = X509RevocationMode.NoCheck,
            DisableCertificateDownloads = true,
        };
        if (_roots is not null)
        {
            options.CertificateChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            options.CertificateChainPolicy.CustomTrustStore.AddRange(_roots);
        }

        if (_clientCertificate is not null)
        {
            options.ClientCertificateContext = _clientCertificate;
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

        if (_subjectAltNames.Length == 0)
        {
            // A mesh peer with no identities known (no workload behind the service yet): its chain to the mesh root is the check.
            if (_meshPeer)
            {
                return true;
            }

            if ((errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0)
            {
                failure.Reason = $"TLS_error:|CERTIFICATE_VERIFY_FAILED:verify cert failed: SAN does not match {Sni}:TLS_error_end";
                return false;
            }

            return true;
        }

        // Istio's subjectAltNames replace the name check: the certificate must carry one of them (DNS or URI SAN).
        foreach (var name in _subjectAltNames)
        {
            if (HasSubjectAltName(certificate, name))
            {
                return true;
            }
        }

        failure.Reason = "TLS_error:|CERTIFICATE_VERIFY_FAILED:verify cert failed: verify SAN list:TLS_error_end";
        return false;
    }

    internal static bool HasSubjectAltName(X509Certificate2 certificate, string name)
    {
        foreach (var extension in certificate.Extensions)
        {
            if (extension is X509SubjectAlternativeNameExtension san)
            {
                foreach (var dns in san.EnumerateDnsNames())
                {
                    if (string.Equals(dns, name, StringComparison.OrdinalIgnoreCase))
                    {
                        return true;
                    }
                }
            }
        }

        // URI SANs (spiffe://...) are not enumerated by the extension type; compare the decoded text.
        return name.Contains("://", StringComparison.Ordinal) && certificate.GetNameInfo(X509NameType.UrlName, forIssuer: false) == name;
    }

    private static Secret Find(IReadOnlyDictionary<string, Secret> secrets, string name, string field) =>
        secrets.TryGetValue(name, out var secret)
            ? secret
            : throw new InvalidOperationException($"cluster tls.{field}: no secret named \"{name}\"; add it to the snapshot's secrets");
}

/// <summary>Why an upstream TLS handshake was refused (%UPSTREAM_TRANSPORT_FAILURE_REASON%), filled by validation.</summary>
public sealed class TlsFailure
{
    public string? Reason { get; set; }
}

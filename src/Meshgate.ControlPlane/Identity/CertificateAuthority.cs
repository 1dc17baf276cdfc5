using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Meshgate.ControlPlane.Identity;

/// <summary>
/// The mesh's certificate authority (istiod's CA): signs workload certificates with a SPIFFE URI SAN, and serves the
/// root bundle proxies trust. Its key is either a self-signed root kept in <c>DATA/ca</c> (created on first start,
/// key file 0600, kept across restarts so issued certificates stay valid) or a plug-in CA from Secret <c>cacerts</c>
/// in the root namespace, read as Istio reads it. Immutable once loaded; <see cref="Issue"/> is thread-safe.
/// </summary>
public sealed class CertificateAuthority : IDisposable
{
    public const string RootCertificateFile = "root-cert.pem";
    public const string KeyFile = "ca-key.pem";

    /// <summary>Certificates are valid from a minute before they are issued, for clocks a little behind the CA's.</summary>
    private static readonly TimeSpan Backdate = TimeSpan.FromMinutes(1);

    private readonly X509Certificate2 _signer;
    private readonly string[] _chainAboveLeaf;
    private readonly TimeProvider _time;

    private CertificateAuthority(X509Certificate2 signer, string[] chainAboveLeaf, string rootBundle, string source, TimeProvider time)
    {
        _signer = signer;
        _chainAboveLeaf = chainAboveLeaf;
        RootBundle = rootBundle;
        Source = source;
        _time = time;
    }

    /// <summary>The PEM certificates proxies trust (secret <c>ROOTCA</c>).</summary>
    public string RootBundle { get; }

    /// <summary>Where the signing key came from, for the start-up log (never the key itself).</summary>
    public string Source { get; }

    /// <summary>The signing certificate (no key), e.g. for its serial and expiry in logs.</summary>
    public X509Certificate2 SigningCertificate => _signer;

    /// <summary>The SHA-256 fingerprint (lowercase hex) of the signing certificate: which CA issued a workload certificate.</summary>
    public string SignerFingerprint => Fingerprint(_signer);

    /// <summary>The roots of <see cref="RootBundle"/>, one PEM each (normalized: one trailing newline).</summary>
    public IReadOnlyList<string> Roots => SplitPem(RootBundle);

    /// <summary>The SHA-256 fingerprint (lowercase hex) of <paramref name="certificate"/>.</summary>
    public static string Fingerprint(X509Certificate2 certificate) =>
        Convert.ToHexStringLower(certificate.GetCertHash(HashAlgorithmName.SHA256));

    /// <summary>The certificates of a PEM bundle, each written again as one PEM block ending in a newline.</summary>
    public static IReadOnlyList<string> SplitPem(string bundle)
    {
        var certificates = new X509Certificate2Collection();
        certificates.ImportFromPem(bundle);
        var pems = new List<string>(certificates.Count);
        foreach (var certificate in certificates)
        {
            pems.Add(certificate.ExportCertificatePem() + "\n");
            certificate.Dispose();
        }

        return pems;
    }

    /// <summary>
    /// The keys of Secret <c>cacerts</c> (<c>data</c> decoded from base64, <c>stringData</c> as written).
    /// </summary>
    /// <exception cref="InvalidDataException">A <c>data</c> value is not base64.</exception>
    public static IReadOnlyDictionary<string, byte[]> PlugInData(System.Text.Json.Nodes.JsonNode secret)
    {
        var data = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var (key, value) in secret["data"]?.AsObject() ?? [])
        {
            try
            {
                data[key] = Convert.FromBase64String(value?.GetValue<string>() ?? "");
            }
            catch (FormatException)
            {
                throw new InvalidDataException($"Secret cacerts: data.{key} is not base64");
            }
        }

        foreach (var (key, value) in secret["stringData"]?.AsObject() ?? [])
        {
            data[key] = Encoding.UTF8.GetBytes(value?.GetValue<string>() ?? "");
        }

        return data;
    }

    /// <summary>
    /// The plug-in CA when <paramref name="plugIn"/> holds one (Secret <c>cacerts</c>: <c>ca-cert.pem</c>,
    /// <c>ca-key.pem</c>, <c>root-cert.pem</c>, <c>cert-chain.pem</c>), else the self-signed root in
    /// <paramref name="directory"/>, created there on first use.
    /// </summary>
    /// <exception cref="InvalidDataException">The plug-in secret or the files are unusable; the message names the key or file and the fix.</exception>
    public static CertificateAuthority Load(string directory, string trustDomain, IReadOnlyDictionary<string, byte[]>? plugIn, TimeProvider time)
    {
        if (plugIn is not null)
        {
            return FromPlugIn(plugIn, time);
        }

        var certificatePath = Path.Combine(directory, RootCertificateFile);
        var keyPath = Path.Combine(directory, KeyFile);
        if (!File.Exists(certificatePath) || !File.Exists(keyPath))
        {
            CreateRoot(certificatePath, keyPath, trustDomain, time);
        }

        var certificatePem = File.ReadAllText(certificatePath);
        X509Certificate2 root;
        try
        {
            root = X509Certificate2.CreateFromPem(certificatePem, SecretFile.Read(keyPath));
        }
        catch (CryptographicException e)
        {
            throw new InvalidDataException($"{certificatePath} and {keyPath} do not make a CA ({e.Message}); move both away to create a new root (every workload certificate is then reissued)", e);
        }

        return new CertificateAuthority(root, [certificatePem.Trim() + "\n"], certificatePem.Trim() + "\n", $"self-signed root in {certificatePath}", time);
    }

    private static void CreateRoot(string certificatePath, string keyPath, string trustDomain, TimeProvider time)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(new X500DistinguishedName($"O={trustDomain}"), key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign | X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        var now = time.GetUtcNow();
        using var root = request.CreateSelfSigned(now - Backdate, now.AddYears(10)); // Istio's self-signed root: 10 years
        SecretFile.Write(keyPath, key.ExportPkcs8PrivateKeyPem() + "\n");
        File.WriteAllText(certificatePath, root.ExportCertificatePem() + "\n");
    }

    private static CertificateAuthority FromPlugIn(IReadOnlyDictionary<string, byte[]> data, TimeProvider time)
    {
        string Text(string key) => data.TryGetValue(key, out var bytes) && bytes.Length > 0
            ? Encoding.UTF8.GetString(bytes)
            : throw new InvalidDataException($"Secret cacerts: key {key} is missing; a plug-in CA needs ca-cert.pem, ca-key.pem and root-cert.pem, and cert-chain.pem when ca-cert.pem is an intermediate (Istio's \"Plug in CA certificates\"); create it with meshgate create secret generic cacerts -n istio-system --from-file=...");

        var caCertificate = Text("ca-cert.pem");
        var caKey = Text("ca-key.pem");
        var rootBundle = Text("root-cert.pem");
        var chain = data.ContainsKey("cert-chain.pem") ? Text("cert-chain.pem") : caCertificate;
        X509Certificate2 signer;
        try
        {
            signer = X509Certificate2.CreateFromPem(caCertificate, caKey);
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            throw new InvalidDataException($"Secret cacerts: ca-cert.pem and ca-key.pem do not make a signing key pair ({e.Message})", e);
        }

        if (signer.Extensions.OfType<X509BasicConstraintsExtension>().FirstOrDefault() is not { CertificateAuthority: true })
        {
            signer.Dispose();
            throw new InvalidDataException("Secret cacerts: ca-cert.pem is not a CA certificate (basicConstraints CA:TRUE is required)");
        }

        var chainCertificates = new X509Certificate2Collection();
        chainCertificates.ImportFromPem(chain);
        var roots = new X509Certificate2Collection();
        roots.ImportFromPem(rootBundle);
        if (roots.Count == 0)
        {
            signer.Dispose();
            throw new InvalidDataException("Secret cacerts: root-cert.pem holds no PEM certificate");
        }

        using (var check = new X509Chain())
        {
            check.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            check.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            check.ChainPolicy.DisableCertificateDownloads = true;
            check.ChainPolicy.CustomTrustStore.AddRange(roots);
            check.ChainPolicy.ExtraStore.AddRange(chainCertificates);
            if (!check.Build(signer))
            {
                var why = string.Join("; ", check.ChainStatus.Select(s => s.StatusInformation.Trim()).Where(s => s.Length > 0).Distinct());
                signer.Dispose();
                throw new InvalidDataException($"Secret cacerts: ca-cert.pem does not chain to a root of root-cert.pem through cert-chain.pem ({why})");
            }
        }

        // The chain workloads present: ca-cert.pem and its intermediates; the root ends the response, as Istio's.
        var above = chainCertificates.Select(c => c.ExportCertificatePem() + "\n").ToList();
        if (above.Count == 0 || chainCertificates[0].Thumbprint != signer.Thumbprint)
        {
            above.Insert(0, signer.ExportCertificatePem() + "\n");
        }

        var rootPems = roots.Select(c => c.ExportCertificatePem() + "\n").ToList();
        above.RemoveAll(rootPems.Contains);
        above.AddRange(rootPems.Take(1));
        return new CertificateAuthority(signer, [.. above], string.Concat(rootPems), "plug-in CA from Secret cacerts", time);
    }

    /// <summary>
    /// Signs <paramref name="csr"/> (PEM PKCS#10, its signature checked) for <paramref name="identity"/>: the
    /// certificate carries that URI SAN and nothing the request asked for but its public key. Returns the chain,
    /// leaf first and root last.
    /// </summary>
    /// <exception cref="CertificateRequestException">The request is unreadable, or asks for another identity.</exception>
    public IssuedCertificate Issue(string csr, string identity, TimeSpan lifetime)
    {
        CertificateRequest request;
        try
        {
            // The requested extensions are loaded only to check the identity asked for; the certificate is built anew
            // below and copies nothing from the request but its public key (hence "unsafe" is safe here).
            request = CertificateRequest.LoadSigningRequestPem(csr, HashAlgorithmName.SHA256, CertificateRequestLoadOptions.UnsafeLoadCertificateExtensions);
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            throw new CertificateRequestException($"the CSR is not a valid PEM PKCS#10 request: {e.Message}");
        }

        foreach (var asked in RequestedUris(request))
        {
            if (!string.Equals(asked, identity, StringComparison.Ordinal))
            {
                throw new CertificateRequestException($"the CSR asks for identity {asked}, but the caller is entitled to {identity} only");
            }
        }

        var signed = new CertificateRequest(new X500DistinguishedName(""), request.PublicKey, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddUri(new Uri(identity));
        // An empty subject needs the SAN marked critical (RFC 5280 4.2.1.6), as Istio's workload certificates have it.
        signed.CertificateExtensions.Add(new X509Extension(names.Build().Oid!, names.Build().RawData, critical: true));
        signed.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        signed.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
        signed.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false));
        AddAuthorityKeyIdentifier(signed);

        var now = _time.GetUtcNow();
        using var certificate = signed.Create(_signer.SubjectName, Generator(), now - Backdate, NotAfter(now, lifetime), NewSerial());
        var chain = new List<string>(_chainAboveLeaf.Length + 1) { certificate.ExportCertificatePem() + "\n" };
        chain.AddRange(_chainAboveLeaf);
        return new IssuedCertificate(chain, certificate.SerialNumber.ToLowerInvariant(), certificate.NotAfter.ToUniversalTime());
    }

    /// <summary>A server certificate for the control plane's own TLS port (istiod's <c>istiod.istio-system.svc</c>), with its key.</summary>
    public X509Certificate2 IssueServerCertificate(IEnumerable<string> dnsNames, IEnumerable<System.Net.IPAddress> addresses, TimeSpan lifetime)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(new X500DistinguishedName(""), key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        foreach (var name in dnsNames)
        {
            names.AddDnsName(name);
        }

        foreach (var address in addresses)
        {
            names.AddIpAddress(address);
        }

        var built = names.Build();
        request.CertificateExtensions.Add(new X509Extension(built.Oid!, built.RawData, critical: true));
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        AddAuthorityKeyIdentifier(request);
        var now = _time.GetUtcNow();
        using var certificate = request.Create(_signer.SubjectName, Generator(), now - Backdate, NotAfter(now, lifetime), NewSerial());
        return certificate.CopyWithPrivateKey(key);
    }

    /// <summary>The intermediates and root a server certificate from <see cref="IssueServerCertificate"/> is sent with.</summary>
    public X509Certificate2Collection ChainAboveLeaf()
    {
        var chain = new X509Certificate2Collection();
        foreach (var pem in _chainAboveLeaf)
        {
            chain.ImportFromPem(pem);
        }

        return chain;
    }

    /// <summary>The end of a certificate's validity: <paramref name="lifetime"/> from now, never past the CA's own.</summary>
    private DateTimeOffset NotAfter(DateTimeOffset now, TimeSpan lifetime) =>
        now + lifetime < _signer.NotAfter ? now + lifetime : new DateTimeOffset(_signer.NotAfter.ToUniversalTime(), TimeSpan.Zero);

    /// <summary>A random 127-bit serial: a positive INTEGER (RFC 5280 4.1.2.2).</summary>
    private static byte[] NewSerial()
    {
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7f;
        return serial;
    }

    /// <summary>RFC 5280 4.2.1.1: the signer's key identifier, when it has one (a plug-in CA's certificate may not).</summary>
    private void AddAuthorityKeyIdentifier(CertificateRequest request)
    {
        if (_signer.Extensions.OfType<X509SubjectKeyIdentifierExtension>().Any())
        {
            request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(_signer, includeKeyIdentifier: true, includeIssuerAndSerial: false));
        }
    }

    private X509SignatureGenerator Generator() =>
        _signer.GetECDsaPrivateKey() is { } ec ? X509SignatureGenerator.CreateForECDsa(ec)
        : _signer.GetRSAPrivateKey() is { } rsa ? X509SignatureGenerator.CreateForRSA(rsa, RSASignaturePadding.Pkcs1)
        : throw new InvalidOperationException("the CA key is neither ECDSA nor RSA");

    /// <summary>The URI SANs a CSR asks for (its extensionRequest attribute).</summary>
    internal static IEnumerable<string> RequestedUris(CertificateRequest request)
    {
        var uris = new List<string>();
        foreach (var extension in request.CertificateExtensions)
        {
            uris.AddRange(Core.Certificates.UriSubjectAltNames.Read(extension));
        }

        return uris;
    }

    public void Dispose() => _signer.Dispose();
}

/// <summary>A signed workload certificate: the PEM chain (leaf first, root last), its serial and expiry.</summary>
public sealed record IssuedCertificate(IReadOnlyList<string> Chain, string SerialNumber, DateTime NotAfter);

/// <summary>A certificate request the CA refuses; the message says why.</summary>
public sealed class CertificateRequestException(string message) : Exception(message);

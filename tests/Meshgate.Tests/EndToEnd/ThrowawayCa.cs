using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Meshgate.Tests.EndToEnd;

/// <summary>
/// A certificate authority made for one test, and server certificates it signs, written as PEM files for
/// real servers (nginx) and clients (curl --cacert). Nothing is added to any trust store.
/// </summary>
internal sealed class ThrowawayCa : IDisposable
{
    private readonly ECDsa _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly X509Certificate2 _certificate;

    public ThrowawayCa(string directory)
    {
        var request = new CertificateRequest("CN=Meshgate test CA", _key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        _certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-10), DateTimeOffset.UtcNow.AddDays(2));
        CertificatePath = Path.Combine(directory, "ca.crt");
        File.WriteAllText(CertificatePath, _certificate.ExportCertificatePem());
    }

    /// <summary>The CA certificate (PEM), for <c>curl --cacert</c>.</summary>
    public string CertificatePath { get; }

    /// <summary>Issues a server certificate for <paramref name="dnsName"/>; returns the PEM paths of it and its key.</summary>
    public (string Certificate, string Key) IssueServer(string dnsName, string directory) =>
        Issue(dnsName, "1.3.6.1.5.5.7.3.1", directory); // serverAuth

    /// <summary>Issues a client certificate (clientAuth) for <paramref name="name"/>; returns the PEM paths of it and its key.</summary>
    public (string Certificate, string Key) IssueClient(string name, string directory) =>
        Issue(name, "1.3.6.1.5.5.7.3.2", directory);

    private (string Certificate, string Key) Issue(string dnsName, string extendedKeyUsage, string directory)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={dnsName}", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName(dnsName);
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(extendedKeyUsage)], false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(_certificate, true, false));
        using var certificate = request.Create(_certificate, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1), RandomNumberGenerator.GetBytes(16));
        var certificatePath = Path.Combine(directory, dnsName + ".crt");
        var keyPath = Path.Combine(directory, dnsName + ".key");
        File.WriteAllText(certificatePath, certificate.ExportCertificatePem());
        File.WriteAllText(keyPath, key.ExportPkcs8PrivateKeyPem());
        return (certificatePath, keyPath);
    }

    public void Dispose()
    {
        _certificate.Dispose();
        _key.Dispose();
    }
}

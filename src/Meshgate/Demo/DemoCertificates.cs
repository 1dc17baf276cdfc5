using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Meshgate.Demo;

/// <summary>
/// A throwaway CA and a server certificate it signed, for the demo's stand-in of an external host: made fresh for each
/// run, never trusted by the system, handed to curl with <c>--cacert</c>.
/// </summary>
public sealed class DemoCertificates : IDisposable
{
    private DemoCertificates(X509Certificate2 ca, X509Certificate2 server)
    {
        Ca = ca;
        Server = server;
    }

    public X509Certificate2 Ca { get; }

    /// <summary>The server certificate with its private key, for Kestrel.</summary>
    public X509Certificate2 Server { get; }

    public static DemoCertificates Create(string hostName) => Create([hostName]);

    /// <summary>A CA and one server certificate for every name in <paramref name="hostNames"/> (the first is its CN).</summary>
    public static DemoCertificates Create(IReadOnlyList<string> hostNames)
    {
        var hostName = hostNames[0];
        var now = DateTimeOffset.UtcNow;
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=Meshgate demo CA (throwaway)", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        caRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(caRequest.PublicKey, false));
        var ca = caRequest.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(1));

        using var serverKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var serverRequest = new CertificateRequest($"CN={hostName}", serverKey, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        foreach (var name in hostNames)
        {
            names.AddDnsName(name);
        }

        serverRequest.CertificateExtensions.Add(names.Build());
        serverRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        serverRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        serverRequest.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        serverRequest.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(ca, true, false));
        var serial = new byte[12];
        RandomNumberGenerator.Fill(serial);
        serial[0] &= 0x7f;
        using var signed = serverRequest.Create(ca, now.AddMinutes(-5), now.AddDays(1), serial);
        var server = signed.CopyWithPrivateKey(serverKey);
        return new DemoCertificates(ca, server);
    }

    /// <summary>Writes the CA certificate as PEM (for <c>curl --cacert</c>) and returns the path.</summary>
    public string WriteCaPem(string directory)
    {
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, "demo-ca.pem");
        File.WriteAllText(path, Ca.ExportCertificatePem() + "\n");
        return path;
    }

    /// <summary>Writes the server certificate and its key (mode 0600) as PEM, for nginx; returns both paths.</summary>
    public (string Certificate, string Key) WriteServerPem(string directory)
    {
        Directory.CreateDirectory(directory);
        var certificate = Path.Combine(directory, "server-cert.pem");
        File.WriteAllText(certificate, Server.ExportCertificatePem() + "\n");
        var key = Path.Combine(directory, "server-key.pem");
        using var ecdsa = Server.GetECDsaPrivateKey()!;
        ControlPlane.Identity.SecretFile.Write(key, ecdsa.ExportPkcs8PrivateKeyPem() + "\n");
        return (certificate, key);
    }

    public void Dispose()
    {
        Ca.Dispose();
        Server.Dispose();
    }
}

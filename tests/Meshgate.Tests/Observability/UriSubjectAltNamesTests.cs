using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

using Meshgate.Core.Certificates;
using Meshgate.Tests.Listeners;

using Xunit;

namespace Meshgate.Tests.Observability;

/// <summary>URI SANs (SPIFFE identities) read from the subjectAltName extension with the ASN.1 reader.</summary>
public sealed class UriSubjectAltNamesTests : IDisposable
{
    private const string Sleep = "spiffe://cluster.local/ns/default/sa/sleep";
    private const string Gateway = "spiffe://cluster.local/ns/istio-system/sa/istio-egressgateway-service-account";

    private readonly SpiffeCertificates _ca = new();

    public void Dispose() => _ca.Dispose();

    [Fact]
    public void Join_OneUriSanBesideDnsNames_TheUri()
    {
        using var certificate = _ca.Issue("sleep", ["sleep.default.svc", "sleep"], [Sleep]);

        Assert.Equal(Sleep, UriSubjectAltNames.Join(certificate));
        Assert.Equal([Sleep], UriSubjectAltNames.Read(certificate));
    }

    [Fact]
    public void Join_SeveralUriSans_JoinedWithCommaInCertificateOrder()
    {
        using var certificate = _ca.Issue("both", [], [Sleep, Gateway]);

        Assert.Equal(Sleep + "," + Gateway, UriSubjectAltNames.Join(certificate));
    }

    [Fact]
    public void Join_OnlyDnsNames_Null()
    {
        using var certificate = _ca.Issue("dns-only", ["edition.cnn.com"], []);

        Assert.Null(UriSubjectAltNames.Join(certificate));
        Assert.Empty(UriSubjectAltNames.Read(certificate));
    }

    [Fact]
    public void Join_NoSubjectAltNameExtensionOrNoCertificate_Null()
    {
        Assert.Null(UriSubjectAltNames.Join(_ca.Root));
        Assert.Null(UriSubjectAltNames.Join(null));
    }

    [Fact]
    public void Join_BaseX509CertificateType_ReadsTheSameNames()
    {
        using var certificate = _ca.Issue("sleep", [], [Sleep]);
#pragma warning disable SYSLIB0057 // the base type is what SslStream's properties are typed as
        using var plain = new X509Certificate(certificate.RawData);
#pragma warning restore SYSLIB0057

        Assert.Equal(Sleep, UriSubjectAltNames.Join(plain));
    }

    [Fact]
    public void Read_MalformedExtension_NamesBeforeTheBadPartAndNoException()
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            writer.WriteCharacterString(UniversalTagNumber.IA5String, Sleep, new Asn1Tag(TagClass.ContextSpecific, 6));
        }

        var good = writer.Encode();
        byte[] truncated = [.. good[..^3]];
        byte[] garbage = [0xFF, 0x00, 0x13];

        // A second URI whose length runs past the end of the sequence.
        byte[] items = [.. good[2..], 0x86, 0x05, (byte)'a', (byte)'b'];
        byte[] badSecond = [0x30, (byte)items.Length, .. items];

        Assert.Equal([Sleep], UriSubjectAltNames.Read(new X509Extension(UriSubjectAltNames.Oid, good, false)));
        Assert.Equal([Sleep], UriSubjectAltNames.Read(new X509Extension(UriSubjectAltNames.Oid, badSecond, false)));
        Assert.Empty(UriSubjectAltNames.Read(new X509Extension(UriSubjectAltNames.Oid, truncated, false)));
        Assert.Empty(UriSubjectAltNames.Read(new X509Extension(UriSubjectAltNames.Oid, garbage, false)));
        Assert.Empty(UriSubjectAltNames.Read(new X509Extension("2.5.29.19", good, false))); // not a SAN extension
    }

    [Fact]
    public void Read_CertificateSigningRequestExtension_SameParser()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=sleep", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddUri(new Uri(Sleep));
        request.CertificateExtensions.Add(san.Build());

        Assert.Equal([Sleep], UriSubjectAltNames.Read(request.CertificateExtensions[0]));
    }
}

using System.Formats.Asn1;
using System.Security.Cryptography.X509Certificates;

namespace Meshgate.Core.Certificates;

/// <summary>
/// The URI subject alternative names of a certificate (SPIFFE identities, <c>spiffe://cluster.local/ns/NS/sa/SA</c>),
/// read from the subjectAltName extension (OID 2.5.29.17, RFC 5280 §4.2.1.6) with the ASN.1 reader: .NET's
/// <see cref="X509SubjectAlternativeNameExtension"/> lists DNS names and IP addresses only. A URI is the GeneralName
/// <c>[6] IA5String</c>. Malformed DER yields the names read before it, never an exception: certificates come from peers.
/// </summary>
public static class UriSubjectAltNames
{
    public const string Oid = "2.5.29.17";

    private static readonly Asn1Tag s_uri = new(TagClass.ContextSpecific, 6);

    /// <summary>The URI SANs of <paramref name="certificate"/>, in the certificate's order; empty when it has none.</summary>
    public static IReadOnlyList<string> Read(X509Certificate? certificate)
    {
        if (certificate is null)
        {
            return [];
        }

        if (certificate is X509Certificate2 full)
        {
            return Read(full.Extensions[Oid]);
        }

        // Only the base type (not what SslStream hands out in practice): load the DER to reach its extensions.
        using var loaded = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        return Read(loaded.Extensions[Oid]);
    }

    /// <summary>The URI SANs of a subjectAltName extension (of a certificate or a CSR); empty for any other extension.</summary>
    public static IReadOnlyList<string> Read(X509Extension? extension)
    {
        if (extension?.Oid?.Value != Oid)
        {
            return [];
        }

        var uris = new List<string>(1);
        try
        {
            var names = new AsnReader(extension.RawData, AsnEncodingRules.DER).ReadSequence();
            while (names.HasData)
            {
                if (names.PeekTag().HasSameClassAndValue(s_uri))
                {
                    uris.Add(names.ReadCharacterString(UniversalTagNumber.IA5String, s_uri));
                }
                else
                {
                    names.ReadEncodedValue();
                }
            }
        }
        catch (AsnContentException)
        {
            // Not valid DER: keep what was read before the bad part.
        }

        return uris;
    }

    /// <summary>
    /// The URI SANs joined with ',' as Envoy prints %DOWNSTREAM_PEER_URI_SAN% and its kin
    /// (absl::StrJoin(sans, ",")); null when there are none. Compute it once per connection.
    /// </summary>
    public static string? Join(X509Certificate? certificate)
    {
        var uris = Read(certificate);
        return uris.Count switch
        {
            0 => null,
            1 => uris[0],
            _ => string.Join(',', uris),
        };
    }
}

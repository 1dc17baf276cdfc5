namespace Meshgate.Writers;

/// <summary>
/// One SDS resource as Envoy holds it: a certificate chain (with its key) or a trusted CA, never both (Envoy's
/// <c>Secret.type</c> is a oneof). Holds PEM certificates only: whether a key exists, never the key.
/// </summary>
/// <param name="Name">The resource name Istio gives it: <c>default</c>, <c>ROOTCA</c>, or <c>kubernetes://NAME</c>.</param>
/// <param name="CertificateChain">The chain's PEM (leaf first), when this is a <c>tlsCertificate</c>.</param>
/// <param name="HasPrivateKey">Whether the chain came with a key (shown redacted).</param>
/// <param name="TrustedCa">The CA bundle's PEM, when this is a <c>validationContext</c>.</param>
public sealed record SecretResource(string Name, string? CertificateChain, bool HasPrivateKey, string? TrustedCa)
{
    /// <summary>istioctl's TYPE column.</summary>
    public string Type => CertificateChain is not null ? "Cert Chain" : "CA";

    /// <summary>The chain for a certificate, the bundle for a CA.</summary>
    public string Pem => CertificateChain ?? TrustedCa ?? "";
}

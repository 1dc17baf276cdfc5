namespace Meshgate.Core.ProxyConfiguration;

/// <summary>
/// Certificates and keys by name (Envoy's SDS secrets): <see cref="Default"/> is the workload's certificate chain
/// and key, <see cref="RootCa"/> the mesh's trusted CA, as Istio names them. PEM text throughout.
/// </summary>
public sealed record Secret
{
    public const string Default = "default";
    public const string RootCa = "ROOTCA";

    public required string Name { get; init; }

    public string? CertificateChain { get; init; }

    public string? PrivateKey { get; init; }

    public string? TrustedCa { get; init; }

    /// <summary>Keys never print (records print every property otherwise).</summary>
    public override string ToString() =>
        $"Secret {{ Name = {Name}, CertificateChain = {(CertificateChain is null ? "-" : "PEM")}, PrivateKey = {(PrivateKey is null ? "-" : "(redacted)")}, TrustedCa = {(TrustedCa is null ? "-" : "PEM")} }}";
}

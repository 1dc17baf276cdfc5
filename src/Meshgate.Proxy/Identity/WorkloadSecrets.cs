using Meshgate.Core.ProxyConfiguration;

namespace Meshgate.Proxy.Identity;

/// <summary>
/// The proxy's own certificate (secret <c>default</c>: chain and key, the key generated in this process and never sent
/// anywhere) and the mesh root bundle (secret <c>ROOTCA</c>), with what the logs and <c>pc secret</c> show of them.
/// </summary>
public sealed record WorkloadSecrets(Secret Certificate, Secret RootCa, string Identity, string SerialNumber, DateTimeOffset NotBefore, DateTimeOffset NotAfter)
{
    /// <summary>The SHA-256 fingerprint (lowercase hex) of the CA certificate that signed this one; empty when unknown.</summary>
    public string Signer { get; init; } = "";

    /// <summary>The root the CA sent this certificate's chain with (PEM): trusted with the bundle while the certificate serves.</summary>
    public string IssuerRoot { get; init; } = "";

    /// <summary>The key never prints (records print every property otherwise; <see cref="Secret"/> redacts it too).</summary>
    public override string ToString() => $"WorkloadSecrets {{ {Identity}, serial {SerialNumber}, not after {NotAfter:O} }}";
}

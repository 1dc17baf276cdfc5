using System.Text.Json.Serialization;

namespace Meshgate.Core.ProxyConfiguration;

/// <summary>The TLS modes of Istio's Gateway (<c>tls.mode</c>) and DestinationRule (<c>trafficPolicy.tls.mode</c>).</summary>
public enum TlsMode
{
    /// <summary>Server certificate only.</summary>
    [JsonStringEnumMemberName("SIMPLE")] Simple,

    /// <summary>Both sides present certificates, from the named secrets.</summary>
    [JsonStringEnumMemberName("MUTUAL")] Mutual,

    /// <summary>Mutual TLS with the mesh's certificates: secrets <c>default</c> and <c>ROOTCA</c> unless named.</summary>
    [JsonStringEnumMemberName("ISTIO_MUTUAL")] IstioMutual,
}

/// <summary>TLS terminated by a listener's filter chain.</summary>
public sealed record DownstreamTls
{
    public required TlsMode Mode { get; init; }

    /// <summary>The secret with the certificate chain and key the proxy presents; ISTIO_MUTUAL defaults to <c>default</c>.</summary>
    public string? CertificateSecret { get; init; }

    /// <summary>The secret whose trusted CA verifies client certificates; ISTIO_MUTUAL defaults to <c>ROOTCA</c>.</summary>
    public string? CaSecret { get; init; }

    /// <summary>Peer identities accepted (SPIFFE URIs or DNS names); empty accepts any the CA signed.</summary>
    public EquatableArray<string> SubjectAltNames { get; init; }

    /// <summary>The certificate secret in force, defaults included.</summary>
    [JsonIgnore]
    public string? EffectiveCertificateSecret => CertificateSecret ?? (Mode == TlsMode.IstioMutual ? Secret.Default : null);

    /// <summary>The CA secret in force, defaults included.</summary>
    [JsonIgnore]
    public string? EffectiveCaSecret => CaSecret ?? (Mode == TlsMode.IstioMutual ? Secret.RootCa : null);
}

/// <summary>TLS originated by the proxy towards a cluster's endpoints.</summary>
public sealed record UpstreamTls
{
    public required TlsMode Mode { get; init; }

    /// <summary>The SNI sent; absent sends none (Istio's DestinationRule <c>tls.sni</c>).</summary>
    public string? Sni { get; init; }

    /// <summary>Identities the server certificate must carry; empty checks only the chain (and <see cref="Sni"/>, when set).</summary>
    public EquatableArray<string> SubjectAltNames { get; init; }

    /// <summary>The secret whose trusted CA verifies the server; absent uses the system's roots (SIMPLE, MUTUAL).</summary>
    public string? CaSecret { get; init; }

    /// <summary>The client certificate presented (MUTUAL requires one).</summary>
    public string? CertificateSecret { get; init; }

    /// <summary>
    /// The mesh's own transport to a Meshgate gateway (ISTIO_MUTUAL with ALPN <c>istio</c>, as Istio's sidecars mark
    /// mutual TLS between proxies): the gateway unwraps it and handles the bytes inside as if they had come in the clear,
    /// so an application's own TLS rides inside untouched. Written only when true.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool Tunnel { get; init; }

    /// <summary>The ALPN protocol that marks <see cref="Tunnel"/> (Istio's for mutual TLS between its proxies).</summary>
    public const string TunnelProtocol = "istio";

    [JsonIgnore]
    public string? EffectiveCertificateSecret => CertificateSecret ?? (Mode == TlsMode.IstioMutual ? Secret.Default : null);

    [JsonIgnore]
    public string? EffectiveCaSecret => CaSecret ?? (Mode == TlsMode.IstioMutual ? Secret.RootCa : null);
}

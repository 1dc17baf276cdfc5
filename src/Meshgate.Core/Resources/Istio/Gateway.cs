using System.ComponentModel;
using System.Text.Json.Serialization;

// networking/v1alpha3/gateway.proto
namespace Meshgate.Core.Resources.Istio;

/// <summary><c>networking.istio.io</c> Gateway: listeners on the proxies its selector picks.</summary>
[Description("Configuration affecting edge load balancer: Gateway describes a load balancer operating at the edge of the mesh receiving incoming or outgoing HTTP/TCP connections. See more details at: https://istio.io/docs/reference/config/networking/gateway.html")]
public sealed record GatewaySpec
{
    [JsonRequired]
    public List<Server>? Servers { get; init; }
    public Dictionary<string, string>? Selector { get; init; }
}

public sealed record Server
{
    [JsonRequired]
    public Port? Port { get; init; }
    public string? Bind { get; init; }
    [JsonRequired]
    public List<string>? Hosts { get; init; }
    public ServerTlsSettings? Tls { get; init; }
    public string? DefaultEndpoint { get; init; }
    public string? Name { get; init; }
}

public sealed record Port
{
    [JsonRequired]
    public long? Number { get; init; }
    [JsonRequired]
    public string? Protocol { get; init; }
    [JsonRequired]
    public string? Name { get; init; }
    public long? TargetPort { get; init; }
}

public sealed record ServerTlsSettings
{
    public bool? HttpsRedirect { get; init; }
    public ServerTlsMode? Mode { get; init; }
    public string? ServerCertificate { get; init; }
    public string? PrivateKey { get; init; }
    public string? CaCertificates { get; init; }
    public string? CaCrl { get; init; }
    public string? CredentialName { get; init; }
    public List<string>? CredentialNames { get; init; }
    public List<string>? SubjectAltNames { get; init; }
    public List<string>? VerifyCertificateSpki { get; init; }
    public List<string>? VerifyCertificateHash { get; init; }
    public TlsProtocolVersion? MinProtocolVersion { get; init; }
    public TlsProtocolVersion? MaxProtocolVersion { get; init; }
    public List<string>? CipherSuites { get; init; }
}

public enum ServerTlsMode
{
    [JsonStringEnumMemberName("PASSTHROUGH")] Passthrough,
    [JsonStringEnumMemberName("SIMPLE")] Simple,
    [JsonStringEnumMemberName("MUTUAL")] Mutual,
    [JsonStringEnumMemberName("AUTO_PASSTHROUGH")] AutoPassthrough,
    [JsonStringEnumMemberName("ISTIO_MUTUAL")] IstioMutual,
    [JsonStringEnumMemberName("OPTIONAL_MUTUAL")] OptionalMutual,
}

public enum TlsProtocolVersion
{
    [JsonStringEnumMemberName("TLS_AUTO")] Auto,
    [JsonStringEnumMemberName("TLSV1_0")] Tls10,
    [JsonStringEnumMemberName("TLSV1_1")] Tls11,
    [JsonStringEnumMemberName("TLSV1_2")] Tls12,
    [JsonStringEnumMemberName("TLSV1_3")] Tls13,
}

using System.Text.Json.Serialization;

// The types of one Istio API message family live together, as in istio/api's .proto files
// (networking/v1alpha3/service_entry.proto); field names and defaults follow that reference.
namespace Meshgate.Core.Resources.Istio;

/// <summary><c>networking.istio.io</c> ServiceEntry: adds a host to the mesh's service registry.</summary>
public sealed record ServiceEntrySpec
{
    [JsonRequired]
    public List<string>? Hosts { get; init; }
    public List<string>? Addresses { get; init; }
    public List<ServicePort>? Ports { get; init; }
    /// <summary>Default MESH_EXTERNAL.</summary>
    public ServiceEntryLocation? Location { get; init; }
    /// <summary>Default NONE.</summary>
    public ServiceEntryResolution? Resolution { get; init; }
    public List<WorkloadEntrySpec>? Endpoints { get; init; }
    public WorkloadSelector? WorkloadSelector { get; init; }
    public List<string>? ExportTo { get; init; }
    public List<string>? SubjectAltNames { get; init; }
}

public sealed record ServicePort
{
    [JsonRequired]
    public long? Number { get; init; }
    /// <summary>HTTP|HTTPS|GRPC|HTTP2|MONGO|TCP|TLS; empty means sniffing. Case-insensitive as in Istio.</summary>
    public string? Protocol { get; init; }
    [JsonRequired]
    public string? Name { get; init; }
    /// <summary>Defaults to <see cref="Number"/>.</summary>
    public long? TargetPort { get; init; }
}

public enum ServiceEntryLocation
{
    [JsonStringEnumMemberName("MESH_EXTERNAL")] MeshExternal,
    [JsonStringEnumMemberName("MESH_INTERNAL")] MeshInternal,
}

public enum ServiceEntryResolution
{
    [JsonStringEnumMemberName("NONE")] None,
    [JsonStringEnumMemberName("STATIC")] Static,
    [JsonStringEnumMemberName("DNS")] Dns,
    [JsonStringEnumMemberName("DNS_ROUND_ROBIN")] DnsRoundRobin,
    [JsonStringEnumMemberName("DYNAMIC_DNS")] DynamicDns,
}

/// <summary>An endpoint of a ServiceEntry (the WorkloadEntry message).</summary>
public sealed record WorkloadEntrySpec
{
    public string? Address { get; init; }
    public Dictionary<string, long>? Ports { get; init; }
    public Dictionary<string, string>? Labels { get; init; }
    public string? Network { get; init; }
    public string? Locality { get; init; }
    public long? Weight { get; init; }
    public string? ServiceAccount { get; init; }
}

public sealed record WorkloadSelector
{
    public Dictionary<string, string>? Labels { get; init; }
}

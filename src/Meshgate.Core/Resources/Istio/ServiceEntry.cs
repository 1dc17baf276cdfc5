using System.ComponentModel;
using System.Text.Json.Serialization;

// The types of one Istio API message family live together, as in istio/api's .proto files
// (networking/v1alpha3/service_entry.proto); field names and defaults follow that reference.
namespace Meshgate.Core.Resources.Istio;

/// <summary><c>networking.istio.io</c> ServiceEntry: adds a host to the mesh's service registry.</summary>
[Description("Configuration affecting service registry: ServiceEntry enables adding additional entries into Istio's internal service registry, so that auto-discovered services in the mesh can access/route to these manually specified services. See more details at: https://istio.io/docs/reference/config/networking/service-entry.html")]
public sealed record ServiceEntrySpec
{
    [JsonRequired]
    [Description("The hosts associated with the ServiceEntry. Could be a DNS name with wildcard prefix (*.example.com).")]
    public List<string>? Hosts { get; init; }
    [Description("The virtual IP addresses associated with the service. Could be CIDR prefix.")]
    public List<string>? Addresses { get; init; }
    [Description("The ports associated with the external service. If endpoints are Unix domain socket addresses, there must be exactly one port.")]
    public List<ServicePort>? Ports { get; init; }
    /// <summary>Default MESH_EXTERNAL.</summary>
    [Description("Specify whether the service should be considered external to the mesh or part of the mesh (MESH_EXTERNAL, the default, or MESH_INTERNAL).")]
    public ServiceEntryLocation? Location { get; init; }
    /// <summary>Default NONE.</summary>
    [Description("Service resolution mode for the hosts: how the proxy resolves the IP addresses of the endpoints associated with the service, so that it can route to one of them. NONE (the default): the proxy forwards to the IP address the connection was meant for; STATIC: the proxy uses the addresses in endpoints; DNS: the proxy resolves the host (or the endpoints' addresses) asynchronously in DNS and uses every address returned; DNS_ROUND_ROBIN: as DNS, using only the first address returned, for each new connection; DYNAMIC_DNS: the proxy resolves the requested host on demand (wildcard hosts).")]
    public ServiceEntryResolution? Resolution { get; init; }
    [Description("One or more endpoints associated with the service. Only one of endpoints or workloadSelector can be specified.")]
    public List<WorkloadEntrySpec>? Endpoints { get; init; }
    [Description("Applicable only for MESH_INTERNAL services. Only one of endpoints or workloadSelector can be specified. Selects one or more Kubernetes pods or VM workloads (specified using WorkloadEntry) based on their labels.")]
    public WorkloadSelector? WorkloadSelector { get; init; }
    [Description("A list of namespaces to which this service is exported. Exporting a service allows it to be used by sidecars, gateways and virtual services defined in other namespaces; \".\" is the current namespace, \"*\" all namespaces.")]
    public List<string>? ExportTo { get; init; }
    [Description("If specified, the proxy will verify that the server certificate's subject alternate name matches one of the specified values.")]
    public List<string>? SubjectAltNames { get; init; }
}

[Description("ServicePort describes the properties of a specific port of a service.")]
public sealed record ServicePort
{
    [JsonRequired]
    [Description("A valid non-negative integer port number.")]
    public long? Number { get; init; }
    /// <summary>HTTP|HTTPS|GRPC|HTTP2|MONGO|TCP|TLS; empty means sniffing. Case-insensitive as in Istio.</summary>
    [Description("The protocol exposed on the port. MUST be one of HTTP|HTTPS|GRPC|HTTP2|MONGO|TCP|TLS. TLS implies the connection will be routed based on the SNI header to the destination without terminating the TLS connection.")]
    public string? Protocol { get; init; }
    [JsonRequired]
    [Description("Label assigned to the port.")]
    public string? Name { get; init; }
    /// <summary>Defaults to <see cref="Number"/>.</summary>
    [Description("The port number on the endpoint where the traffic will be received. If unset, defaults to number.")]
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
[Description("WorkloadEntry: the properties of a single non-Kubernetes workload, such as a VM or a bare metal service.")]
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

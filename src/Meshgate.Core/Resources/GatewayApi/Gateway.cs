using System.ComponentModel;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

// gateway.networking.k8s.io, as in the Gateway API reference (apis/v1/gateway_types.go).
namespace Meshgate.Core.Resources.GatewayApi;

/// <summary>Gateway API Gateway. Class <c>istio</c> is deployed automatically as <c>&lt;name&gt;-istio</c>.</summary>
[Description("Spec defines the desired state of Gateway: a request for listeners (ports, protocols, hostnames) of the GatewayClass named in gatewayClassName.")]
public sealed record GatewayApiGatewaySpec
{
    [JsonRequired]
    public string? GatewayClassName { get; init; }
    [JsonRequired]
    public List<Listener>? Listeners { get; init; }
    public List<GatewayAddress>? Addresses { get; init; }
    public GatewayInfrastructure? Infrastructure { get; init; }
    public JsonObject? BackendTls { get; init; }
    public JsonObject? AllowedListeners { get; init; }
}

public sealed record Listener
{
    [JsonRequired]
    public string? Name { get; init; }
    public string? Hostname { get; init; }
    [JsonRequired]
    public long? Port { get; init; }
    [JsonRequired]
    public string? Protocol { get; init; }
    public GatewayTlsConfig? Tls { get; init; }
    public AllowedRoutes? AllowedRoutes { get; init; }
}

public sealed record GatewayTlsConfig
{
    /// <summary>Terminate (default) or Passthrough.</summary>
    public string? Mode { get; init; }
    public List<SecretObjectReference>? CertificateRefs { get; init; }
    public Dictionary<string, string>? Options { get; init; }
    public JsonObject? FrontendValidation { get; init; }
}

public sealed record SecretObjectReference
{
    public string? Group { get; init; }
    public string? Kind { get; init; }
    [JsonRequired]
    public string? Name { get; init; }
    public string? Namespace { get; init; }
}

public sealed record AllowedRoutes
{
    public RouteNamespaces? Namespaces { get; init; }
    public List<RouteGroupKind>? Kinds { get; init; }
}

public sealed record RouteNamespaces
{
    /// <summary>All, Same (default) or Selector.</summary>
    public string? From { get; init; }
    public k8s.Models.V1LabelSelector? Selector { get; init; }
}

public sealed record RouteGroupKind
{
    public string? Group { get; init; }
    [JsonRequired]
    public string? Kind { get; init; }
}

public sealed record GatewayAddress
{
    public string? Type { get; init; }
    [JsonRequired]
    public string? Value { get; init; }
}

public sealed record GatewayInfrastructure
{
    public Dictionary<string, string>? Labels { get; init; }
    public Dictionary<string, string>? Annotations { get; init; }
    public ParametersReference? ParametersRef { get; init; }
}

public sealed record ParametersReference
{
    [JsonRequired]
    public string? Group { get; init; }
    [JsonRequired]
    public string? Kind { get; init; }
    [JsonRequired]
    public string? Name { get; init; }
    public string? Namespace { get; init; }
}

/// <summary>Gateway API GatewayClass.</summary>
[Description("Spec defines the desired state of GatewayClass: the controller (controllerName) that manages Gateways of this class.")]
public sealed record GatewayClassSpec
{
    [JsonRequired]
    public string? ControllerName { get; init; }
    public ParametersReference? ParametersRef { get; init; }
    public string? Description { get; init; }
}

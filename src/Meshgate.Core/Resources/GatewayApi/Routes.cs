using System.ComponentModel;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

// gateway.networking.k8s.io HTTPRoute (apis/v1/httproute_types.go), TLSRoute (apis/v1alpha2/tlsroute_types.go) and
// TCPRoute (apis/v1alpha2/tcproute_types.go).
namespace Meshgate.Core.Resources.GatewayApi;

[Description("Spec defines the desired state of HTTPRoute: rules matching HTTP requests by hostname, path, headers and query parameters, and the backends they are sent to, for the Gateways and Services named in parentRefs.")]
public sealed record HttpRouteSpec
{
    public List<ParentReference>? ParentRefs { get; init; }
    public List<string>? Hostnames { get; init; }
    public List<HttpRouteRule>? Rules { get; init; }
}

[Description("Spec defines the desired state of TLSRoute: rules routing TLS connections by SNI hostname to backends, without terminating TLS.")]
public sealed record TlsRouteSpec
{
    public List<ParentReference>? ParentRefs { get; init; }
    public List<string>? Hostnames { get; init; }
    public List<TlsRouteRule>? Rules { get; init; }
}

[Description("Spec defines the desired state of TCPRoute: rules routing TCP connections to backends.")]
public sealed record TcpRouteSpec
{
    public List<ParentReference>? ParentRefs { get; init; }
    public List<TcpRouteRule>? Rules { get; init; }
}

public sealed record ParentReference
{
    public string? Group { get; init; }
    public string? Kind { get; init; }
    public string? Namespace { get; init; }
    [JsonRequired]
    public string? Name { get; init; }
    public string? SectionName { get; init; }
    public long? Port { get; init; }
}

public sealed record HttpRouteRule
{
    public string? Name { get; init; }
    public List<HttpRouteMatch>? Matches { get; init; }
    public List<HttpRouteFilter>? Filters { get; init; }
    public List<HttpBackendRef>? BackendRefs { get; init; }
    public HttpRouteTimeouts? Timeouts { get; init; }
    public JsonObject? Retry { get; init; }
    public JsonObject? SessionPersistence { get; init; }
}

public sealed record TlsRouteRule
{
    public string? Name { get; init; }
    public List<BackendRef>? BackendRefs { get; init; }
}

public sealed record TcpRouteRule
{
    public string? Name { get; init; }
    public List<BackendRef>? BackendRefs { get; init; }
}

public sealed record HttpRouteMatch
{
    public HttpPathMatch? Path { get; init; }
    public List<HttpHeaderMatch>? Headers { get; init; }
    public List<HttpHeaderMatch>? QueryParams { get; init; }
    public string? Method { get; init; }
}

public sealed record HttpPathMatch
{
    /// <summary>Exact, PathPrefix (default) or RegularExpression.</summary>
    public string? Type { get; init; }
    public string? Value { get; init; }
}

public sealed record HttpHeaderMatch
{
    /// <summary>Exact (default) or RegularExpression.</summary>
    public string? Type { get; init; }
    [JsonRequired]
    public string? Name { get; init; }
    [JsonRequired]
    public string? Value { get; init; }
}

public sealed record HttpRouteFilter
{
    [JsonRequired]
    public string? Type { get; init; }
    public HttpHeaderFilter? RequestHeaderModifier { get; init; }
    public HttpHeaderFilter? ResponseHeaderModifier { get; init; }
    public JsonObject? RequestMirror { get; init; }
    public JsonObject? RequestRedirect { get; init; }
    public JsonObject? UrlRewrite { get; init; }
    public JsonObject? Cors { get; init; }
    public JsonObject? ExtensionRef { get; init; }
}

public sealed record HttpHeaderFilter
{
    public List<HttpHeader>? Set { get; init; }
    public List<HttpHeader>? Add { get; init; }
    public List<string>? Remove { get; init; }
}

public sealed record HttpHeader
{
    [JsonRequired]
    public string? Name { get; init; }
    [JsonRequired]
    public string? Value { get; init; }
}

public sealed record HttpRouteTimeouts
{
    public string? Request { get; init; }
    public string? BackendRequest { get; init; }
}

public sealed record BackendRef
{
    public string? Group { get; init; }
    public string? Kind { get; init; }
    [JsonRequired]
    public string? Name { get; init; }
    public string? Namespace { get; init; }
    public long? Port { get; init; }
    public long? Weight { get; init; }
}

public sealed record HttpBackendRef
{
    public string? Group { get; init; }
    public string? Kind { get; init; }
    [JsonRequired]
    public string? Name { get; init; }
    public string? Namespace { get; init; }
    public long? Port { get; init; }
    public long? Weight { get; init; }
    public List<HttpRouteFilter>? Filters { get; init; }
}
/// <summary>Gateway API ReferenceGrant: lets objects in other namespaces refer to this namespace's objects.</summary>
[Description("Spec defines the desired state of ReferenceGrant: which kinds in other namespaces (from) may refer to which kinds in this namespace (to).")]
public sealed record ReferenceGrantSpec
{
    [JsonRequired]
    public List<ReferenceGrantFrom>? From { get; init; }
    [JsonRequired]
    public List<ReferenceGrantTo>? To { get; init; }
}

public sealed record ReferenceGrantFrom
{
    [JsonRequired]
    public string? Group { get; init; }
    [JsonRequired]
    public string? Kind { get; init; }
    [JsonRequired]
    public string? Namespace { get; init; }
}

public sealed record ReferenceGrantTo
{
    [JsonRequired]
    public string? Group { get; init; }
    [JsonRequired]
    public string? Kind { get; init; }
    public string? Name { get; init; }
}

using System.ComponentModel;
using System.Text.Json.Serialization;

// networking/v1alpha3/virtual_service.proto
namespace Meshgate.Core.Resources.Istio;

/// <summary><c>networking.istio.io</c> VirtualService: ordered routing rules for hosts.</summary>
[Description("Configuration affecting label/content routing, sni routing, etc: a VirtualService defines a set of traffic routing rules to apply when a host is addressed. See more details at: https://istio.io/docs/reference/config/networking/virtual-service.html")]
public sealed record VirtualServiceSpec
{
    public List<string>? Hosts { get; init; }
    /// <summary>Omitted means <c>mesh</c> (every sidecar).</summary>
    public List<string>? Gateways { get; init; }
    public List<HttpRoute>? Http { get; init; }
    public List<TlsRoute>? Tls { get; init; }
    public List<TcpRoute>? Tcp { get; init; }
    public List<string>? ExportTo { get; init; }
}

public sealed record HttpRoute
{
    public string? Name { get; init; }
    public List<HttpMatchRequest>? Match { get; init; }
    public List<HttpRouteDestination>? Route { get; init; }
    public HttpRedirect? Redirect { get; init; }
    public HttpDirectResponse? DirectResponse { get; init; }
    public DelegateRef? Delegate { get; init; }
    public HttpRewrite? Rewrite { get; init; }
    /// <summary>A protobuf Duration such as <c>3s</c>; unset means no timeout.</summary>
    public string? Timeout { get; init; }
    public HttpRetry? Retries { get; init; }
    public HttpFaultInjection? Fault { get; init; }
    public Destination? Mirror { get; init; }
    public List<HttpMirrorPolicy>? Mirrors { get; init; }
    public Percent? MirrorPercentage { get; init; }
    public CorsPolicy? CorsPolicy { get; init; }
    public Headers? Headers { get; init; }
}

public sealed record HttpMatchRequest
{
    public string? Name { get; init; }
    public StringMatch? Uri { get; init; }
    public StringMatch? Scheme { get; init; }
    public StringMatch? Method { get; init; }
    public StringMatch? Authority { get; init; }
    public Dictionary<string, StringMatch>? Headers { get; init; }
    public long? Port { get; init; }
    public Dictionary<string, string>? SourceLabels { get; init; }
    public List<string>? Gateways { get; init; }
    public Dictionary<string, StringMatch>? QueryParams { get; init; }
    public bool? IgnoreUriCase { get; init; }
    public Dictionary<string, StringMatch>? WithoutHeaders { get; init; }
    public string? SourceNamespace { get; init; }
    public string? StatPrefix { get; init; }
}

/// <summary>Exactly one of exact, prefix or regex (RE2); empty means "present".</summary>
public sealed record StringMatch
{
    public string? Exact { get; init; }
    public string? Prefix { get; init; }
    public string? Regex { get; init; }
}

public sealed record HttpRouteDestination
{
    [JsonRequired]
    public Destination? Destination { get; init; }
    public long? Weight { get; init; }
    public Headers? Headers { get; init; }
}

public sealed record Destination
{
    [JsonRequired]
    public string? Host { get; init; }
    public string? Subset { get; init; }
    public PortSelector? Port { get; init; }
}

public sealed record PortSelector
{
    public long? Number { get; init; }
}

public sealed record HttpRedirect
{
    public string? Uri { get; init; }
    public string? Authority { get; init; }
    public long? Port { get; init; }
    public RedirectPortSelection? DerivePort { get; init; }
    public string? Scheme { get; init; }
    public long? RedirectCode { get; init; }
}

public enum RedirectPortSelection
{
    [JsonStringEnumMemberName("FROM_PROTOCOL_DEFAULT")] FromProtocolDefault,
    [JsonStringEnumMemberName("FROM_REQUEST_PORT")] FromRequestPort,
}

public sealed record HttpDirectResponse
{
    [JsonRequired]
    public long? Status { get; init; }
    public HttpBody? Body { get; init; }
}

public sealed record HttpBody
{
    public string? String { get; init; }
    public string? Bytes { get; init; }
}

public sealed record DelegateRef
{
    public string? Name { get; init; }
    public string? Namespace { get; init; }
}

public sealed record HttpRewrite
{
    public string? Uri { get; init; }
    public string? Authority { get; init; }
    public RegexRewrite? UriRegexRewrite { get; init; }
}

public sealed record RegexRewrite
{
    public string? Match { get; init; }
    public string? Rewrite { get; init; }
}

public sealed record HttpRetry
{
    public long? Attempts { get; init; }
    public string? PerTryTimeout { get; init; }
    public string? RetryOn { get; init; }
    public bool? RetryRemoteLocalities { get; init; }
}

public sealed record HttpFaultInjection
{
    public FaultDelay? Delay { get; init; }
    public FaultAbort? Abort { get; init; }
}

public sealed record FaultDelay
{
    public string? FixedDelay { get; init; }
    public Percent? Percentage { get; init; }
    public long? Percent { get; init; }
}

public sealed record FaultAbort
{
    public long? HttpStatus { get; init; }
    public string? GrpcStatus { get; init; }
    public Percent? Percentage { get; init; }
}

public sealed record Percent
{
    public double? Value { get; init; }
}

public sealed record HttpMirrorPolicy
{
    [JsonRequired]
    public Destination? Destination { get; init; }
    public Percent? Percentage { get; init; }
}

public sealed record CorsPolicy
{
    public List<StringMatch>? AllowOrigins { get; init; }
    public List<string>? AllowMethods { get; init; }
    public List<string>? AllowHeaders { get; init; }
    public List<string>? ExposeHeaders { get; init; }
    public string? MaxAge { get; init; }
    public bool? AllowCredentials { get; init; }
    public string? UnmatchedPreflights { get; init; }
}

public sealed record Headers
{
    public HeaderOperations? Request { get; init; }
    public HeaderOperations? Response { get; init; }
}

public sealed record HeaderOperations
{
    public Dictionary<string, string>? Set { get; init; }
    public Dictionary<string, string>? Add { get; init; }
    public List<string>? Remove { get; init; }
}

public sealed record TlsRoute
{
    [JsonRequired]
    public List<TlsMatchAttributes>? Match { get; init; }
    public List<RouteDestination>? Route { get; init; }
}

public sealed record TlsMatchAttributes
{
    [JsonRequired]
    public List<string>? SniHosts { get; init; }
    public List<string>? DestinationSubnets { get; init; }
    public long? Port { get; init; }
    public Dictionary<string, string>? SourceLabels { get; init; }
    public List<string>? Gateways { get; init; }
    public string? SourceNamespace { get; init; }
}

public sealed record TcpRoute
{
    public List<L4MatchAttributes>? Match { get; init; }
    public List<RouteDestination>? Route { get; init; }
}

public sealed record L4MatchAttributes
{
    public List<string>? DestinationSubnets { get; init; }
    public long? Port { get; init; }
    public Dictionary<string, string>? SourceLabels { get; init; }
    public List<string>? Gateways { get; init; }
    public string? SourceNamespace { get; init; }
}

public sealed record RouteDestination
{
    [JsonRequired]
    public Destination? Destination { get; init; }
    public long? Weight { get; init; }
}

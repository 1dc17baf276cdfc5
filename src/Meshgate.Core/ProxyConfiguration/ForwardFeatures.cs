namespace Meshgate.Core.ProxyConfiguration;

/// <summary>
/// Header changes on a route or a weighted cluster (Envoy's <c>request_headers_to_add/remove</c> and
/// <c>response_headers_to_add/remove</c>; Istio's <c>headers</c>).
/// </summary>
public sealed record HeaderRewrite
{
    /// <summary>Applied to the request sent upstream.</summary>
    public HeaderOperations? Request { get; init; }

    /// <summary>Applied to the upstream's response before it goes to the client.</summary>
    public HeaderOperations? Response { get; init; }
}

/// <summary>
/// One direction's header changes, applied as Envoy applies them: <see cref="Remove"/> first, then <see cref="Set"/>
/// (overwrite, <c>OVERWRITE_IF_EXISTS_OR_ADD</c>) and <see cref="Add"/> (append, <c>APPEND_IF_EXISTS_OR_ADD</c>).
/// Values are literal: Envoy's <c>%...%</c> command operators are not expanded.
/// </summary>
public sealed record HeaderOperations
{
    public EquatableArray<HeaderValue> Set { get; init; }

    public EquatableArray<HeaderValue> Add { get; init; }

    /// <summary>Header names (case-insensitive).</summary>
    public EquatableArray<string> Remove { get; init; }
}

/// <summary>A header name (lower-case) and a literal value.</summary>
public sealed record HeaderValue
{
    public required string Name { get; init; }

    public required string Value { get; init; }
}

/// <summary>
/// A change to the path sent upstream, the query kept: exactly one of <see cref="Prefix"/> (Envoy's
/// <c>prefix_rewrite</c>: the route's matched prefix, or the whole path for an exact or regex match, is replaced) and
/// <see cref="Regex"/> with <see cref="Substitution"/> (Envoy's <c>regex_rewrite</c>: every match in the path replaced,
/// <c>\1</c> naming a group).
/// </summary>
public sealed record PathRewrite
{
    public string? Prefix { get; init; }

    public string? Regex { get; init; }

    public string? Substitution { get; init; }
}

/// <summary>
/// A shadow copy of the request sent to <see cref="Cluster"/> (Envoy's <c>request_mirror_policies</c>), its response
/// discarded; <see cref="Percentage"/> of requests (0-100), all when absent.
/// </summary>
public sealed record MirrorPolicy
{
    public required string Cluster { get; init; }

    public double? Percentage { get; init; }
}

/// <summary>
/// Envoy's CORS policy: a request whose <c>Origin</c> matches one of <see cref="AllowOrigins"/> gets it echoed in
/// <c>access-control-allow-origin</c>; such a preflight (<c>OPTIONS</c> with <c>access-control-request-method</c>) is
/// answered by the proxy. A preflight from another origin is passed upstream unless
/// <see cref="IgnoreUnmatchedPreflights"/> (then answered without CORS headers).
/// </summary>
public sealed record CorsPolicy
{
    public EquatableArray<OriginMatch> AllowOrigins { get; init; }

    public EquatableArray<string> AllowMethods { get; init; }

    public EquatableArray<string> AllowHeaders { get; init; }

    public EquatableArray<string> ExposeHeaders { get; init; }

    /// <summary><c>access-control-max-age</c> in seconds.</summary>
    public int? MaxAgeSeconds { get; init; }

    public bool AllowCredentials { get; init; }

    /// <summary>Istio's <c>unmatchedPreflights: IGNORE</c>; false is its default, FORWARD.</summary>
    public bool IgnoreUnmatchedPreflights { get; init; }
}

/// <summary>An origin condition: exactly one of <see cref="Exact"/>, <see cref="Prefix"/> and <see cref="Regex"/> (whole value).</summary>
public sealed record OriginMatch
{
    public string? Exact { get; init; }

    public string? Prefix { get; init; }

    public string? Regex { get; init; }
}

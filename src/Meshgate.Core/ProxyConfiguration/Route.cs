namespace Meshgate.Core.ProxyConfiguration;

/// <summary>
/// A match and what to do with a request that meets it: exactly one of <see cref="Forward"/>,
/// <see cref="DirectResponse"/> and <see cref="Redirect"/>.
/// </summary>
public sealed record Route
{
    /// <summary>The VirtualService route's <c>name</c>; the access log's <c>%ROUTE_NAME%</c>.</summary>
    public string? Name { get; init; }

    /// <summary>Absent matches every request.</summary>
    public RouteMatch? Match { get; init; }

    public ForwardAction? Forward { get; init; }

    public DirectResponseAction? DirectResponse { get; init; }

    public RedirectAction? Redirect { get; init; }
}

/// <summary>
/// Conditions on a request, all of which must hold. The path is matched by at most one of <see cref="Exact"/>,
/// <see cref="Prefix"/> and <see cref="Regex"/>, as Envoy does: exact and regex against the path without its query,
/// prefix against the whole <c>:path</c>; regex must match the whole path (RE2-style, linear time).
/// </summary>
public sealed record RouteMatch
{
    public string? Exact { get; init; }

    public string? Prefix { get; init; }

    public string? Regex { get; init; }

    /// <summary>Exact and prefix compare case-insensitively, as Istio's <c>ignoreUriCase</c>.</summary>
    public bool IgnoreCase { get; init; }

    public EquatableArray<HeaderMatch> Headers { get; init; }

    /// <summary>
    /// Query parameter conditions (Envoy's <c>query_parameters</c>): the name compared exactly, the value of its first
    /// occurrence as sent (not decoded); <c>?key</c> has the value "". Left out of the JSON when empty.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingDefault)]
    public EquatableArray<HeaderMatch> QueryParams { get; init; }
}

/// <summary>
/// One header condition: exactly one of <see cref="Exact"/>, <see cref="Prefix"/>, <see cref="Regex"/> and
/// <see cref="Present"/> (<c>true</c>: the header is there, <c>false</c>: it is absent). A header sent several times
/// is matched as its values joined by <c>,</c> (RFC 9110 §5.3). <see cref="Invert"/> negates the result.
/// </summary>
public sealed record HeaderMatch
{
    /// <summary>Case-insensitive; pseudo-headers such as <c>:method</c> included.</summary>
    public required string Name { get; init; }

    public string? Exact { get; init; }

    public string? Prefix { get; init; }

    public string? Regex { get; init; }

    public bool? Present { get; init; }

    public bool Invert { get; init; }
}

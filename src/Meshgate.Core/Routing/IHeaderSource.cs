namespace Meshgate.Core.Routing;

/// <summary>
/// A request's headers as route matching reads them, so a proxy adapts its own header collection without copying.
/// Implement it on a struct and pass it by value: <see cref="CompiledRouteTable.Match{THeaders}(ReadOnlySpan{char}, ReadOnlySpan{char}, THeaders)"/> is generic so the
/// calls are not boxed.
/// </summary>
public interface IHeaderSource
{
    /// <summary>
    /// The value of the header <paramref name="name"/> (lower-case; pseudo-headers such as <c>:method</c> included),
    /// several values joined by <c>,</c> (RFC 9110 §5.3); false when the request does not have it.
    /// </summary>
    bool TryGetValue(string name, out ReadOnlySpan<char> value);
}

/// <summary>A request without headers; the null object for callers that match on path and authority only.</summary>
public readonly struct NoHeaders : IHeaderSource
{
    public bool TryGetValue(string name, out ReadOnlySpan<char> value)
    {
        value = default;
        return false;
    }
}

using Microsoft.Extensions.Primitives;

namespace Meshgate.Proxy.Forwarding;

/// <summary>
/// What an HTTP/1.x request must not be forwarded with, where Kestrel is more lenient than Envoy (RFC 9112). Checked
/// per request without allocating: the request target's bytes, and the Transfer-Encoding list when there is one.
/// </summary>
internal static class Http1RequestChecks
{
    /// <summary>
    /// RFC 9112 §6.1, §7: the only transfer coding a proxy may take apart is one <c>chunked</c>, last. Kestrel accepts
    /// any list ending in chunked and removes only that layer (a <c>gzip, chunked</c> body would reach the origin still
    /// gzip-coded as a plain body) and <c>chunked</c> twice; Envoy, nginx and Go accept exactly one <c>chunked</c> and
    /// answer anything else 501. Empty list elements are ignored (RFC 9110 §5.6.1).
    /// </summary>
    public static bool HasUnsupportedTransferCoding(StringValues transferEncoding)
    {
        if (transferEncoding.Count == 0)
        {
            return false;
        }

        var codings = 0;
        foreach (var value in transferEncoding)
        {
            var rest = (value ?? "").AsSpan();
            while (true)
            {
                var comma = rest.IndexOf(',');
                var element = (comma < 0 ? rest : rest[..comma]).Trim(" \t");
                if (!element.IsEmpty)
                {
                    codings++;
                    if (codings > 1 || !element.Equals("chunked", StringComparison.OrdinalIgnoreCase))
                    {
                        return true;
                    }
                }

                if (comma < 0)
                {
                    break;
                }

                rest = rest[(comma + 1)..];
            }
        }

        return codings != 1;
    }

    /// <summary>
    /// RFC 9112 §3.2: a request target is visible ASCII with no fragment (RFC 9110 §4.2.1); Kestrel takes a tab, a
    /// control character or a <c>#</c> and the forwarder would send them percent-encoded, a different path than the
    /// client's, which filters in front of the proxy never saw. Envoy answers 400, as here.
    /// </summary>
    public static bool HasInvalidTarget(string? rawTarget)
    {
        foreach (var c in (rawTarget ?? "").AsSpan())
        {
            if (c <= ' ' || c >= '\u007f' || c == '#')
            {
                return true;
            }
        }

        return false;
    }
}

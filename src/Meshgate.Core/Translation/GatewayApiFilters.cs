using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

using Meshgate.Core.Resources;
using Meshgate.Core.Resources.GatewayApi;
using Meshgate.Core.Resources.Istio;

namespace Meshgate.Core.Translation;

/// <summary>
/// HTTPRoute filters lowered to VirtualService fields, as istio/istio <c>pilot/pkg/config/kube/gateway/conversion.go</c>
/// (<c>convertHTTPRoute</c>, <c>buildHTTPDestination</c>, <c>create*Filter</c>) does:
/// <list type="bullet">
/// <item><c>RequestHeaderModifier</c>/<c>ResponseHeaderModifier</c> → <c>headers.request</c>/<c>headers.response</c>
/// (names lower-cased, the first of equal names wins), on the rule or on a backend's destination;</item>
/// <item><c>RequestRedirect</c> → <c>redirect</c>; <c>URLRewrite</c> → <c>rewrite</c>; <c>RequestMirror</c> →
/// <c>mirrors</c>; <c>CORS</c> → <c>corsPolicy</c>.</item>
/// </list>
/// A filter Meshgate cannot carry out as written makes the rule fail closed (<see cref="RuleFilters.FailClosed"/>):
/// Gateway API says such a filter "MUST NOT be skipped"; requests it would have processed get an error response
/// (HTTPRouteFilter, ExtensionRef). Istio refuses the whole route instead; here the rule answers 500 and the rest of
/// the route keeps working.
/// </summary>
internal static class GatewayApiFilters
{
    /// <summary>What a rule's <c>filters</c> lower to.</summary>
    public sealed record RuleFilters
    {
        public Headers? Headers { get; init; }
        public HttpRedirect? Redirect { get; init; }
        public HttpRewrite? Rewrite { get; init; }
        public List<HttpMirrorPolicy>? Mirrors { get; init; }
        public CorsPolicy? Cors { get; init; }

        /// <summary>A filter cannot be carried out as written: the rule answers 500 instead.</summary>
        public bool FailClosed { get; init; }
    }

    /// <summary>A rule's filters, in order; a later filter of a type replaces an earlier one (Istio's loop).</summary>
    public static RuleFilters Rule(List<HttpRouteFilter>? filters, Resource route, GatewayApiBackends backends)
    {
        var result = new RuleFilters();
        foreach (var filter in filters ?? [])
        {
            result = filter.Type switch
            {
                "RequestHeaderModifier" => HeaderOperations(filter.RequestHeaderModifier) is var (ops, ok) && ok
                    ? result with { Headers = ops is null ? result.Headers : (result.Headers ?? new Headers()) with { Request = ops } }
                    : result with { FailClosed = true },
                "ResponseHeaderModifier" => HeaderOperations(filter.ResponseHeaderModifier) is var (ops, ok) && ok
                    ? result with { Headers = ops is null ? result.Headers : (result.Headers ?? new Headers()) with { Response = ops } }
                    : result with { FailClosed = true },
                "RequestRedirect" => Redirect(filter.RequestRedirect) is { } redirect ? result with { Redirect = redirect } : result with { FailClosed = true },
                "URLRewrite" => Rewrite(filter.UrlRewrite, out var rewrite) ? result with { Rewrite = rewrite } : result with { FailClosed = true },

                // Mirroring never changes the response, so a mirror Meshgate cannot use (an invalid backend, an
                // unreadable fraction) is left out, as Istio leaves it out and reports the backend on the route.
                "RequestMirror" => Mirror(filter.RequestMirror, route, backends) is { } mirror
                    ? result with { Mirrors = [.. result.Mirrors ?? [], mirror] }
                    : result,
                "CORS" => Cors(filter.Cors) is { } cors ? result with { Cors = cors } : result,

                // ExtensionRef names an implementation-specific filter; Meshgate implements none, and Istio answers
                // "unsupported filter type". Unknown types are refused on apply; one stored anyway fails closed too.
                _ => result with { FailClosed = true },
            };
        }

        return result;
    }

    /// <summary>
    /// A backendRef's own filters: header modifiers become the destination's <c>headers</c>. Istio supports no other
    /// filter there ("unsupported filter type"), so any other one makes the rule fail closed (<c>usable</c> false).
    /// </summary>
    public static (Headers? Headers, bool Usable) Backend(List<HttpRouteFilter>? filters)
    {
        Headers? headers = null;
        foreach (var filter in filters ?? [])
        {
            var modifier = filter.Type switch
            {
                "RequestHeaderModifier" => filter.RequestHeaderModifier,
                "ResponseHeaderModifier" => filter.ResponseHeaderModifier,
                _ => null,
            };
            if (modifier is null || HeaderOperations(modifier) is not (var ops, true))
            {
                return (null, false);
            }

            if (ops is not null)
            {
                headers = filter.Type == "RequestHeaderModifier"
                    ? (headers ?? new Headers()) with { Request = ops }
                    : (headers ?? new Headers()) with { Response = ops };
            }
        }

        return (headers, true);
    }

    /// <summary>
    /// <c>set</c>/<c>add</c> as maps keyed by the lower-cased name ("subsequent entries with an equivalent header name
    /// MUST be ignored"), <c>remove</c> as it is. A value with control characters is refused, as Istio refuses it
    /// (<c>isValidHeaderValue</c>): <c>usable</c> false.
    /// </summary>
    private static (HeaderOperations? Operations, bool Usable) HeaderOperations(HttpHeaderFilter? filter)
    {
        if (filter is null)
        {
            return (null, false);
        }

        var set = HeaderMap(filter.Set);
        var add = HeaderMap(filter.Add);
        if (set is { Usable: false } || add is { Usable: false })
        {
            return (null, false);
        }

        var remove = filter.Remove is { Count: > 0 } names ? names : null;
        return set.Map is null && add.Map is null && remove is null
            ? (null, true)
            : (new HeaderOperations { Set = set.Map, Add = add.Map, Remove = remove }, true);
    }

    private static (Dictionary<string, string>? Map, bool Usable) HeaderMap(List<HttpHeader>? headers)
    {
        if (headers is not { Count: > 0 })
        {
            return (null, true);
        }

        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var header in headers)
        {
            var value = header.Value ?? "";
            if (!ValidHeaderValue(value))
            {
                return (null, false);
            }

            map.TryAdd((header.Name ?? "").ToLowerInvariant(), value);
        }

        return (map, true);
    }

    /// <summary>RFC 9110 §5.5 field values: visible characters, spaces and tabs; no other control characters.</summary>
    private static bool ValidHeaderValue(string value)
    {
        foreach (var c in value)
        {
            if (c != '\t' && (c < ' ' || c == '\x7f'))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// <c>RequestRedirect</c> as Istio's <c>createRedirectFilter</c>: <c>statusCode</c> → <c>redirectCode</c> (302 when
    /// absent, the API's default), <c>hostname</c> → <c>authority</c>, <c>scheme</c>, <c>port</c> (absent: the
    /// request's port, or the scheme's default when <c>scheme</c> is set), <c>path.replaceFullPath</c> → <c>uri</c>.
    /// Null when the filter cannot be carried out: <c>path.replacePrefixMatch</c> needs a redirect that replaces only
    /// the matched prefix (Istio's <c>prefixRewrite</c>), which neither this VirtualService model nor the proxy's
    /// redirect (whole path only) has, and redirecting to the unchanged or a wrong path would send the client somewhere
    /// the route does not say.
    /// </summary>
    private static HttpRedirect? Redirect(JsonObject? filter)
    {
        if (filter is null
            || !FilterJson.TryString(filter, "scheme", out var scheme) || !FilterJson.TryString(filter, "hostname", out var hostname)
            || !FilterJson.TryLong(filter, "port", out var port) || !FilterJson.TryLong(filter, "statusCode", out var statusCode)
            || !FilterJson.TryObject(filter, "path", out var path))
        {
            return null;
        }

        string? uri = null;
        if (path is not null)
        {
            if (!FilterJson.TryString(path, "type", out var type) || type != "ReplaceFullPath" || !FilterJson.TryString(path, "replaceFullPath", out uri) || uri is null)
            {
                return null;
            }
        }

        return new HttpRedirect
        {
            Scheme = scheme,
            Authority = hostname,
            Port = port,
            DerivePort = port is not null ? null
                : scheme is not null ? RedirectPortSelection.FromProtocolDefault : RedirectPortSelection.FromRequestPort,
            Uri = uri,
            RedirectCode = statusCode ?? 302,
        };
    }

    /// <summary>
    /// <c>URLRewrite</c> as Istio's <c>createRewriteFilter</c>: <c>hostname</c> → <c>authority</c>;
    /// <c>path.replacePrefixMatch</c> → <c>uri</c> (the matched prefix is replaced; a trailing <c>/</c> is dropped, and
    /// <c>/</c> removes the prefix); <c>path.replaceFullPath</c> → <c>uriRegexRewrite</c> of the whole path. Null
    /// rewrite when it changes nothing; false when it cannot be read.
    /// </summary>
    private static bool Rewrite(JsonObject? filter, out HttpRewrite? rewrite)
    {
        rewrite = null;
        if (filter is null || !FilterJson.TryString(filter, "hostname", out var hostname) || !FilterJson.TryObject(filter, "path", out var path))
        {
            return false;
        }

        string? uri = null;
        RegexRewrite? regex = null;
        if (path is not null)
        {
            if (!FilterJson.TryString(path, "type", out var type))
            {
                return false;
            }

            switch (type)
            {
                case "ReplacePrefixMatch" when FilterJson.TryString(path, "replacePrefixMatch", out var prefix) && prefix is not null:
                    uri = prefix.TrimEnd('/') is { Length: > 0 } trimmed ? trimmed : "/";
                    break;
                case "ReplaceFullPath" when FilterJson.TryString(path, "replaceFullPath", out var full) && full is not null:
                    regex = new RegexRewrite { Match = "/.*", Rewrite = full };
                    break;
                default:
                    return false;
            }
        }

        if (hostname is not null || uri is not null || regex is not null)
        {
            rewrite = new HttpRewrite { Authority = hostname, Uri = uri, UriRegexRewrite = regex };
        }

        return true;
    }

    /// <summary>
    /// <c>RequestMirror</c> as Istio's <c>createMirrorFilter</c>: the backendRef resolved like any other (an invalid
    /// one mirrors nothing), <c>fraction</c> (denominator 100 by default) or <c>percent</c> → <c>percentage</c>.
    /// </summary>
    private static HttpMirrorPolicy? Mirror(JsonObject? filter, Resource route, GatewayApiBackends backends)
    {
        if (filter is null || !FilterJson.TryObject(filter, "backendRef", out var backendRef) || backendRef is null
            || !FilterJson.TryString(backendRef, "group", out var group) || !FilterJson.TryString(backendRef, "kind", out var kind)
            || !FilterJson.TryString(backendRef, "name", out var name) || !FilterJson.TryString(backendRef, "namespace", out var ns)
            || !FilterJson.TryLong(backendRef, "port", out var port)
            || !FilterJson.TryLong(filter, "percent", out var percent) || !FilterJson.TryObject(filter, "fraction", out var fraction)
            || backends.Resolve(route, group, kind, name, ns, port) is not { } destination)
        {
            return null;
        }

        Percent? percentage = null;
        if (fraction is not null)
        {
            if (!FilterJson.TryLong(fraction, "numerator", out var numerator) || numerator is null
                || !FilterJson.TryLong(fraction, "denominator", out var denominator) || denominator is 0)
            {
                return null;
            }

            percentage = new Percent { Value = 100.0 * numerator.Value / (denominator ?? 100) };
        }
        else if (percent is { } p)
        {
            percentage = new Percent { Value = p };
        }

        return new HttpMirrorPolicy { Destination = destination, Percentage = percentage };
    }

    /// <summary>
    /// <c>CORS</c> as Istio's <c>createCorsFilter</c>: origins <c>*</c> → any valid origin (a regex), without <c>*</c>
    /// → exact, one trailing <c>*</c> → prefix, other wildcards → a regex; <c>maxAge</c> in seconds; unmatched
    /// preflights are answered by the proxy, not passed on (<c>IGNORE</c>).
    /// </summary>
    private static CorsPolicy? Cors(JsonObject? filter)
    {
        if (filter is null)
        {
            return null;
        }

        var origins = new List<StringMatch>();
        foreach (var origin in FilterJson.Strings(filter, "allowOrigins"))
        {
            if (origin.Length == 0)
            {
                continue;
            }

            origins.Add(origin switch
            {
                "*" => new StringMatch { Regex = "^[a-zA-Z][a-zA-Z0-9+.-]*://[^/\\s?#]+$" },
                _ when !origin.Contains('*') => new StringMatch { Exact = origin },
                _ when origin.IndexOf('*') == origin.Length - 1 => new StringMatch { Prefix = origin[..^1] },
                _ => new StringMatch { Regex = "^" + Re2Escape(origin).Replace("\\*", ".*", StringComparison.Ordinal) + "$" },
            });
        }

        var maxAge = FilterJson.TryLong(filter, "maxAge", out var seconds) && seconds > 0 ? $"{seconds}s" : null;
        return new CorsPolicy
        {
            AllowOrigins = origins.Count > 0 ? origins : null,
            AllowCredentials = filter["allowCredentials"] is JsonValue credentials && credentials.GetValueKind() == JsonValueKind.True ? true : null,
            AllowMethods = NullIfEmpty(FilterJson.Strings(filter, "allowMethods")),
            AllowHeaders = NullIfEmpty(FilterJson.Strings(filter, "allowHeaders")),
            ExposeHeaders = NullIfEmpty(FilterJson.Strings(filter, "exposeHeaders")),
            MaxAge = maxAge,
            UnmatchedPreflights = "IGNORE",
        };
    }

    private static List<string>? NullIfEmpty(List<string> list) => list.Count > 0 ? list : null;

    /// <summary>RE2's metacharacters escaped (Go's <c>regexp.QuoteMeta</c>).</summary>
    private static string Re2Escape(string text)
    {
        var builder = new StringBuilder(text.Length + 8);
        foreach (var c in text)
        {
            if (@"\.+*?()|[]{}^$".Contains(c, StringComparison.Ordinal))
            {
                builder.Append('\\');
            }

            builder.Append(c);
        }

        return builder.ToString();
    }
}

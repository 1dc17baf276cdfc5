using System.Text.RegularExpressions;

using Meshgate.Core.ProxyConfiguration;
using Meshgate.Core.Routing;
using Meshgate.Core.Validation;

using IstioCorsPolicy = Meshgate.Core.Resources.Istio.CorsPolicy;
using IstioHeaderOperations = Meshgate.Core.Resources.Istio.HeaderOperations;
using IstioHeaders = Meshgate.Core.Resources.Istio.Headers;
using StringMatch = Meshgate.Core.Resources.Istio.StringMatch;

namespace Meshgate.Core.Translation;

/// <summary>
/// A VirtualService HTTP rule's <c>headers</c>, <c>rewrite.uri</c>/<c>uriRegexRewrite</c> and <c>corsPolicy</c> in the
/// snapshot's shape, as Istio's <c>route.go</c> gives them to Envoy. What the proxy would refuse is left out, never
/// NACKed: a header that names a pseudo-header or is not a token, a value with CR, LF or NUL, a regex the proxy's
/// linear-time engine refuses.
/// </summary>
internal static class RouteFeatures
{
    /// <summary>
    /// <c>headers</c>; <paramref name="host"/> is a Host (or <c>:authority</c>) the request <c>set</c> names, which
    /// Istio turns into the route's authority rewrite rather than a header.
    /// </summary>
    public static HeaderRewrite? Headers(IstioHeaders? headers, out string? host)
    {
        host = null;
        if (headers is null)
        {
            return null;
        }

        var request = Operations(headers.Request, request: true, ref host);
        string? ignored = null;
        var response = Operations(headers.Response, request: false, ref ignored);
        return request is null && response is null ? null : new HeaderRewrite { Request = request, Response = response };
    }

    private static HeaderOperations? Operations(IstioHeaderOperations? operations, bool request, ref string? host)
    {
        if (operations is null)
        {
            return null;
        }

        var set = Values(operations.Set, request, ref host);
        string? ignored = null;
        var add = Values(operations.Add, request, ref ignored);
        var remove = new List<string>();
        foreach (var name in operations.Remove ?? [])
        {
            if (RouteFeatureRules.Name(name, request) is null)
            {
                remove.Add(name.ToLowerInvariant());
            }
        }

        return set.Count == 0 && add.Count == 0 && remove.Count == 0
            ? null
            : new HeaderOperations { Set = [.. set], Add = [.. add], Remove = [.. remove] };
    }

    private static List<HeaderValue> Values(Dictionary<string, string>? map, bool request, ref string? host)
    {
        var values = new List<HeaderValue>();
        foreach (var (name, value) in (map ?? []).OrderBy(e => e.Key, StringComparer.Ordinal))
        {
            if (request && (name.Equals("host", StringComparison.OrdinalIgnoreCase) || name == ":authority"))
            {
                host ??= value;
                continue;
            }

            if (RouteFeatureRules.Name(name, request) is null && value.AsSpan().IndexOfAny('\r', '\n', '\0') < 0)
            {
                values.Add(new HeaderValue { Name = name.ToLowerInvariant(), Value = value });
            }
        }

        return values;
    }

    /// <summary>
    /// <c>rewrite.uri</c> → Envoy's <c>prefix_rewrite</c> (the matched prefix replaced, or the whole path for an exact or
    /// regex match); <c>uriRegexRewrite</c> → <c>regex_rewrite</c>. A <c>uri</c> of <c>/</c> on a prefix match removes
    /// the prefix and the slashes after it (<c>/api/v1</c> → <c>/v1</c>), as Istio does for Gateway API's
    /// <c>replacePrefixMatch: /</c>, instead of Envoy's plain <c>//v1</c>.
    /// </summary>
    public static PathRewrite? PathRewrite(Resources.Istio.HttpRewrite? rewrite, StringMatch? uri)
    {
        if (rewrite?.Uri is { Length: > 0 } replacement)
        {
            if (replacement.AsSpan().IndexOfAny("\r\n\0 ?#") >= 0)
            {
                return null;
            }

            return replacement == "/" && uri?.Prefix is { Length: > 1 } prefix && !prefix.EndsWith('/')
                ? new PathRewrite { Regex = "^" + Regex.Escape(prefix) + "/*", Substitution = "/" }
                : new PathRewrite { Prefix = replacement };
        }

        if (rewrite?.UriRegexRewrite is { Match: { Length: > 0 } pattern, Rewrite: { } substitution }
            && RouteRegex.Check(pattern) is null && substitution.AsSpan().IndexOfAny("\r\n\0 ?#") < 0)
        {
            return new PathRewrite { Regex = pattern, Substitution = substitution };
        }

        return null;
    }

    /// <summary><c>corsPolicy</c>; <c>unmatchedPreflights: IGNORE</c> answers other origins' preflights locally.</summary>
    public static CorsPolicy? Cors(IstioCorsPolicy? cors)
    {
        if (cors is null)
        {
            return null;
        }

        var origins = new List<OriginMatch>();
        foreach (var origin in cors.AllowOrigins ?? [])
        {
            if (origin.Exact is { } exact)
            {
                origins.Add(new OriginMatch { Exact = exact });
            }
            else if (origin.Prefix is { } prefix)
            {
                origins.Add(new OriginMatch { Prefix = prefix });
            }
            else if (origin.Regex is { } regex && RouteRegex.Check(regex) is null)
            {
                origins.Add(new OriginMatch { Regex = regex });
            }
        }

        return new CorsPolicy
        {
            AllowOrigins = [.. origins],
            AllowMethods = Tokens(cors.AllowMethods),
            AllowHeaders = Tokens(cors.AllowHeaders),
            ExposeHeaders = Tokens(cors.ExposeHeaders),
            MaxAgeSeconds = cors.MaxAge is { } maxAge && Durations.TryParse(maxAge, out var age) && age >= TimeSpan.Zero
                ? (int)Math.Min(age.TotalSeconds, int.MaxValue)
                : null,
            AllowCredentials = cors.AllowCredentials == true,
            IgnoreUnmatchedPreflights = string.Equals(cors.UnmatchedPreflights, "IGNORE", StringComparison.Ordinal),
        };
    }

    private static EquatableArray<string> Tokens(List<string>? values)
    {
        var usable = new List<string>();
        foreach (var value in values ?? [])
        {
            if (value.Length > 0 && value.AsSpan().IndexOfAny("\r\n\0,") < 0)
            {
                usable.Add(value);
            }
        }

        return [.. usable];
    }
}

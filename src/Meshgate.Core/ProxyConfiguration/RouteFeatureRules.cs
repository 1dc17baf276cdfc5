using Meshgate.Core.Routing;

namespace Meshgate.Core.ProxyConfiguration;

/// <summary>
/// The checks of a forward action's header changes, path rewrite, mirrors and CORS policy: what the proxy compiles once
/// per snapshot must compile (regexes), and header changes must be ones Envoy takes (no pseudo-headers, no Host: that is
/// <c>hostRewrite</c>; values without CR, LF or NUL).
/// </summary>
internal static class RouteFeatureRules
{
    public static void Forward(ForwardAction forward, ConsistencyScope scope, string path, References references)
    {
        if (forward.Headers is { } headers)
        {
            Headers(headers, scope, path + ".headers");
        }

        if (forward.PathRewrite is { } rewrite)
        {
            PathRewrite(rewrite, scope, path + ".pathRewrite");
        }

        for (var i = 0; i < forward.Mirrors.Count; i++)
        {
            var mirror = forward.Mirrors[i];
            var at = $"{path}.mirrors[{i}]";
            scope.Check(at + ".cluster", references.MissingCluster(mirror.Cluster));
            if (mirror.Percentage is { } percentage && !(percentage >= 0 && percentage <= 100))
            {
                scope.Error(at + ".percentage", $"{percentage} is not a percentage (0-100)");
            }
        }

        if (forward.Cors is { } cors)
        {
            Cors(cors, scope, path + ".cors");
        }
    }

    public static void Headers(HeaderRewrite headers, ConsistencyScope scope, string path)
    {
        if (headers.Request is { } request)
        {
            Operations(request, scope, path + ".request", request: true);
        }

        if (headers.Response is { } response)
        {
            Operations(response, scope, path + ".response", request: false);
        }
    }

    private static void Operations(HeaderOperations operations, ConsistencyScope scope, string path, bool request)
    {
        Values(operations.Set, scope, path + ".set", request);
        Values(operations.Add, scope, path + ".add", request);
        for (var i = 0; i < operations.Remove.Count; i++)
        {
            scope.Check($"{path}.remove[{i}]", Name(operations.Remove[i], request));
        }
    }

    private static void Values(EquatableArray<HeaderValue> values, ConsistencyScope scope, string path, bool request)
    {
        for (var i = 0; i < values.Count; i++)
        {
            scope.Check($"{path}[{i}].name", Name(values[i].Name, request));
            if (values[i].Value.AsSpan().IndexOfAny('\r', '\n', '\0') >= 0)
            {
                scope.Error($"{path}[{i}].value", "must not contain CR, LF or NUL");
            }
        }
    }

    /// <summary>Why <paramref name="name"/> cannot be changed, or null: an RFC 9110 token, not a pseudo-header, not Host.</summary>
    internal static string? Name(string name, bool request)
    {
        if (name.Length == 0)
        {
            return "must not be empty";
        }

        if (name.StartsWith(':'))
        {
            return $"\"{name}\" is a pseudo-header, which header changes cannot touch";
        }

        if (request && name.Equals("host", StringComparison.OrdinalIgnoreCase))
        {
            return "\"host\" cannot be changed here; use the route's hostRewrite";
        }

        foreach (var c in name)
        {
            if (c <= ' ' || c >= '\x7f' || "\"(),/:;<=>?@[\\]{}".Contains(c, StringComparison.Ordinal))
            {
                return $"\"{name}\" is not a header name (RFC 9110 token)";
            }
        }

        return null;
    }

    private static void PathRewrite(PathRewrite rewrite, ConsistencyScope scope, string path)
    {
        if ((rewrite.Prefix is null) == (rewrite.Regex is null))
        {
            scope.Error(path, "sets both or neither of prefix and regex; set one");
        }

        if (rewrite.Regex is not null)
        {
            scope.Check(path + ".regex", RouteRegex.Check(rewrite.Regex));
            if (rewrite.Substitution is null)
            {
                scope.Error(path + ".substitution", "is required with regex");
            }
        }
        else if (rewrite.Substitution is not null)
        {
            scope.Error(path + ".substitution", "is only used with regex");
        }

        if ((rewrite.Prefix ?? rewrite.Substitution)?.AsSpan().IndexOfAny("\r\n\0 ?#") >= 0)
        {
            scope.Error(path, "the new path must not contain spaces, control characters, ? or #");
        }
    }

    private static void Cors(CorsPolicy cors, ConsistencyScope scope, string path)
    {
        for (var i = 0; i < cors.AllowOrigins.Count; i++)
        {
            var origin = cors.AllowOrigins[i];
            var at = $"{path}.allowOrigins[{i}]";
            var count = (origin.Exact is null ? 0 : 1) + (origin.Prefix is null ? 0 : 1) + (origin.Regex is null ? 0 : 1);
            if (count != 1)
            {
                scope.Error(at, $"sets {(count == 0 ? "none" : "more than one")} of exact, prefix and regex; set one");
            }

            if (origin.Regex is not null)
            {
                scope.Check(at + ".regex", RouteRegex.Check(origin.Regex));
            }
        }

        if (cors.MaxAgeSeconds is < 0)
        {
            scope.Error(path + ".maxAgeSeconds", "must not be negative");
        }

        foreach (var (field, list) in new[] { ("allowMethods", cors.AllowMethods), ("allowHeaders", cors.AllowHeaders), ("exposeHeaders", cors.ExposeHeaders) })
        {
            for (var i = 0; i < list.Count; i++)
            {
                if (list[i].Length == 0 || list[i].AsSpan().IndexOfAny("\r\n\0,") >= 0)
                {
                    scope.Error($"{path}.{field}[{i}]", $"\"{list[i]}\" is not a method or header name");
                }
            }
        }
    }
}

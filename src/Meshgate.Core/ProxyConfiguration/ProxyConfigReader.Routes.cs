using System.Diagnostics.CodeAnalysis;
using System.Text.Json;

namespace Meshgate.Core.ProxyConfiguration;

/// <summary>The route tables of a snapshot: virtual hosts, routes, matches and actions.</summary>
internal static partial class ProxyConfigReader
{
    private static bool ReadRouteTable(ref Utf8JsonReader r, Scratch s, [NotNullWhen(true)] out RouteTable? value)
    {
        value = null;
        string? name = null;
        EquatableArray<VirtualHost> virtualHosts = default;
        if (r.TokenType != JsonTokenType.StartObject)
        {
            return false;
        }

        var seen = 0;
        while (NextProperty(ref r))
        {
            var ok =
                r.ValueTextEquals("name"u8) ? Value(ref r, ref seen, 1) && RequiredString(ref r, out name)
                : r.ValueTextEquals("virtualHosts"u8) && Value(ref r, ref seen, 2) && ReadList(ref r, s, Kind.VirtualHost, out virtualHosts);
            if (!ok)
            {
                return false;
            }
        }

        if (r.TokenType != JsonTokenType.EndObject || name is null)
        {
            return false;
        }

        value = new RouteTable { Name = name, VirtualHosts = virtualHosts };
        return true;
    }

    private static bool ReadVirtualHost(ref Utf8JsonReader r, Scratch s, [NotNullWhen(true)] out VirtualHost? value)
    {
        value = null;
        string? name = null;
        EquatableArray<string> domains = default;
        EquatableArray<Route> routes = default;
        if (r.TokenType != JsonTokenType.StartObject)
        {
            return false;
        }

        var seen = 0;
        while (NextProperty(ref r))
        {
            var ok =
                r.ValueTextEquals("name"u8) ? Value(ref r, ref seen, 1) && RequiredString(ref r, out name)
                : r.ValueTextEquals("domains"u8) ? Value(ref r, ref seen, 2) && ReadList(ref r, s, Kind.String, out domains)
                : r.ValueTextEquals("routes"u8) && Value(ref r, ref seen, 4) && ReadList(ref r, s, Kind.Route, out routes);
            if (!ok)
            {
                return false;
            }
        }

        if (r.TokenType != JsonTokenType.EndObject || name is null)
        {
            return false;
        }

        value = new VirtualHost { Name = name, Domains = domains, Routes = routes };
        return true;
    }

    private static bool ReadRoute(ref Utf8JsonReader r, Scratch s, [NotNullWhen(true)] out Route? value)
    {
        value = null;
        string? name = null;
        RouteMatch? match = null;
        ForwardAction? forward = null;
        DirectResponseAction? directResponse = null;
        RedirectAction? redirect = null;
        if (r.TokenType != JsonTokenType.StartObject)
        {
            return false;
        }

        var seen = 0;
        while (NextProperty(ref r))
        {
            var ok =
                r.ValueTextEquals("name"u8) ? Value(ref r, ref seen, 1) && OptionalString(ref r, out name)
                : r.ValueTextEquals("match"u8) ? Value(ref r, ref seen, 2) && (IsNull(ref r) || ReadRouteMatch(ref r, s, out match))
                : r.ValueTextEquals("forward"u8) ? Value(ref r, ref seen, 4) && (IsNull(ref r) || ReadForward(ref r, s, out forward))
                : r.ValueTextEquals("directResponse"u8) ? Value(ref r, ref seen, 8) && (IsNull(ref r) || ReadDirectResponse(ref r, out directResponse))
                : r.ValueTextEquals("redirect"u8) && Value(ref r, ref seen, 16) && (IsNull(ref r) || ReadRedirect(ref r, out redirect));
            if (!ok)
            {
                return false;
            }
        }

        if (r.TokenType != JsonTokenType.EndObject)
        {
            return false;
        }

        value = new Route { Name = name, Match = match, Forward = forward, DirectResponse = directResponse, Redirect = redirect };
        return true;
    }

    private static bool ReadRouteMatch(ref Utf8JsonReader r, Scratch s, [NotNullWhen(true)] out RouteMatch? value)
    {
        value = null;
        string? exact = null, prefix = null, regex = null;
        var ignoreCase = false;
        EquatableArray<HeaderMatch> headers = default, queryParams = default;
        if (r.TokenType != JsonTokenType.StartObject)
        {
            return false;
        }

        var seen = 0;
        while (NextProperty(ref r))
        {
            var ok =
                r.ValueTextEquals("queryParams"u8) ? Value(ref r, ref seen, 32) && ReadList(ref r, s, Kind.HeaderMatch, out queryParams)
                : r.ValueTextEquals("exact"u8) ? Value(ref r, ref seen, 1) && OptionalString(ref r, out exact)
                : r.ValueTextEquals("prefix"u8) ? Value(ref r, ref seen, 2) && OptionalString(ref r, out prefix)
                : r.ValueTextEquals("regex"u8) ? Value(ref r, ref seen, 4) && OptionalString(ref r, out regex)
                : r.ValueTextEquals("ignoreCase"u8) ? Value(ref r, ref seen, 8) && Boolean(ref r, out ignoreCase)
                : r.ValueTextEquals("headers"u8) && Value(ref r, ref seen, 16) && ReadList(ref r, s, Kind.HeaderMatch, out headers);
            if (!ok)
            {
                return false;
            }
        }

        if (r.TokenType != JsonTokenType.EndObject)
        {
            return false;
        }

        value = new RouteMatch { Exact = exact, Prefix = prefix, Regex = regex, IgnoreCase = ignoreCase, Headers = headers, QueryParams = queryParams };
        return true;
    }

    private static bool ReadHeaderMatch(ref Utf8JsonReader r, [NotNullWhen(true)] out HeaderMatch? value)
    {
        value = null;
        string? name = null, exact = null, prefix = null, regex = null;
        bool? present = null;
        var invert = false;
        if (r.TokenType != JsonTokenType.StartObject)
        {
            return false;
        }

        var seen = 0;
        while (NextProperty(ref r))
        {
            var ok =
                r.ValueTextEquals("name"u8) ? Value(ref r, ref seen, 1) && RequiredString(ref r, out name)
                : r.ValueTextEquals("exact"u8) ? Value(ref r, ref seen, 2) && OptionalString(ref r, out exact)
                : r.ValueTextEquals("prefix"u8) ? Value(ref r, ref seen, 4) && OptionalString(ref r, out prefix)
                : r.ValueTextEquals("regex"u8) ? Value(ref r, ref seen, 8) && OptionalString(ref r, out regex)
                : r.ValueTextEquals("present"u8) ? Value(ref r, ref seen, 16) && OptionalBoolean(ref r, out present)
                : r.ValueTextEquals("invert"u8) && Value(ref r, ref seen, 32) && Boolean(ref r, out invert);
            if (!ok)
            {
                return false;
            }
        }

        if (r.TokenType != JsonTokenType.EndObject || name is null)
        {
            return false;
        }

        value = new HeaderMatch { Name = name, Exact = exact, Prefix = prefix, Regex = regex, Present = present, Invert = invert };
        return true;
    }

    private static bool ReadForward(ref Utf8JsonReader r, Scratch s, [NotNullWhen(true)] out ForwardAction? value)
    {
        value = null;
        EquatableArray<WeightedCluster> clusters = default;
        TimeSpan? timeout = null;
        RetryPolicy? retries = null;
        string? hostRewrite = null;
        HeaderRewrite? headers = null;
        PathRewrite? pathRewrite = null;
        EquatableArray<MirrorPolicy> mirrors = default;
        CorsPolicy? cors = null;
        if (r.TokenType != JsonTokenType.StartObject)
        {
            return false;
        }

        var seen = 0;
        while (NextProperty(ref r))
        {
            var ok =
                r.ValueTextEquals("headers"u8) ? Value(ref r, ref seen, 16) && (IsNull(ref r) || ReadHeaderRewrite(ref r, s, out headers))
                : r.ValueTextEquals("pathRewrite"u8) ? Value(ref r, ref seen, 32) && (IsNull(ref r) || ReadPathRewrite(ref r, out pathRewrite))
                : r.ValueTextEquals("mirrors"u8) ? Value(ref r, ref seen, 64) && ReadList(ref r, s, Kind.MirrorPolicy, out mirrors)
                : r.ValueTextEquals("cors"u8) ? Value(ref r, ref seen, 128) && (IsNull(ref r) || ReadCors(ref r, s, out cors))
                : r.ValueTextEquals("clusters"u8) ? Value(ref r, ref seen, 1) && ReadList(ref r, s, Kind.WeightedCluster, out clusters)
                : r.ValueTextEquals("timeout"u8) ? Value(ref r, ref seen, 2) && Duration(ref r, s, out timeout)
                : r.ValueTextEquals("retries"u8) ? Value(ref r, ref seen, 4) && (IsNull(ref r) || ReadRetryPolicy(ref r, s, out retries))
                : r.ValueTextEquals("hostRewrite"u8) && Value(ref r, ref seen, 8) && OptionalString(ref r, out hostRewrite);
            if (!ok)
            {
                return false;
            }
        }

        if (r.TokenType != JsonTokenType.EndObject)
        {
            return false;
        }

        value = new ForwardAction
        {
            Clusters = clusters,
            Timeout = timeout,
            Retries = retries,
            HostRewrite = hostRewrite,
            Headers = headers,
            PathRewrite = pathRewrite,
            Mirrors = mirrors,
            Cors = cors,
        };
        return true;
    }

    private static bool ReadWeightedCluster(ref Utf8JsonReader r, Scratch s, [NotNullWhen(true)] out WeightedCluster? value)
    {
        value = null;
        string? name = null;
        var weight = 0;
        HeaderRewrite? headers = null;
        if (r.TokenType != JsonTokenType.StartObject)
        {
            return false;
        }

        var seen = 0;
        while (NextProperty(ref r))
        {
            var ok =
                r.ValueTextEquals("name"u8) ? Value(ref r, ref seen, 1) && RequiredString(ref r, out name)
                : r.ValueTextEquals("weight"u8) ? Value(ref r, ref seen, 2) && Int32(ref r, out weight)
                : r.ValueTextEquals("headers"u8) && Value(ref r, ref seen, 4) && (IsNull(ref r) || ReadHeaderRewrite(ref r, s, out headers));
            if (!ok)
            {
                return false;
            }
        }

        // weight has a default of its own (1), so it must be written out.
        if (r.TokenType != JsonTokenType.EndObject || (seen & (1 | 2)) != (1 | 2))
        {
            return false;
        }

        value = new WeightedCluster { Name = name!, Weight = weight, Headers = headers };
        return true;
    }

    private static bool ReadRetryPolicy(ref Utf8JsonReader r, Scratch s, [NotNullWhen(true)] out RetryPolicy? value)
    {
        value = null;
        var attempts = 0;
        EquatableArray<RetryCondition> retryOn = default;
        EquatableArray<int> retriableStatusCodes = default;
        TimeSpan? perTryTimeout = null;
        if (r.TokenType != JsonTokenType.StartObject)
        {
            return false;
        }

        var seen = 0;
        while (NextProperty(ref r))
        {
            var ok =
                r.ValueTextEquals("attempts"u8) ? Value(ref r, ref seen, 1) && Int32(ref r, out attempts)
                : r.ValueTextEquals("retryOn"u8) ? Value(ref r, ref seen, 2) && ReadRetryConditions(ref r, out retryOn)
                : r.ValueTextEquals("retriableStatusCodes"u8) ? Value(ref r, ref seen, 4) && ReadInt32List(ref r, out retriableStatusCodes)
                : r.ValueTextEquals("perTryTimeout"u8) && Value(ref r, ref seen, 8) && Duration(ref r, s, out perTryTimeout);
            if (!ok)
            {
                return false;
            }
        }

        if (r.TokenType != JsonTokenType.EndObject)
        {
            return false;
        }

        value = new RetryPolicy { Attempts = attempts, RetryOn = retryOn, RetriableStatusCodes = retriableStatusCodes, PerTryTimeout = perTryTimeout };
        return true;
    }

    private static bool ReadDirectResponse(ref Utf8JsonReader r, [NotNullWhen(true)] out DirectResponseAction? value)
    {
        value = null;
        var status = 0;
        string? body = null;
        if (r.TokenType != JsonTokenType.StartObject)
        {
            return false;
        }

        var seen = 0;
        while (NextProperty(ref r))
        {
            var ok =
                r.ValueTextEquals("status"u8) ? Value(ref r, ref seen, 1) && Int32(ref r, out status)
                : r.ValueTextEquals("body"u8) && Value(ref r, ref seen, 2) && OptionalString(ref r, out body);
            if (!ok)
            {
                return false;
            }
        }

        if (r.TokenType != JsonTokenType.EndObject || (seen & 1) == 0)
        {
            return false;
        }

        value = new DirectResponseAction { Status = status, Body = body };
        return true;
    }

    private static bool ReadRedirect(ref Utf8JsonReader r, [NotNullWhen(true)] out RedirectAction? value)
    {
        value = null;
        string? scheme = null, host = null, path = null;
        int? port = null;
        var status = 0;
        if (r.TokenType != JsonTokenType.StartObject)
        {
            return false;
        }

        var seen = 0;
        while (NextProperty(ref r))
        {
            var ok =
                r.ValueTextEquals("scheme"u8) ? Value(ref r, ref seen, 1) && OptionalString(ref r, out scheme)
                : r.ValueTextEquals("host"u8) ? Value(ref r, ref seen, 2) && OptionalString(ref r, out host)
                : r.ValueTextEquals("port"u8) ? Value(ref r, ref seen, 4) && OptionalInt32(ref r, out port)
                : r.ValueTextEquals("path"u8) ? Value(ref r, ref seen, 8) && OptionalString(ref r, out path)
                : r.ValueTextEquals("status"u8) && Value(ref r, ref seen, 16) && Int32(ref r, out status);
            if (!ok)
            {
                return false;
            }
        }

        // status has a default of its own (301), so it must be written out.
        if (r.TokenType != JsonTokenType.EndObject || (seen & 16) == 0)
        {
            return false;
        }

        value = new RedirectAction { Scheme = scheme, Host = host, Port = port, Path = path, Status = status };
        return true;
    }
}

using System.Diagnostics.CodeAnalysis;
using System.Text.Json;

namespace Meshgate.Core.ProxyConfiguration;

/// <summary>A forward action's header changes, path rewrite, mirrors and CORS policy.</summary>
internal static partial class ProxyConfigReader
{
    private static bool ReadHeaderRewrite(ref Utf8JsonReader r, Scratch s, [NotNullWhen(true)] out HeaderRewrite? value)
    {
        value = null;
        HeaderOperations? request = null, response = null;
        if (r.TokenType != JsonTokenType.StartObject)
        {
            return false;
        }

        var seen = 0;
        while (NextProperty(ref r))
        {
            var ok =
                r.ValueTextEquals("request"u8) ? Value(ref r, ref seen, 1) && (IsNull(ref r) || ReadHeaderOperations(ref r, s, out request))
                : r.ValueTextEquals("response"u8) && Value(ref r, ref seen, 2) && (IsNull(ref r) || ReadHeaderOperations(ref r, s, out response));
            if (!ok)
            {
                return false;
            }
        }

        if (r.TokenType != JsonTokenType.EndObject)
        {
            return false;
        }

        value = new HeaderRewrite { Request = request, Response = response };
        return true;
    }

    private static bool ReadHeaderOperations(ref Utf8JsonReader r, Scratch s, [NotNullWhen(true)] out HeaderOperations? value)
    {
        value = null;
        EquatableArray<HeaderValue> set = default, add = default;
        EquatableArray<string> remove = default;
        if (r.TokenType != JsonTokenType.StartObject)
        {
            return false;
        }

        var seen = 0;
        while (NextProperty(ref r))
        {
            var ok =
                r.ValueTextEquals("set"u8) ? Value(ref r, ref seen, 1) && ReadList(ref r, s, Kind.HeaderValue, out set)
                : r.ValueTextEquals("add"u8) ? Value(ref r, ref seen, 2) && ReadList(ref r, s, Kind.HeaderValue, out add)
                : r.ValueTextEquals("remove"u8) && Value(ref r, ref seen, 4) && ReadList(ref r, s, Kind.String, out remove);
            if (!ok)
            {
                return false;
            }
        }

        if (r.TokenType != JsonTokenType.EndObject)
        {
            return false;
        }

        value = new HeaderOperations { Set = set, Add = add, Remove = remove };
        return true;
    }

    private static bool ReadHeaderValue(ref Utf8JsonReader r, [NotNullWhen(true)] out HeaderValue? value)
    {
        value = null;
        string? name = null, text = null;
        if (r.TokenType != JsonTokenType.StartObject)
        {
            return false;
        }

        var seen = 0;
        while (NextProperty(ref r))
        {
            var ok =
                r.ValueTextEquals("name"u8) ? Value(ref r, ref seen, 1) && RequiredString(ref r, out name)
                : r.ValueTextEquals("value"u8) && Value(ref r, ref seen, 2) && RequiredString(ref r, out text);
            if (!ok)
            {
                return false;
            }
        }

        if (r.TokenType != JsonTokenType.EndObject || name is null || text is null)
        {
            return false;
        }

        value = new HeaderValue { Name = name, Value = text };
        return true;
    }

    private static bool ReadPathRewrite(ref Utf8JsonReader r, [NotNullWhen(true)] out PathRewrite? value)
    {
        value = null;
        string? prefix = null, regex = null, substitution = null;
        if (r.TokenType != JsonTokenType.StartObject)
        {
            return false;
        }

        var seen = 0;
        while (NextProperty(ref r))
        {
            var ok =
                r.ValueTextEquals("prefix"u8) ? Value(ref r, ref seen, 1) && OptionalString(ref r, out prefix)
                : r.ValueTextEquals("regex"u8) ? Value(ref r, ref seen, 2) && OptionalString(ref r, out regex)
                : r.ValueTextEquals("substitution"u8) && Value(ref r, ref seen, 4) && OptionalString(ref r, out substitution);
            if (!ok)
            {
                return false;
            }
        }

        if (r.TokenType != JsonTokenType.EndObject)
        {
            return false;
        }

        value = new PathRewrite { Prefix = prefix, Regex = regex, Substitution = substitution };
        return true;
    }

    private static bool ReadMirror(ref Utf8JsonReader r, [NotNullWhen(true)] out MirrorPolicy? value)
    {
        value = null;
        string? cluster = null;
        double? percentage = null;
        if (r.TokenType != JsonTokenType.StartObject)
        {
            return false;
        }

        var seen = 0;
        while (NextProperty(ref r))
        {
            var ok =
                r.ValueTextEquals("cluster"u8) ? Value(ref r, ref seen, 1) && RequiredString(ref r, out cluster)
                : r.ValueTextEquals("percentage"u8) && Value(ref r, ref seen, 2) && OptionalDouble(ref r, out percentage);
            if (!ok)
            {
                return false;
            }
        }

        if (r.TokenType != JsonTokenType.EndObject || cluster is null)
        {
            return false;
        }

        value = new MirrorPolicy { Cluster = cluster, Percentage = percentage };
        return true;
    }

    private static bool OptionalDouble(ref Utf8JsonReader r, out double? value)
    {
        value = null;
        if (r.TokenType == JsonTokenType.Null)
        {
            return true;
        }

        if (r.TokenType != JsonTokenType.Number || !r.TryGetDouble(out var number))
        {
            return false;
        }

        value = number;
        return true;
    }

    private static bool ReadCors(ref Utf8JsonReader r, Scratch s, [NotNullWhen(true)] out CorsPolicy? value)
    {
        value = null;
        EquatableArray<OriginMatch> origins = default;
        EquatableArray<string> methods = default, headers = default, expose = default;
        int? maxAge = null;
        bool credentials = false, ignoreUnmatched = false;
        if (r.TokenType != JsonTokenType.StartObject)
        {
            return false;
        }

        var seen = 0;
        while (NextProperty(ref r))
        {
            var ok =
                r.ValueTextEquals("allowOrigins"u8) ? Value(ref r, ref seen, 1) && ReadList(ref r, s, Kind.OriginMatch, out origins)
                : r.ValueTextEquals("allowMethods"u8) ? Value(ref r, ref seen, 2) && ReadList(ref r, s, Kind.String, out methods)
                : r.ValueTextEquals("allowHeaders"u8) ? Value(ref r, ref seen, 4) && ReadList(ref r, s, Kind.String, out headers)
                : r.ValueTextEquals("exposeHeaders"u8) ? Value(ref r, ref seen, 8) && ReadList(ref r, s, Kind.String, out expose)
                : r.ValueTextEquals("maxAgeSeconds"u8) ? Value(ref r, ref seen, 16) && OptionalInt32(ref r, out maxAge)
                : r.ValueTextEquals("allowCredentials"u8) ? Value(ref r, ref seen, 32) && Boolean(ref r, out credentials)
                : r.ValueTextEquals("ignoreUnmatchedPreflights"u8) && Value(ref r, ref seen, 64) && Boolean(ref r, out ignoreUnmatched);
            if (!ok)
            {
                return false;
            }
        }

        if (r.TokenType != JsonTokenType.EndObject)
        {
            return false;
        }

        value = new CorsPolicy
        {
            AllowOrigins = origins,
            AllowMethods = methods,
            AllowHeaders = headers,
            ExposeHeaders = expose,
            MaxAgeSeconds = maxAge,
            AllowCredentials = credentials,
            IgnoreUnmatchedPreflights = ignoreUnmatched,
        };
        return true;
    }

    private static bool ReadOriginMatch(ref Utf8JsonReader r, [NotNullWhen(true)] out OriginMatch? value)
    {
        value = null;
        string? exact = null, prefix = null, regex = null;
        if (r.TokenType != JsonTokenType.StartObject)
        {
            return false;
        }

        var seen = 0;
        while (NextProperty(ref r))
        {
            var ok =
                r.ValueTextEquals("exact"u8) ? Value(ref r, ref seen, 1) && OptionalString(ref r, out exact)
                : r.ValueTextEquals("prefix"u8) ? Value(ref r, ref seen, 2) && OptionalString(ref r, out prefix)
                : r.ValueTextEquals("regex"u8) && Value(ref r, ref seen, 4) && OptionalString(ref r, out regex);
            if (!ok)
            {
                return false;
            }
        }

        if (r.TokenType != JsonTokenType.EndObject)
        {
            return false;
        }

        value = new OriginMatch { Exact = exact, Prefix = prefix, Regex = regex };
        return true;
    }
}

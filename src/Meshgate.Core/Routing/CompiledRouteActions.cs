using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

using Meshgate.Core.ProxyConfiguration;

namespace Meshgate.Core.Routing;

/// <summary>
/// A forward route's header changes, path rewrite, mirrors and CORS policy, compiled once per snapshot (header names
/// and values as arrays, regexes compiled, CORS answers joined). Routes without any have none
/// (<see cref="For"/> returns null), so they cost the proxy one null check.
/// </summary>
public sealed class CompiledRouteActions
{
    private readonly HeaderSteps?[] _clusterRequest;
    private readonly HeaderSteps?[] _clusterResponse;
    private readonly int _matchedPrefixLength;
    private readonly string? _prefixReplacement;
    private readonly Regex? _rewriteRegex;
    private readonly string? _rewriteSubstitution;

    private CompiledRouteActions(Route route, ForwardAction forward)
    {
        RequestHeaders = HeaderSteps.For(forward.Headers?.Request);
        ResponseHeaders = HeaderSteps.For(forward.Headers?.Response);
        _clusterRequest = new HeaderSteps?[forward.Clusters.Count];
        _clusterResponse = new HeaderSteps?[forward.Clusters.Count];
        for (var i = 0; i < forward.Clusters.Count; i++)
        {
            _clusterRequest[i] = HeaderSteps.For(forward.Clusters[i].Headers?.Request);
            _clusterResponse[i] = HeaderSteps.For(forward.Clusters[i].Headers?.Response);
        }

        if (forward.PathRewrite is { Prefix: { } prefix })
        {
            // Envoy's prefix_rewrite replaces what the route matched: its prefix, or the whole path for an exact or regex
            // match. A route without a path condition is Istio's prefix "/".
            var match = route.Match;
            _matchedPrefixLength = match?.Prefix is { } matched ? matched.Length
                : match?.Exact is not null || match?.Regex is not null ? -1
                : 1;
            _prefixReplacement = prefix;
        }
        else if (forward.PathRewrite is { Regex: { } pattern, Substitution: { } substitution })
        {
            _rewriteRegex = new Regex(pattern, RegexOptions.NonBacktracking | RegexOptions.CultureInvariant);
            _rewriteSubstitution = Substitution(substitution);
        }

        if (!forward.Mirrors.IsEmpty)
        {
            Mirrors = new Mirror[forward.Mirrors.Count];
            for (var i = 0; i < Mirrors.Length; i++)
            {
                var percentage = forward.Mirrors[i].Percentage ?? 100;
                Mirrors[i] = new Mirror(forward.Mirrors[i].Cluster, (int)Math.Round(Math.Clamp(percentage, 0, 100) * 10_000));
            }
        }

        Cors = forward.Cors is { } cors ? new CompiledCors(cors) : null;
    }

    /// <summary>The route's own request header changes (applied after the cluster's, so they win).</summary>
    public HeaderSteps? RequestHeaders { get; }

    public HeaderSteps? ResponseHeaders { get; }

    /// <summary>True when the path sent upstream is not the client's.</summary>
    public bool RewritesPath => _prefixReplacement is not null || _rewriteRegex is not null;

    /// <summary>Shadow targets, or null.</summary>
    public Mirror[]? Mirrors { get; }

    public CompiledCors? Cors { get; }

    /// <summary>The compiled actions of <paramref name="route"/>, or null when it forwards without any.</summary>
    public static CompiledRouteActions? For(Route route)
    {
        ArgumentNullException.ThrowIfNull(route);
        return route.Forward is { } forward && Has(forward) ? new CompiledRouteActions(route, forward) : null;
    }

    private static bool Has(ForwardAction forward)
    {
        if (forward.Headers is not null || forward.PathRewrite is not null || !forward.Mirrors.IsEmpty || forward.Cors is not null)
        {
            return true;
        }

        foreach (var cluster in forward.Clusters)
        {
            if (cluster.Headers is not null)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The request header changes of the weighted cluster at <paramref name="index"/>, or null.</summary>
    public HeaderSteps? ClusterRequestHeaders(int index) => (uint)index < (uint)_clusterRequest.Length ? _clusterRequest[index] : null;

    public HeaderSteps? ClusterResponseHeaders(int index) => (uint)index < (uint)_clusterResponse.Length ? _clusterResponse[index] : null;

    /// <summary>The path to send upstream for <paramref name="path"/> (without its query), as Envoy rewrites it.</summary>
    public string RewritePath(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (_prefixReplacement is not null)
        {
            var matched = _matchedPrefixLength < 0 ? path.Length : Math.Min(_matchedPrefixLength, path.Length);
            return string.Concat(_prefixReplacement, path.AsSpan(matched));
        }

        return _rewriteRegex is not null ? _rewriteRegex.Replace(path, _rewriteSubstitution!) : path;
    }

    /// <summary>
    /// RE2's substitution (<c>\1</c> for a group, <c>\\</c> for a backslash, as Envoy's <c>regex_rewrite</c> takes it)
    /// in .NET's syntax (<c>${1}</c>, <c>$$</c> for a literal <c>$</c>).
    /// </summary>
    private static string Substitution(string re2)
    {
        var builder = new StringBuilder(re2.Length + 8);
        for (var i = 0; i < re2.Length; i++)
        {
            var c = re2[i];
            if (c == '$')
            {
                builder.Append("$$");
            }
            else if (c == '\\' && i + 1 < re2.Length && char.IsAsciiDigit(re2[i + 1]))
            {
                builder.Append("${").Append(re2[++i]).Append('}');
            }
            else if (c == '\\' && i + 1 < re2.Length && re2[i + 1] == '\\')
            {
                builder.Append('\\');
                i++;
            }
            else
            {
                builder.Append(c);
            }
        }

        return builder.ToString();
    }

    /// <summary>A mirror's cluster and the share of requests it gets, in millionths.</summary>
    public sealed record Mirror(string Cluster, int PerMillion);
}

/// <summary>One direction's header changes as arrays: remove, then set (overwrite), then add (append).</summary>
public sealed class HeaderSteps
{
    private HeaderSteps(HeaderOperations operations)
    {
        Remove = [.. operations.Remove];
        SetNames = Names(operations.Set);
        SetValues = Values(operations.Set);
        AddNames = Names(operations.Add);
        AddValues = Values(operations.Add);
    }

    public string[] Remove { get; }

    public string[] SetNames { get; }

    public string[] SetValues { get; }

    public string[] AddNames { get; }

    public string[] AddValues { get; }

    public static HeaderSteps? For(HeaderOperations? operations) =>
        operations is null || (operations.Remove.IsEmpty && operations.Set.IsEmpty && operations.Add.IsEmpty) ? null : new HeaderSteps(operations);

    private static string[] Names(EquatableArray<HeaderValue> values)
    {
        var names = new string[values.Count];
        for (var i = 0; i < names.Length; i++)
        {
            names[i] = values[i].Name;
        }

        return names;
    }

    private static string[] Values(EquatableArray<HeaderValue> values)
    {
        var texts = new string[values.Count];
        for (var i = 0; i < texts.Length; i++)
        {
            texts[i] = values[i].Value;
        }

        return texts;
    }
}

/// <summary>A <see cref="CorsPolicy"/> with its origin conditions compiled and its answer headers joined.</summary>
public sealed class CompiledCors
{
    private readonly string?[] _exact;
    private readonly string?[] _prefix;
    private readonly Regex?[] _regex;

    public CompiledCors(CorsPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        var count = policy.AllowOrigins.Count;
        _exact = new string?[count];
        _prefix = new string?[count];
        _regex = new Regex?[count];
        for (var i = 0; i < count; i++)
        {
            var origin = policy.AllowOrigins[i];
            _exact[i] = origin.Exact;
            _prefix[i] = origin.Prefix;
            _regex[i] = origin.Regex is { } pattern ? RouteRegex.Create(pattern) : null;
        }

        AllowMethods = Joined(policy.AllowMethods);
        AllowHeaders = Joined(policy.AllowHeaders);
        ExposeHeaders = Joined(policy.ExposeHeaders);
        MaxAge = policy.MaxAgeSeconds?.ToString(CultureInfo.InvariantCulture);
        AllowCredentials = policy.AllowCredentials;
        IgnoreUnmatchedPreflights = policy.IgnoreUnmatchedPreflights;
    }

    /// <summary><c>access-control-allow-methods</c>, or null.</summary>
    public string? AllowMethods { get; }

    public string? AllowHeaders { get; }

    public string? ExposeHeaders { get; }

    public string? MaxAge { get; }

    public bool AllowCredentials { get; }

    public bool IgnoreUnmatchedPreflights { get; }

    /// <summary>Whether <paramref name="origin"/> is allowed (exact and prefix compare ordinally, regex the whole value).</summary>
    public bool Allows(ReadOnlySpan<char> origin)
    {
        for (var i = 0; i < _exact.Length; i++)
        {
            if ((_exact[i] is { } exact && origin.SequenceEqual(exact))
                || (_prefix[i] is { } prefix && origin.StartsWith(prefix, StringComparison.Ordinal))
                || (_regex[i] is { } regex && regex.IsMatch(origin)))
            {
                return true;
            }
        }

        return false;
    }

    private static string? Joined(EquatableArray<string> values) => values.IsEmpty ? null : string.Join(',', values);
}

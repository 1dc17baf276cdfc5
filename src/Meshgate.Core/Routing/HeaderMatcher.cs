using System.Text.RegularExpressions;

using Meshgate.Core.ProxyConfiguration;

namespace Meshgate.Core.Routing;

/// <summary>One compiled <see cref="HeaderMatch"/>.</summary>
internal sealed class HeaderMatcher
{
    private readonly string _name;
    private readonly string? _exact;
    private readonly string? _prefix;
    private readonly Regex? _regex;
    private readonly bool? _present;
    private readonly bool _invert;

    /// <param name="caseSensitiveName">A query parameter's name is compared as written; a header's is lower-cased.</param>
    public HeaderMatcher(HeaderMatch match, bool caseSensitiveName = false)
    {
        _name = caseSensitiveName ? match.Name : match.Name.ToLowerInvariant();
        _exact = match.Exact;
        _prefix = match.Prefix;
        _regex = match.Regex is null ? null : RouteRegex.Create(match.Regex);
        _present = match.Present;
        _invert = match.Invert;
    }

    public bool Matches<THeaders>(THeaders headers)
        where THeaders : IHeaderSource =>
        headers.TryGetValue(_name, out var value) ? MatchesValue(true, value) : MatchesValue(false, default);

    /// <summary>A query parameter condition against the request's query.</summary>
    public bool Matches(QueryParameters query) =>
        query.TryGetValue(_name, out var value) ? MatchesValue(true, value) : MatchesValue(false, default);

    private bool MatchesValue(bool found, ReadOnlySpan<char> value)
    {
        if (!found)
        {
            // Envoy's HeaderUtility::matchHeaders: a missing header fails every value condition, inverted or not;
            // only "present: false" (or an inverted "present: true") takes it.
            return _present is { } wanted && wanted == _invert;
        }

        bool matched;
        if (_exact is not null)
        {
            matched = value.SequenceEqual(_exact);
        }
        else if (_prefix is not null)
        {
            matched = value.StartsWith(_prefix, StringComparison.Ordinal);
        }
        else if (_regex is not null)
        {
            matched = _regex.IsMatch(value);
        }
        else
        {
            matched = _present ?? true;
        }

        return matched != _invert;
    }
}

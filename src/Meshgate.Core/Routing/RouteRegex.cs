using System.Text.RegularExpressions;

using Meshgate.Core.Validation;

namespace Meshgate.Core.Routing;

/// <summary>
/// Regular expressions of routes and header matches, run as Envoy runs RE2: the whole value must match, in time
/// linear in its length (<see cref="RegexOptions.NonBacktracking"/>), so a request cannot make routing slow.
/// </summary>
internal static class RouteRegex
{
    public static Regex Create(string pattern, bool ignoreCase = false) =>
        new($"^(?:{pattern})\\z", RegexOptions.NonBacktracking | RegexOptions.CultureInvariant | (ignoreCase ? RegexOptions.IgnoreCase : RegexOptions.None));

    /// <summary>Why <paramref name="pattern"/> cannot be used, or null when it can.</summary>
    public static string? Check(string pattern)
    {
        if (RuleContext.CheckRegex(pattern) is { } error)
        {
            return error;
        }

        try
        {
            _ = Create(pattern);
            return null;
        }
        catch (Exception e) when (e is NotSupportedException or ArgumentException)
        {
            return $"\"{pattern}\" cannot be matched in linear time: {e.Message}";
        }
    }
}

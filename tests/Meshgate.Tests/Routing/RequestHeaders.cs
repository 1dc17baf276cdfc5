using Meshgate.Core.Routing;

namespace Meshgate.Tests.Routing;

/// <summary>Headers for simulation rows, written <c>name=value;name=value</c>; a struct, so matching does not box it.</summary>
internal readonly struct RequestHeaders(Dictionary<string, string> values) : IHeaderSource
{
    public static RequestHeaders Parse(string spec)
    {
        var values = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var pair in spec.Split(';', StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = pair.IndexOf('=', 1); // after the first character, so ":method=GET" works
            values[pair[..equals]] = pair[(equals + 1)..];
        }

        return new RequestHeaders(values);
    }

    public bool TryGetValue(string name, out ReadOnlySpan<char> value)
    {
        if (values.TryGetValue(name, out var text))
        {
            value = text;
            return true;
        }

        value = default;
        return false;
    }
}

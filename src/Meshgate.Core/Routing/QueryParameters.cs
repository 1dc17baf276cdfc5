namespace Meshgate.Core.Routing;

/// <summary>
/// A query string read as Envoy's <c>query_parameters</c> match reads it: <c>name=value</c> pairs split on <c>&amp;</c>,
/// the first occurrence of a name wins, values as sent (not decoded), <c>name</c> alone has the value "".
/// </summary>
internal readonly ref struct QueryParameters(ReadOnlySpan<char> query)
{
    private readonly ReadOnlySpan<char> _query = query;

    public bool TryGetValue(string name, out ReadOnlySpan<char> value)
    {
        var rest = _query;
        while (!rest.IsEmpty)
        {
            var end = rest.IndexOf('&');
            var pair = end < 0 ? rest : rest[..end];
            rest = end < 0 ? [] : rest[(end + 1)..];
            var equals = pair.IndexOf('=');
            var key = equals < 0 ? pair : pair[..equals];
            if (key.SequenceEqual(name))
            {
                value = equals < 0 ? [] : pair[(equals + 1)..];
                return true;
            }
        }

        value = default;
        return false;
    }
}

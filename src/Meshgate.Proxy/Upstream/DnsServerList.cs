using System.Net;

namespace Meshgate.Proxy.Upstream;

/// <summary>
/// The DNS servers a proxy resolves with, as users write them: <c>--dns-server IP:PORT</c> (repeatable,
/// or comma-separated) or <c>MESHGATE_DNS_SERVERS=ip:port,...</c> (DESIGN.md). The port defaults to 53;
/// IPv6 addresses take brackets (<c>[::1]:5353</c>).
/// </summary>
public static class DnsServerList
{
    public const string EnvironmentVariable = "MESHGATE_DNS_SERVERS";

    /// <summary>Parses every value, each possibly a comma-separated list; false with the reason on the first bad one.</summary>
    public static bool TryParse(IEnumerable<string> values, out IReadOnlyList<IPEndPoint> servers, out string error)
    {
        var parsed = new List<IPEndPoint>();
        servers = parsed;
        error = "";
        foreach (var item in values.SelectMany(v => v.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)))
        {
            if (!TryParseOne(item, out var server))
            {
                error = $"\"{item}\" is not a DNS server address: expected IP:PORT, e.g. 127.0.0.1:5353 or [::1]:53";
                return false;
            }

            if (!parsed.Contains(server))
            {
                parsed.Add(server);
            }
        }

        return true;
    }

    private static bool TryParseOne(string text, out IPEndPoint server)
    {
        server = null!;
        if (IPAddress.TryParse(text, out var bare) && !text.StartsWith('['))
        {
            server = new IPEndPoint(bare, 53);
            return true;
        }

        // "[::1]:5353" parses as an address alone (the port dropped), hence the bracket check above.
        if (!IPEndPoint.TryParse(text, out var endpoint) || endpoint.Port == 0)
        {
            return false;
        }

        server = endpoint;
        return true;
    }
}

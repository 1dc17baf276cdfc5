using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace Meshgate.Proxy.Upstream;

/// <summary>
/// Turns an endpoint's address (an IP, or a host name as snapshots carry them) into IP addresses.
/// Names go through the system resolver (/etc/hosts, /etc/resolv.conf) and are cached for a short
/// time, so a changed DNS answer is followed without a restart.
/// </summary>
public sealed class EndpointResolver(TimeProvider time)
{
    /// <summary>How long an answer is reused; the system resolver does not tell us the record's TTL.</summary>
    public static readonly TimeSpan CacheTime = TimeSpan.FromSeconds(5);

    private readonly ConcurrentDictionary<string, Entry> _cache = new(StringComparer.OrdinalIgnoreCase);

    private sealed record Entry(IPAddress[] Addresses, DateTimeOffset Expires);

    public async ValueTask<IPAddress[]> ResolveAsync(string address, CancellationToken cancellationToken)
    {
        if (IPAddress.TryParse(address, out var ip))
        {
            return [ip];
        }

        var now = time.GetUtcNow();
        if (_cache.TryGetValue(address, out var entry) && entry.Expires > now)
        {
            return entry.Addresses;
        }

        IPAddress[] addresses;
        try
        {
            addresses = await Dns.GetHostAddressesAsync(address, cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException)
        {
            addresses = [];
        }

        // IPv4 first: loopback test hosts and most egress targets answer there.
        Array.Sort(addresses, (a, b) => a.AddressFamily.CompareTo(b.AddressFamily));
        _cache[address] = new Entry(addresses, now + CacheTime);
        return addresses;
    }
}

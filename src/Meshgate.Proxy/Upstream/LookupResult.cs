using System.Net;

namespace Meshgate.Proxy.Upstream;

/// <summary>
/// What a lookup learned. An answer (possibly empty: the name does not exist or has no address) replaces
/// what was known; a failure (no server answered, SERVFAIL, REFUSED) does not, so the last good answer is
/// kept, as Envoy does for STRICT_DNS clusters.
/// </summary>
public readonly record struct LookupResult
{
    private LookupResult(IPAddress[] addresses, TimeSpan ttl, string? error)
    {
        Addresses = addresses;
        Ttl = ttl;
        Error = error;
    }

    /// <summary>IPv4 first (or only IPv4 when there is any), as the resolver ordered them.</summary>
    public IPAddress[] Addresses { get; }

    /// <summary>How long the answer may be used, before <see cref="EndpointResolver"/> bounds it.</summary>
    public TimeSpan Ttl { get; }

    /// <summary>Why the lookup failed; null for an answer.</summary>
    public string? Error { get; }

    public bool IsAnswer => Error is null;

    public static LookupResult Answer(IPAddress[] addresses, TimeSpan ttl) => new(addresses, ttl, null);

    public static LookupResult Failed(string error) => new([], TimeSpan.Zero, error);

    /// <summary>
    /// The IPv4 addresses when there are any, otherwise the IPv6 ones: Envoy's <c>V4_PREFERRED</c>
    /// lookup family, which Istio uses for DNS clusters on single-stack IPv4 hosts.
    /// </summary>
    public static IPAddress[] PreferIPv4(IReadOnlyCollection<IPAddress> addresses)
    {
        var v4 = addresses.Where(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork).ToArray();
        return v4.Length > 0 ? v4 : [.. addresses.Where(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6)];
    }
}

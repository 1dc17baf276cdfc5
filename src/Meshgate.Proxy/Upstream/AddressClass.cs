namespace Meshgate.Proxy.Upstream;

/// <summary>
/// What kind of address an upstream is, for the egress guard (<see cref="EgressGuard"/>): the public internet, an
/// address the operator wrote in the configuration, or one of the ranges refused by default. An IPv6 address that
/// embeds an IPv4 address (v4-mapped, NAT64, 6to4, Teredo, IPv4-compatible) has the class of the IPv4 address.
/// </summary>
public enum AddressClass : byte
{
    /// <summary>Globally routable unicast (documentation ranges included, as Smokescreen has them): allowed.</summary>
    Public,

    /// <summary>Written by the operator (an EDS or STATIC endpoint, an IP endpoint of a DNS cluster): never checked.</summary>
    Declared,

    /// <summary>127.0.0.0/8, ::1.</summary>
    Loopback,

    /// <summary>RFC 1918 (10/8, 172.16/12, 192.168/16), IPv6 unique local fc00::/7 and site-local fec0::/10.</summary>
    Private,

    /// <summary>169.254.0.0/16 (the cloud metadata address 169.254.169.254 among them), fe80::/10.</summary>
    LinkLocal,

    /// <summary>Shared address space 100.64.0.0/10 (RFC 6598, carrier-grade NAT).</summary>
    Cgnat,

    /// <summary>0.0.0.0/8 ("this network"), ::.</summary>
    Unspecified,

    /// <summary>224.0.0.0/4, ff00::/8.</summary>
    Multicast,

    /// <summary>240.0.0.0/4 (but the broadcast address), 192.0.0.0/24 (IETF protocol assignments), IPv6 outside 2000::/3.</summary>
    Reserved,

    /// <summary>255.255.255.255.</summary>
    Broadcast,

    /// <summary>198.18.0.0/15, 2001:2::/48 (RFC 2544 / RFC 5180 benchmarking).</summary>
    Benchmarking,
}

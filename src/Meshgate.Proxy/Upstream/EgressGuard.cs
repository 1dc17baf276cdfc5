using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Meshgate.Proxy.Upstream;

/// <summary>
/// Classifies upstream addresses for the egress guard (docs/egress-safety.md), without allocating: an address is
/// read as 16 bytes (IPv4 as v4-mapped), and an IPv6 address that embeds an IPv4 address is classified by that IPv4
/// address, so <c>::ffff:127.0.0.1</c>, <c>64:ff9b::7f00:1</c> (NAT64), <c>2002:7f00:1::</c> (6to4) and a Teredo
/// address whose client is 127.0.0.1 are all loopback.
/// </summary>
public static class EgressGuard
{
    /// <summary>The class of <paramref name="address"/> (never <see cref="AddressClass.Declared"/>).</summary>
    public static AddressClass Classify(IPAddress address) => Classify(ToUInt128(address));

    /// <summary>The class of an address in its 16-byte form (IPv4 as <c>::ffff:a.b.c.d</c>).</summary>
    public static AddressClass Classify(UInt128 address)
    {
        var embedded = EmbeddedIPv4(address);
        if (embedded is { } v4)
        {
            // A Teredo address embeds two: the server's and the client's (bits inverted); the worse one counts.
            if (IsTeredo(address))
            {
                var server = ClassifyV4((uint)(address >> 64));
                return server != AddressClass.Public ? server : ClassifyV4(v4);
            }

            return ClassifyV4(v4);
        }

        return ClassifyV6(address);
    }

    /// <summary>The IPv4 address an IPv6 address embeds (the address itself for IPv4): v4-mapped, IPv4-compatible, NAT64, 6to4, Teredo.</summary>
    public static uint? EmbeddedIPv4(UInt128 address)
    {
        var high96 = address >> 32;
        if (high96 == 0xFFFF || high96 == ((UInt128)0xFFFF << 16))
        {
            return (uint)address; // ::ffff:a.b.c.d (v4-mapped) and ::ffff:0:a.b.c.d (SIIT)
        }

        if (high96 == 0 && (uint)address > 1)
        {
            return (uint)address; // ::a.b.c.d, the deprecated IPv4-compatible form (:: and ::1 are IPv6's own)
        }

        if (high96 == Nat64Prefix)
        {
            return (uint)address; // 64:ff9b::a.b.c.d
        }

        if ((ushort)(address >> 112) == 0x2002)
        {
            return (uint)(address >> 80); // 2002:AABB:CCDD::/48
        }

        if (IsTeredo(address))
        {
            return ~(uint)address; // 2001:0:SSSS:SSSS:flags:port:~client
        }

        return null;
    }

    /// <summary>The 16-byte form: IPv6 as it is, IPv4 as <c>::ffff:a.b.c.d</c>.</summary>
    public static UInt128 ToUInt128(IPAddress address)
    {
        Span<byte> bytes = stackalloc byte[16];
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            address.TryWriteBytes(bytes[12..], out _);
            bytes[10] = 0xFF;
            bytes[11] = 0xFF;
        }
        else
        {
            address.TryWriteBytes(bytes, out _);
        }

        return BinaryPrimitives.ReadUInt128BigEndian(bytes);
    }

    /// <summary>The label value and response-code-details word of a class (<c>link_local</c>).</summary>
    public static string Name(AddressClass value) => value switch
    {
        AddressClass.Public => "public",
        AddressClass.Declared => "declared",
        AddressClass.Loopback => "loopback",
        AddressClass.Private => "private",
        AddressClass.LinkLocal => "link_local",
        AddressClass.Cgnat => "cgnat",
        AddressClass.Unspecified => "unspecified",
        AddressClass.Multicast => "multicast",
        AddressClass.Reserved => "reserved",
        AddressClass.Broadcast => "broadcast",
        AddressClass.Benchmarking => "benchmarking",
        _ => "unknown",
    };

    /// <summary>Every class, in order of the enum (for metrics).</summary>
    internal const int ClassCount = (int)AddressClass.Benchmarking + 1;

    private static readonly UInt128 Nat64Prefix = (UInt128)0x0064_FF9B << 64; // 64:ff9b::/96, shifted right by 32

    private static bool IsTeredo(UInt128 address) => (uint)(address >> 96) == 0x2001_0000;

    private static AddressClass ClassifyV4(uint a) => (a >> 24) switch
    {
        0 => AddressClass.Unspecified,
        10 => AddressClass.Private,
        127 => AddressClass.Loopback,
        100 when (a & 0xFFC0_0000) == 0x6440_0000 => AddressClass.Cgnat,
        169 when (a & 0xFFFF_0000) == 0xA9FE_0000 => AddressClass.LinkLocal,
        172 when (a & 0xFFF0_0000) == 0xAC10_0000 => AddressClass.Private,
        192 when (a & 0xFFFF_0000) == 0xC0A8_0000 => AddressClass.Private,
        192 when (a & 0xFFFF_FF00) == 0xC000_0000 => AddressClass.Reserved,
        198 when (a & 0xFFFE_0000) == 0xC612_0000 => AddressClass.Benchmarking,
        >= 224 and < 240 => AddressClass.Multicast,
        _ when a == 0xFFFF_FFFF => AddressClass.Broadcast,
        >= 240 => AddressClass.Reserved,
        _ => AddressClass.Public,
    };

    private static AddressClass ClassifyV6(UInt128 a)
    {
        if (a == 0)
        {
            return AddressClass.Unspecified;
        }

        if (a == 1)
        {
            return AddressClass.Loopback;
        }

        var top16 = (ushort)(a >> 112);
        if ((top16 & 0xFE00) == 0xFC00 || (top16 & 0xFFC0) == 0xFEC0)
        {
            return AddressClass.Private; // fc00::/7 unique local, fec0::/10 site-local (deprecated)
        }

        if ((top16 & 0xFFC0) == 0xFE80)
        {
            return AddressClass.LinkLocal;
        }

        if ((top16 & 0xFF00) == 0xFF00)
        {
            return AddressClass.Multicast;
        }

        if ((ulong)(a >> 80) == 0x2001_0002_0000)
        {
            return AddressClass.Benchmarking; // 2001:2::/48
        }

        if ((ulong)(a >> 80) == 0x0064_FF9B_0001)
        {
            return AddressClass.Private; // 64:ff9b:1::/48, NAT64 for local use (RFC 8215)
        }

        return (top16 & 0xE000) == 0x2000 ? AddressClass.Public : AddressClass.Reserved; // global unicast is 2000::/3
    }
}

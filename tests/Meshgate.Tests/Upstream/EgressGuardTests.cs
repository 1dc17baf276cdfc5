using System.Net;
using Meshgate.Core.ProxyConfiguration;
using Meshgate.Proxy.Capture;
using Meshgate.Proxy.Upstream;
using Xunit;

namespace Meshgate.Tests.Upstream;

/// <summary>
/// The egress guard's classification (docs/egress-safety.md), as Smokescreen's tests table it: public IPv4 and IPv6
/// allowed (documentation ranges too), every refused range at its edges, IPv6 forms that embed an IPv4 address
/// classified by it, and IP literals in the forms URL parsers accept normalised first.
/// </summary>
public sealed class EgressGuardTests
{
    public static TheoryData<string, AddressClass> Addresses => new()
    {
        // Public, allowed.
        { "8.8.8.8", AddressClass.Public },
        { "1.1.1.1", AddressClass.Public },
        { "151.101.3.5", AddressClass.Public },
        { "9.255.255.255", AddressClass.Public },
        { "11.0.0.0", AddressClass.Public },
        { "172.15.255.255", AddressClass.Public },
        { "172.32.0.0", AddressClass.Public },
        { "192.167.255.255", AddressClass.Public },
        { "192.169.0.0", AddressClass.Public },
        { "100.63.255.255", AddressClass.Public },
        { "100.128.0.0", AddressClass.Public },
        { "169.253.255.255", AddressClass.Public },
        { "198.17.255.255", AddressClass.Public },
        { "198.20.0.0", AddressClass.Public },
        { "223.255.255.255", AddressClass.Public },
        { "192.0.2.1", AddressClass.Public }, // TEST-NET-1: documentation space, allowed as Smokescreen allows it
        { "198.51.100.10", AddressClass.Public }, // TEST-NET-2: the local cluster's internet
        { "203.0.113.7", AddressClass.Public }, // TEST-NET-3
        { "2606:4700:4700::1111", AddressClass.Public },
        { "2001:4860:4860::8888", AddressClass.Public },
        { "2a00:1450:4001:82b::200e", AddressClass.Public },
        { "2001:db8::1", AddressClass.Public }, // documentation
        { "::ffff:8.8.8.8", AddressClass.Public },
        { "64:ff9b::808:808", AddressClass.Public }, // NAT64 of 8.8.8.8
        { "2002:808:808::1", AddressClass.Public }, // 6to4 of 8.8.8.8
        { "2001:0:4136:e378:8000:63bf:3fff:fdd2", AddressClass.Public }, // Teredo: server 65.54.227.120, client 192.0.2.45

        // Loopback.
        { "127.0.0.1", AddressClass.Loopback },
        { "127.0.0.77", AddressClass.Loopback },
        { "127.255.255.255", AddressClass.Loopback },
        { "::1", AddressClass.Loopback },

        // Private: RFC 1918 and IPv6 unique local (and deprecated site-local).
        { "10.0.0.0", AddressClass.Private },
        { "10.255.255.255", AddressClass.Private },
        { "10.244.1.5", AddressClass.Private },
        { "172.16.0.0", AddressClass.Private },
        { "172.31.255.255", AddressClass.Private },
        { "192.168.0.1", AddressClass.Private },
        { "192.168.255.255", AddressClass.Private },
        { "fc00::1", AddressClass.Private },
        { "fd12:3456:789a::1", AddressClass.Private },
        { "fec0::1", AddressClass.Private },

        // Link-local, the cloud metadata address among them.
        { "169.254.169.254", AddressClass.LinkLocal },
        { "169.254.0.0", AddressClass.LinkLocal },
        { "169.254.255.255", AddressClass.LinkLocal },
        { "fe80::1", AddressClass.LinkLocal },
        { "febf:ffff::1", AddressClass.LinkLocal },

        // Shared address space (carrier-grade NAT).
        { "100.64.0.0", AddressClass.Cgnat },
        { "100.127.255.255", AddressClass.Cgnat },

        // Unspecified and "this network".
        { "0.0.0.0", AddressClass.Unspecified },
        { "0.1.2.3", AddressClass.Unspecified },
        { "::", AddressClass.Unspecified },

        // Multicast, reserved, broadcast, benchmarking.
        { "224.0.0.1", AddressClass.Multicast },
        { "239.255.255.250", AddressClass.Multicast },
        { "ff02::1", AddressClass.Multicast },
        { "240.0.0.1", AddressClass.Reserved },
        { "255.255.255.254", AddressClass.Reserved },
        { "192.0.0.8", AddressClass.Reserved },
        { "100::1", AddressClass.Reserved }, // discard-only, outside 2000::/3
        { "4000::1", AddressClass.Reserved },
        { "255.255.255.255", AddressClass.Broadcast },
        { "198.18.0.0", AddressClass.Benchmarking },
        { "198.19.255.255", AddressClass.Benchmarking },
        { "2001:2::1", AddressClass.Benchmarking },

        // IPv6 forms that embed an IPv4 address: classified by it.
        { "::ffff:127.0.0.1", AddressClass.Loopback }, // v4-mapped
        { "::ffff:10.0.0.1", AddressClass.Private },
        { "::ffff:169.254.169.254", AddressClass.LinkLocal },
        { "::ffff:0:7f00:1", AddressClass.Loopback }, // SIIT v4-translated
        { "::127.0.0.1", AddressClass.Loopback }, // deprecated v4-compatible
        { "64:ff9b::7f00:1", AddressClass.Loopback }, // NAT64
        { "64:ff9b::a9fe:a9fe", AddressClass.LinkLocal },
        { "64:ff9b::c0a8:101", AddressClass.Private },
        { "64:ff9b:1::1", AddressClass.Private }, // local-use NAT64 (RFC 8215)
        { "2002:7f00:1::", AddressClass.Loopback }, // 6to4
        { "2002:a9fe:a9fe::1", AddressClass.LinkLocal },
        { "2002:c0a8:101::1", AddressClass.Private },
        { "2001:0:4136:e378::80ff:fffe", AddressClass.Loopback }, // Teredo, client ~0x80fffffe = 127.0.0.1
        { "2001:0:a00:1::f7f7:f7f7", AddressClass.Private }, // Teredo, server 10.0.0.1 (client 8.8.8.8)
    };

    [Theory]
    [MemberData(nameof(Addresses))]
    public void Classify_AsTheTableSays(string address, AddressClass expected)
    {
        Assert.Equal(expected, EgressGuard.Classify(IPAddress.Parse(address)));
        Assert.Equal(expected is AddressClass.Public, EgressPolicy.Strict.Allows(IPAddress.Parse(address)));
    }

    [Fact]
    public void Table_CoversEveryRefusedClassAndMoreThanFortyAddresses()
    {
        var classes = Addresses.Select(row => (AddressClass)row[1]).ToHashSet();
        Assert.True(Addresses.Count() >= 40);
        Assert.Equal(Enum.GetValues<AddressClass>().Where(c => c != AddressClass.Declared).ToHashSet(), classes);
    }

    [Theory]
    [InlineData("2130706433", "127.0.0.1")] // one decimal number
    [InlineData("0177.0.0.1", "127.0.0.1")] // octal part
    [InlineData("0x7f.1", "127.0.0.1")] // hexadecimal and short
    [InlineData("0x7F.0.0.1", "127.0.0.1")]
    [InlineData("127.1", "127.0.0.1")] // two parts
    [InlineData("127.0.1", "127.0.0.1")] // three parts
    [InlineData("0x7f000001", "127.0.0.1")]
    [InlineData("017700000001", "127.0.0.1")]
    [InlineData("127.000.000.001", "127.0.0.1")]
    [InlineData("127.0.0.1.", "127.0.0.1")] // trailing dot, as the WHATWG URL parser takes it
    [InlineData("0xa9fea9fe", "169.254.169.254")]
    [InlineData("2852039166", "169.254.169.254")]
    [InlineData("10.1", "10.0.0.1")]
    [InlineData("3232235777", "192.168.1.1")]
    [InlineData("0", "0.0.0.0")]
    public void Literal_NonCanonicalForms_NormalisedBeforeTheCheck(string literal, string canonical)
    {
        Assert.True(OriginalDestination.TryParse($"{literal}:80", 0, out var destination));
        Assert.Equal(IPAddress.Parse(canonical), destination.Address);
        Assert.NotEqual(AddressClass.Public, EgressGuard.Classify(destination.Address!));
    }

    [Theory]
    [InlineData("edition.cnn.com")]
    [InlineData("127.0.0.1.nip.io")] // a name: resolved, and its answer classified
    [InlineData("08.0.0.1")] // not a valid octal part: no literal, as for URL parsers
    public void Literal_Names_AreNotLiterals(string host)
    {
        Assert.True(OriginalDestination.TryParse($"{host}:80", 0, out var destination));
        Assert.Null(destination.Address);
    }

    [Fact]
    public void Policy_AllowedRanges_LetThroughOnlyWhatTheyCover()
    {
        var policy = new EgressPolicy(new EgressSettings { AllowedCidrs = ["127.0.0.77", "10.0.0.0/8", "fd00::/8"] });

        Assert.True(policy.Allows(IPAddress.Parse("127.0.0.77")));
        Assert.False(policy.Allows(IPAddress.Parse("127.0.0.78")));
        Assert.True(policy.Allows(IPAddress.Parse("10.244.0.2")));
        Assert.False(policy.Allows(IPAddress.Parse("172.16.0.1")));
        Assert.True(policy.Allows(IPAddress.Parse("fd12::1")));
        Assert.False(policy.Allows(IPAddress.Parse("fc00::1")));
        Assert.False(policy.Allows(IPAddress.Parse("169.254.169.254")));
        Assert.True(policy.Allows(IPAddress.Parse("8.8.8.8"))); // public needs no range

        // An IPv6 form of an allowed IPv4 address is allowed too, and of a refused one refused.
        Assert.True(policy.Allows(IPAddress.Parse("::ffff:127.0.0.77")));
        Assert.True(policy.Allows(IPAddress.Parse("64:ff9b::7f00:4d")));
        Assert.True(policy.Allows(IPAddress.Parse("2002:a00:1::")));
        Assert.False(policy.Allows(IPAddress.Parse("::ffff:127.0.0.1")));
    }

    [Fact]
    public void Policy_DeclaredTargets_NeverChecked()
    {
        var endpoint = new IPEndPoint(IPAddress.Loopback, 80);

        Assert.True(EgressPolicy.Strict.Allows(new UpstreamTarget(endpoint, declared: true)));
        Assert.False(EgressPolicy.Strict.Allows(new UpstreamTarget(endpoint)));
        Assert.Equal(AddressClass.Loopback, new UpstreamTarget(endpoint).Class);
    }

    [Theory]
    [InlineData("10.0.0.0/8", true, "")]
    [InlineData("127.0.0.77", true, "")]
    [InlineData("fd00::/8", true, "")]
    [InlineData("::1", true, "")]
    [InlineData("0.0.0.0/0", true, "")]
    [InlineData("10/8", false, "\"10/8\" is not an IP address or CIDR block (such as 10.0.0.0/8, fd00::/8 or 127.0.0.1)")]
    [InlineData("10.1.0.0/8", false, "\"10.1.0.0/8\" has address bits set beyond the /8 prefix; did you mean 10.0.0.0/8?")]
    [InlineData("10.0.0.0/33", false, "\"10.0.0.0/33\": the prefix length must be 0-32")]
    [InlineData("fd00::/129", false, "\"fd00::/129\": the prefix length must be 0-128")]
    [InlineData("example.com", false, "\"example.com\" is not an IP address or CIDR block (such as 10.0.0.0/8, fd00::/8 or 127.0.0.1)")]
    public void CidrBlock_ParsesOrSaysWhy(string text, bool ok, string error)
    {
        Assert.Equal(ok, CidrBlock.TryParse(text, out _, out var message));
        Assert.Equal(error, message);
    }

    [Theory]
    [InlineData("front.test", "front.test", true)]
    [InlineData("front.test", "FRONT.test:8443", true)]
    [InlineData("front.test.", "front.test", true)]
    [InlineData("front.test", "other.test", false)]
    [InlineData("front.test", "other.test:443", false)]
    [InlineData("front.test", "", false)]
    [InlineData("front.test", "[::1]:443", false)]
    [InlineData("cdn.example", "other.test", true)] // exempt: the server name
    [InlineData("front.test", "a.cdn2.example", true)] // exempt: a wildcard
    [InlineData("front.test", "cdn2.example", false)] // *.suffix needs a label before the suffix
    public void AllowsPair_SameHostOrExempt(string serverName, string host, bool allowed)
    {
        var policy = new EgressPolicy(new EgressSettings { DomainFrontingExceptions = ["cdn.example", "*.cdn2.example"] });

        Assert.Equal(allowed, policy.AllowsPair(serverName, host));
        Assert.True(new EgressPolicy(new EgressSettings { AllowDomainFronting = true }).AllowsPair(serverName, host));
    }
}

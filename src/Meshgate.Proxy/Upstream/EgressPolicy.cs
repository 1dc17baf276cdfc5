using System.Net;
using System.Net.Sockets;
using Meshgate.Core.ProxyConfiguration;

namespace Meshgate.Proxy.Upstream;

/// <summary>
/// A snapshot's egress settings compiled for the hot path (docs/egress-safety.md): the allowed ranges as 128-bit
/// network/mask pairs, and the domain fronting exceptions. Built once per snapshot, read without locks or allocation;
/// a public or operator-declared address is allowed without looking at the ranges at all.
/// </summary>
public sealed class EgressPolicy
{
    private readonly Range128[] _allowed;
    private readonly string[] _frontingExceptions;

    public EgressPolicy(EgressSettings? settings)
    {
        var allowed = new List<Range128>();
        foreach (var text in settings?.AllowedCidrs ?? default)
        {
            // The snapshot was validated: every entry parses.
            if (CidrBlock.TryParse(text, out var block, out _))
            {
                var v4 = block.Network.AddressFamily == AddressFamily.InterNetwork;
                var prefix = v4 ? block.PrefixLength + 96 : block.PrefixLength;
                var mask = prefix == 0 ? UInt128.Zero : UInt128.MaxValue << (128 - prefix);
                allowed.Add(new Range128(EgressGuard.ToUInt128(block.Network) & mask, mask));
            }
        }

        _allowed = [.. allowed];
        var exceptions = new List<string>();
        foreach (var host in settings?.DomainFrontingExceptions ?? default)
        {
            exceptions.Add(host.TrimEnd('.'));
        }

        _frontingExceptions = [.. exceptions];
        AllowDomainFronting = settings?.AllowDomainFronting ?? false;
        Settings = settings;
    }

    /// <summary>The defaults: no range allowed, domain fronting refused.</summary>
    public static EgressPolicy Strict { get; } = new(null);

    /// <summary>What this was compiled from (to tell whether a new snapshot changed it).</summary>
    public EgressSettings? Settings { get; }

    /// <summary>The domain fronting checks are off.</summary>
    public bool AllowDomainFronting { get; }

    /// <summary>True when <paramref name="target"/> may be dialled: a public or declared address, or one in an allowed range.</summary>
    public bool Allows(UpstreamTarget target) =>
        target.Class is AddressClass.Public or AddressClass.Declared || InAllowedRange(target.EndPoint.Address);

    /// <summary>As <see cref="Allows(UpstreamTarget)"/> for an address that is not operator-declared.</summary>
    public bool Allows(IPAddress address) => EgressGuard.Classify(address) == AddressClass.Public || InAllowedRange(address);

    /// <summary>True when <paramref name="address"/>, or the IPv4 address it embeds, is in an allowed range.</summary>
    public bool InAllowedRange(IPAddress address)
    {
        if (_allowed.Length == 0)
        {
            return false;
        }

        var value = EgressGuard.ToUInt128(address);
        var mapped = EgressGuard.EmbeddedIPv4(value) is { } v4 ? ((UInt128)0xFFFF << 32) | v4 : value;
        foreach (var range in _allowed)
        {
            if ((value & range.Mask) == range.Network || (mapped & range.Mask) == range.Network)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// True when a connection for <paramref name="serverName"/> (the SNI, or a CONNECT target) may carry
    /// <paramref name="host"/> (a request's Host, or the tunnelled ClientHello's SNI): the same name (case and a
    /// trailing dot aside; a port on <paramref name="host"/> ignored), fronting allowed, or either name exempt.
    /// </summary>
    public bool AllowsPair(ReadOnlySpan<char> serverName, ReadOnlySpan<char> host)
    {
        var name = HostOnly(host);
        if (AllowDomainFronting || SameName(serverName, name))
        {
            return true;
        }

        foreach (var exception in _frontingExceptions)
        {
            if (Matches(exception, serverName) || Matches(exception, name))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The host of <c>host[:port]</c> or <c>[v6][:port]</c>.</summary>
    internal static ReadOnlySpan<char> HostOnly(ReadOnlySpan<char> authority)
    {
        if (authority.StartsWith('['))
        {
            var close = authority.IndexOf(']');
            return close < 0 ? authority : authority[1..close];
        }

        var colon = authority.LastIndexOf(':');
        return colon >= 0 && authority.IndexOf(':') == colon ? authority[..colon] : authority;
    }

    internal static bool SameName(ReadOnlySpan<char> a, ReadOnlySpan<char> b) =>
        TrimDot(a).Equals(TrimDot(b), StringComparison.OrdinalIgnoreCase);

    private static bool Matches(string exception, ReadOnlySpan<char> name)
    {
        name = TrimDot(name);
        if (exception.StartsWith("*.", StringComparison.Ordinal))
        {
            var suffix = exception.AsSpan(1); // ".example.com"
            return name.Length > suffix.Length && name.EndsWith(suffix, StringComparison.OrdinalIgnoreCase);
        }

        return name.Equals(exception, StringComparison.OrdinalIgnoreCase);
    }

    private static ReadOnlySpan<char> TrimDot(ReadOnlySpan<char> name) => name.EndsWith('.') ? name[..^1] : name;

    private readonly record struct Range128(UInt128 Network, UInt128 Mask);
}

using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Meshgate.Core.ProxyConfiguration;

/// <summary>
/// A range of addresses as the egress settings write it: <c>10.0.0.0/8</c>, <c>fd00::/8</c>, or one address
/// (<c>127.0.0.77</c>, the same as <c>/32</c>; <c>::1</c>, <c>/128</c>). IPv4 is dotted-quad only (<c>10/8</c> is
/// refused rather than read as 0.0.0.10), and the address must be the first of its range (<c>10.1.0.0/8</c> is
/// refused, naming <c>10.0.0.0/8</c>), as Kubernetes checks a NetworkPolicy's <c>ipBlock.cidr</c>.
/// </summary>
public readonly record struct CidrBlock(IPAddress Network, int PrefixLength)
{
    public static bool TryParse(string text, out CidrBlock block, out string error)
    {
        block = default;
        error = "";
        var value = text.Trim();
        var slash = value.IndexOf('/', StringComparison.Ordinal);
        var addressText = slash < 0 ? value : value[..slash];
        if (!IPAddress.TryParse(addressText, out var address) || addressText.Contains('%', StringComparison.Ordinal)
            || (address.AddressFamily == AddressFamily.InterNetwork && address.ToString() != addressText))
        {
            error = $"\"{text}\" is not an IP address or CIDR block (such as 10.0.0.0/8, fd00::/8 or 127.0.0.1)";
            return false;
        }

        var bits = address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
        var prefix = bits;
        if (slash >= 0 && (!int.TryParse(value.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out prefix) || prefix > bits))
        {
            error = $"\"{text}\": the prefix length must be 0-{bits}";
            return false;
        }

        var bytes = address.GetAddressBytes();
        var first = (byte[])bytes.Clone();
        for (var i = 0; i < first.Length; i++)
        {
            var keep = Math.Clamp(prefix - (i * 8), 0, 8);
            first[i] &= (byte)(0xFF << (8 - keep));
        }

        if (!first.AsSpan().SequenceEqual(bytes))
        {
            error = $"\"{text}\" has address bits set beyond the /{prefix} prefix; did you mean {new IPAddress(first)}/{prefix}?";
            return false;
        }

        block = new CidrBlock(address, prefix);
        return true;
    }

    public override string ToString() => $"{Network}/{PrefixLength}";
}

using System.Net;

namespace Meshgate.Proxy.Capture;

/// <summary>
/// Where captured traffic was going: the CONNECT target or absolute-form authority (explicit mode; <see cref="Host"/>
/// may be a name, resolved only when PassthroughCluster dials it) or the <c>SO_ORIGINAL_DST</c> address (transparent).
/// </summary>
/// <param name="Host">A host name or IP literal (without brackets).</param>
/// <param name="Address">Set when <paramref name="Host"/> is an IP literal.</param>
public readonly record struct OriginalDestination(string Host, IPAddress? Address, int Port)
{
    /// <summary>
    /// For a destination given as a name: the address it was resolved to and the egress guard checked before the
    /// tunnel was answered (a CONNECT to PassthroughCluster). PassthroughCluster dials it rather than resolving again.
    /// </summary>
    public IPAddress? Vetted { get; init; }

    public static OriginalDestination From(IPEndPoint endpoint) => new(endpoint.Address.ToString(), endpoint.Address, endpoint.Port);

    /// <summary>
    /// Reads <c>host:port</c>, <c>[v6]:port</c> or, with <paramref name="defaultPort"/> above 0, a bare host (RFC 9112
    /// §3.2.3: a CONNECT target always has a port). False for anything else: empty or invalid host, bad port.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<char> authority, int defaultPort, out OriginalDestination destination)
    {
        destination = default;
        ReadOnlySpan<char> host;
        ReadOnlySpan<char> port;
        if (authority.StartsWith("["))
        {
            var close = authority.IndexOf(']');
            if (close < 0)
            {
                return false;
            }

            host = authority[1..close];
            var rest = authority[(close + 1)..];
            if (rest.IsEmpty)
            {
                port = default;
            }
            else if (rest[0] == ':')
            {
                port = rest[1..];
            }
            else
            {
                return false;
            }

            if (!IPAddress.TryParse(host, out var v6) || v6.AddressFamily != System.Net.Sockets.AddressFamily.InterNetworkV6)
            {
                return false;
            }
        }
        else
        {
            var colon = authority.LastIndexOf(':');
            host = colon < 0 ? authority : authority[..colon];
            port = colon < 0 ? default : authority[(colon + 1)..];
            if (host.IsEmpty || host.Length > 253 || host.Contains(':'))
            {
                return false;
            }

            foreach (var c in host)
            {
                if (!char.IsAsciiLetterOrDigit(c) && c is not '.' and not '-' and not '_')
                {
                    return false;
                }
            }
        }

        int number;
        if (port.IsEmpty)
        {
            if (defaultPort <= 0 || authority.EndsWith(":"))
            {
                return false;
            }

            number = defaultPort;
        }
        else if (port.Length > 5 || port.ContainsAnyExceptInRange('0', '9') || !int.TryParse(port, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out number) || number is < 1 or > 65535)
        {
            return false;
        }

        var text = host.ToString();
        destination = new OriginalDestination(text, ParseLiteral(text), number);
        return true;
    }

    /// <summary>
    /// The address an IP literal stands for, in every form a URL parser or <c>inet_aton</c> takes for IPv4 (WHATWG URL
    /// host parsing): dotted decimal, one to four parts (<c>127.1</c>), a single number (<c>2130706433</c>), octal
    /// (<c>0177.0.0.1</c>) and hexadecimal (<c>0x7f.1</c>) parts, and a trailing dot; null for a host name. The egress
    /// guard classifies this address, so <c>http://2130706433/</c> is loopback like <c>http://127.0.0.1/</c>.
    /// </summary>
    public static IPAddress? ParseLiteral(string host)
    {
        if (IPAddress.TryParse(host, out var ip))
        {
            return ip;
        }

        return host.Length > 1 && host.EndsWith('.') && IPAddress.TryParse(host.AsSpan(0, host.Length - 1), out var dotted)
            && dotted.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? dotted : null;
    }

    public override string ToString() => Address is { AddressFamily: System.Net.Sockets.AddressFamily.InterNetworkV6 } ? $"[{Host}]:{Port}" : $"{Host}:{Port}";
}

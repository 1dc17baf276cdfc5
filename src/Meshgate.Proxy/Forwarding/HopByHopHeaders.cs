using System.Text;

namespace Meshgate.Proxy.Forwarding;

/// <summary>
/// The headers a proxy does not pass on in either direction: YARP's <c>RequestUtilities</c> list of hop-by-hop and
/// proxy headers, which the direct HTTP/1.1 path drops exactly as YARP does (one list, read as strings for requests
/// and as bytes for responses, whose names are not made into strings when they are dropped).
/// </summary>
internal static class HopByHopHeaders
{
    private static readonly string[] Names =
    [
        "Connection", "Transfer-Encoding", "Keep-Alive", "Upgrade", "Proxy-Connection", "Proxy-Authenticate",
        "Proxy-Authentication-Info", "Proxy-Authorization", "Proxy-Features", "Proxy-Instruction", "Security-Scheme",
        "ALPN", "Close", "HTTP2-Settings", "Upgrade-Insecure-Requests", "TE", "Alt-Svc",
    ];

    public static bool Contains(string name)
    {
        foreach (var candidate in Names)
        {
            if (candidate.Length == name.Length && candidate.Equals(name, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    public static bool Contains(ReadOnlySpan<byte> name)
    {
        foreach (var candidate in Names)
        {
            if (candidate.Length == name.Length && Ascii.EqualsIgnoreCase(name, candidate))
            {
                return true;
            }
        }

        return false;
    }
}

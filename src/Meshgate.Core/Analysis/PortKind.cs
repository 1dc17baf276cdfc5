using Meshgate.Core.Resources.Istio;

namespace Meshgate.Core.Analysis;

/// <summary>How a proxy handles a port, which decides which VirtualService route list (http, tls, tcp) can apply to it.</summary>
internal enum PortKind
{
    /// <summary>Not declared (protocol sniffing) or not known: no conclusion is drawn.</summary>
    Unknown,

    /// <summary>HTTP, HTTP2, GRPC, or a TLS server the gateway terminates: <c>http</c> routes.</summary>
    Http,

    /// <summary>HTTPS or TLS passed through, routed by SNI: <c>tls</c> routes.</summary>
    Tls,

    /// <summary>Opaque TCP: <c>tcp</c> routes.</summary>
    Tcp,
}

internal static class PortKinds
{
    /// <summary>A ServiceEntry or Gateway port protocol (Istio's names, case-insensitive).</summary>
    public static PortKind FromProtocol(string? protocol) => protocol?.ToUpperInvariant() switch
    {
        "HTTP" or "HTTP2" or "GRPC" or "GRPC-WEB" => PortKind.Http,
        "HTTPS" or "TLS" => PortKind.Tls,
        "TCP" or "MONGO" or "MYSQL" or "REDIS" => PortKind.Tcp,
        _ => PortKind.Unknown,
    };

    /// <summary>A Service port by Istio's naming convention, <c>&lt;protocol&gt;[-&lt;suffix&gt;]</c>.</summary>
    public static PortKind FromServicePortName(string? name)
    {
        if (name is null)
        {
            return PortKind.Unknown;
        }

        var dash = name.IndexOf('-');
        return FromProtocol(dash < 0 ? name : name[..dash]);
    }

    /// <summary>A Gateway server: HTTPS and TLS are routed by SNI when passed through, and are HTTP once terminated.</summary>
    public static PortKind FromServer(Server server)
    {
        var kind = FromProtocol(server.Port?.Protocol);
        if (kind != PortKind.Tls)
        {
            return kind;
        }

        var passthrough = server.Tls?.Mode is ServerTlsMode.Passthrough or ServerTlsMode.AutoPassthrough;
        var https = string.Equals(server.Port?.Protocol, "HTTPS", StringComparison.OrdinalIgnoreCase);
        return passthrough ? PortKind.Tls : https ? PortKind.Http : PortKind.Tcp;
    }

    public static PortKind Of(RouteKind kind) => kind switch
    {
        RouteKind.Http => PortKind.Http,
        RouteKind.Tls => PortKind.Tls,
        _ => PortKind.Tcp,
    };
}

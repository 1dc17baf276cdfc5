namespace Meshgate.Core.Translation;

/// <summary>A service port's protocol as Istio reads it (<c>protocol</c>, else the port name's prefix).</summary>
internal enum PortProtocol
{
    Http,
    Http2,
    Grpc,
    Https,
    Tls,
    Tcp,
    Mongo,

    /// <summary>Neither field says: Istio sniffs; Meshgate treats it as opaque TCP.</summary>
    Unknown,
}

/// <summary>How a port's traffic is handled on a listener.</summary>
internal enum PortKind
{
    /// <summary>Routed per request by Host (HTTP, HTTP2, GRPC).</summary>
    Http,

    /// <summary>Routed per connection by SNI, not terminated (HTTPS, TLS).</summary>
    Tls,

    /// <summary>Relayed as bytes (TCP, MONGO, unknown).</summary>
    Tcp,
}

internal static class PortProtocols
{
    /// <summary>
    /// Istio's <c>protocol.Parse</c> for the field, then its port-name convention (<c>&lt;protocol&gt;[-&lt;suffix&gt;]</c>,
    /// istio/istio <c>pkg/config/kube/conversion.go</c>); case-insensitive.
    /// </summary>
    public static PortProtocol Parse(string? protocol, string? name)
    {
        var parsed = FromName(protocol);
        if (parsed != PortProtocol.Unknown || string.IsNullOrEmpty(name))
        {
            return parsed;
        }

        var dash = name.IndexOf('-');
        return FromName(dash < 0 ? name : name[..dash]);
    }

    public static PortKind Kind(PortProtocol protocol) => protocol switch
    {
        PortProtocol.Http or PortProtocol.Http2 or PortProtocol.Grpc => PortKind.Http,
        PortProtocol.Https or PortProtocol.Tls => PortKind.Tls,
        _ => PortKind.Tcp,
    };

    private static PortProtocol FromName(string? value) => value?.ToUpperInvariant() switch
    {
        "HTTP" => PortProtocol.Http,
        "HTTP2" => PortProtocol.Http2,
        "GRPC" or "GRPC-WEB" => PortProtocol.Grpc,
        "HTTPS" => PortProtocol.Https,
        "TLS" => PortProtocol.Tls,
        "TCP" => PortProtocol.Tcp,
        "MONGO" => PortProtocol.Mongo,
        _ => PortProtocol.Unknown,
    };
}

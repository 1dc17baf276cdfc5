namespace Meshgate.Proxy.Observability;

/// <summary>%PROTOCOL%: the downstream HTTP version; <see cref="None"/> for TCP and TLS connections, printed '-'.</summary>
public enum AccessLogProtocol : byte
{
    None = 0,
    Http10,
    Http11,
    Http2,
    Http3,
}

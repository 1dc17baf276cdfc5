namespace Meshgate.Proxy.Upstream;

/// <summary>How a cluster's HTTP requests go to its endpoints.</summary>
internal enum UpstreamHttpProtocol
{
    /// <summary>HTTP/1.1 (ALPN <c>http/1.1</c> with TLS).</summary>
    Http11,

    /// <summary>HTTP/2: h2c with prior knowledge in plaintext, ALPN <c>h2</c> with TLS (Envoy's <c>http2_protocol_options</c>).</summary>
    Http2,

    /// <summary>TLS offering <c>h2</c> and <c>http/1.1</c>; HTTP/2 when the server chooses it.</summary>
    Negotiated,
}

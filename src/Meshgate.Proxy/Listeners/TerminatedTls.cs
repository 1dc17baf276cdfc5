using System.IO.Pipelines;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;

namespace Meshgate.Proxy.Listeners;

/// <summary>
/// A connection feature set on a TLS connection the proxy terminated (<see cref="TlsPassthroughHandler"/>) before it is
/// handed to Kestrel's HTTP processing: the filter chain whose route table routes its requests, and the SNI and peer
/// identities for the access log and metrics. It is also the TLS features Kestrel reads: the negotiated ALPN protocol
/// picks HTTP/2 or HTTP/1.1, and the requests' scheme is https. Kestrel's request features fall back to the
/// connection's, so the request handler finds it there.
/// </summary>
/// <param name="peerUriSan">The client certificate's URI SANs, joined with ',' (computed once for the connection).</param>
/// <param name="localUriSan">The URI SANs of the certificate the proxy presented.</param>
internal sealed class TerminatedTls(Core.ProxyConfiguration.FilterChain chain, string? serverName, SslStream stream, string? peerUriSan = null, string? localUriSan = null)
    : ITlsConnectionFeature, ITlsApplicationProtocolFeature
{
    /// <summary>The chain the SNI selected; its <c>RouteTable</c> routes every request of the connection.</summary>
    public Core.ProxyConfiguration.FilterChain Chain { get; } = chain;

    /// <summary>The SNI of the ClientHello (%REQUESTED_SERVER_NAME%).</summary>
    public string? ServerName { get; } = serverName;

    /// <summary>
    /// %DOWNSTREAM_PEER_URI_SAN% and Istio's <c>source_principal</c>: the verified client certificate's URI SANs; null
    /// without a client certificate. Every request of the connection shares this one string.
    /// </summary>
    public string? PeerUriSan { get; } = peerUriSan;

    /// <summary>%DOWNSTREAM_LOCAL_URI_SAN%: the URI SANs of the certificate the proxy presented.</summary>
    public string? LocalUriSan { get; } = localUriSan;

    public SslStream SslStream { get; } = stream;

    public ReadOnlyMemory<byte> ApplicationProtocol => SslStream.NegotiatedApplicationProtocol.Protocol;

    public X509Certificate2? ClientCertificate
    {
        get => SslStream.RemoteCertificate as X509Certificate2;
        set { }
    }

    public Task<X509Certificate2?> GetClientCertificateAsync(CancellationToken cancellationToken) => Task.FromResult(ClientCertificate);

    /// <summary>Sets this as the connection's TLS features.</summary>
    public void Install(ConnectionContext connection)
    {
        connection.Features.Set(this);
        connection.Features.Set<ITlsConnectionFeature>(this);
        connection.Features.Set<ITlsApplicationProtocolFeature>(this);
    }
}

/// <summary>The decrypted side of a terminated connection, as the pipes Kestrel reads and writes.</summary>
internal sealed class StreamDuplexPipe(Stream stream) : IDuplexPipe
{
    public PipeReader Input { get; } = PipeReader.Create(stream, new StreamPipeReaderOptions(leaveOpen: true));

    public PipeWriter Output { get; } = PipeWriter.Create(stream, new StreamPipeWriterOptions(leaveOpen: true));
}

/// <summary>A connection's transport pipes as the stream an <see cref="SslStream"/> reads the ciphertext from and writes it to.</summary>
internal sealed class PipeStream(IDuplexPipe pipe) : Stream
{
    private readonly Stream _input = pipe.Input.AsStream(leaveOpen: true);
    private readonly Stream _output = pipe.Output.AsStream(leaveOpen: true);

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => _input.Read(buffer, offset, count);

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => _input.ReadAsync(buffer, cancellationToken);

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => _input.ReadAsync(buffer, offset, count, cancellationToken);

    public override void Write(byte[] buffer, int offset, int count) => _output.Write(buffer, offset, count);

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => _output.WriteAsync(buffer, cancellationToken);

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => _output.WriteAsync(buffer, offset, count, cancellationToken);

    public override void Flush() => _output.Flush();

    public override Task FlushAsync(CancellationToken cancellationToken) => _output.FlushAsync(cancellationToken);

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
}

using System.Buffers;
using System.IO.Pipelines;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;

namespace Meshgate.Proxy.Listeners;

/// <summary>
/// HTTP/2 with prior knowledge (h2c, RFC 9113 §3.3) beside HTTP/1.1 on one plaintext listener, as Envoy's HTTP
/// connection manager does (<c>codec_type: AUTO</c>). Kestrel picks HTTP/2 on an <c>Http1AndHttp2</c> endpoint only from
/// ALPN, so this connection middleware peeks the first bytes (without consuming them) and, when they are the HTTP/2
/// connection preface, tells Kestrel "h2" the way a TLS handshake would (the features Kestrel reads for that). Kestrel
/// then takes the transport for TLS; with <c>AllowAlternateSchemes</c> a request's scheme is still its <c>:scheme</c>.
/// </summary>
internal sealed class H2cPriorKnowledge : ITlsConnectionFeature, ITlsApplicationProtocolFeature
{
    private static readonly H2cPriorKnowledge Instance = new();

    // RFC 9113 §3.4: the client connection preface.
    private static ReadOnlySpan<byte> Preface => "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8;

    private H2cPriorKnowledge()
    {
    }

    public ReadOnlyMemory<byte> ApplicationProtocol => SslApplicationProtocol.Http2.Protocol;

    public X509Certificate2? ClientCertificate
    {
        get => null;
        set { }
    }

    public Task<X509Certificate2?> GetClientCertificateAsync(CancellationToken cancellationToken) => Task.FromResult<X509Certificate2?>(null);

    /// <summary>
    /// The middleware: peeks until the first bytes match the preface or differ from it, then hands the connection on;
    /// a connection that tells nothing within <paramref name="firstBytesTimeout"/> (the request head deadline) is closed.
    /// </summary>
    public static Func<ConnectionDelegate, ConnectionDelegate> Middleware(TimeSpan firstBytesTimeout) => next => async connection =>
    {
        var input = connection.Transport.Input;
        using var quiet = CancellationTokenSource.CreateLinkedTokenSource(connection.ConnectionClosed);
        quiet.CancelAfter(firstBytesTimeout); // Kestrel's own timeouts start only after this middleware
        while (true)
        {
            ReadResult read;
            try
            {
                read = await input.ReadAsync(quiet.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                connection.Abort();
                return;
            }

            var verdict = Check(read.Buffer);
            if (verdict is null && !read.IsCompleted && !read.IsCanceled)
            {
                input.AdvanceTo(read.Buffer.Start, read.Buffer.End); // need more bytes to tell
                continue;
            }

            input.AdvanceTo(read.Buffer.Start); // peeked, not consumed
            if (verdict == true)
            {
                connection.Features.Set<ITlsConnectionFeature>(Instance);
                connection.Features.Set<ITlsApplicationProtocolFeature>(Instance);
            }

            break;
        }

        await next(connection).ConfigureAwait(false);
    };

    /// <summary>True: the preface; false: something else; null: a prefix of the preface so far.</summary>
    private static bool? Check(ReadOnlySequence<byte> buffer)
    {
        var length = (int)Math.Min(buffer.Length, Preface.Length);
        Span<byte> start = stackalloc byte[Preface.Length];
        buffer.Slice(0, length).CopyTo(start);
        if (!start[..length].SequenceEqual(Preface[..length]))
        {
            return false;
        }

        return length == Preface.Length ? true : null;
    }
}

using System.Buffers;
using System.IO.Pipelines;
using System.Net.Security;
using System.Text;
using Meshgate.Proxy.Listeners;
using Xunit;

namespace Meshgate.Tests.Listeners;

public class ClientHelloReaderTests
{
    /// <summary>A real ClientHello, as .NET's TLS client (OpenSSL underneath) sends it.</summary>
    private static async Task<byte[]> CaptureClientHelloAsync(string targetHost)
    {
        var toServer = new Pipe();
        var toClient = new Pipe();
        await using var client = new SslStream(new DuplexStream(toClient.Reader.AsStream(), toServer.Writer.AsStream()));
        var handshake = client.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = targetHost,
            RemoteCertificateValidationCallback = (_, _, _, _) => true,
        });

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (true)
        {
            var result = await toServer.Reader.ReadAsync(timeout.Token);
            if (ClientHelloReader.TryRead(result.Buffer, out var hello) == ClientHelloStatus.Complete)
            {
                var bytes = result.Buffer.Slice(0, hello.Length).ToArray();
                toServer.Reader.AdvanceTo(result.Buffer.Start, result.Buffer.End);
                await toClient.Writer.CompleteAsync(); // the "server" hangs up; the client's handshake fails
                await Assert.ThrowsAnyAsync<Exception>(() => handshake);
                return bytes;
            }

            toServer.Reader.AdvanceTo(result.Buffer.Start, result.Buffer.End);
        }
    }

    [Fact]
    public async Task TryRead_RealClientHello_FindsServerName()
    {
        var bytes = await CaptureClientHelloAsync("Edition.CNN.com");

        Assert.Equal(ClientHelloStatus.Complete, ClientHelloReader.TryRead(new ReadOnlySequence<byte>(bytes), out var hello));

        Assert.Equal("edition.cnn.com", hello.ServerName);
        Assert.Equal(bytes.Length, hello.Length);
    }

    [Fact]
    public async Task TryRead_ClientHelloWithoutSni_CompleteWithNullServerName()
    {
        var bytes = await CaptureClientHelloAsync("127.0.0.1"); // clients send no SNI for an IP address (RFC 6066 §3)

        Assert.Equal(ClientHelloStatus.Complete, ClientHelloReader.TryRead(new ReadOnlySequence<byte>(bytes), out var hello));

        Assert.Null(hello.ServerName);
    }

    [Fact]
    public async Task TryRead_EveryPrefix_IncompleteUntilTheLastByte()
    {
        var bytes = await CaptureClientHelloAsync("edition.cnn.com");

        for (var length = 0; length < bytes.Length; length++)
        {
            Assert.Equal(ClientHelloStatus.Incomplete, ClientHelloReader.TryRead(new ReadOnlySequence<byte>(bytes, 0, length), out _));
        }

        Assert.Equal(ClientHelloStatus.Complete, ClientHelloReader.TryRead(new ReadOnlySequence<byte>(bytes), out _));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(100)]
    [InlineData(512)]
    public async Task TryRead_HelloSplitAcrossTlsRecords_FindsServerName(int recordSize)
    {
        var bytes = Refragment(await CaptureClientHelloAsync("edition.cnn.com"), recordSize);

        Assert.Equal(ClientHelloStatus.Complete, ClientHelloReader.TryRead(Segmented(bytes, 13), out var hello));

        Assert.Equal("edition.cnn.com", hello.ServerName);
        Assert.Equal(bytes.Length, hello.Length);
    }

    [Fact]
    public async Task TryRead_LargeHelloOverSeveralRecords_FindsServerName()
    {
        // A post-quantum hello is ~1.8 KB; pad ours to 9 KB in 2 KB records.
        var bytes = Refragment(Pad(await CaptureClientHelloAsync("edition.cnn.com"), 9000), 2048);

        Assert.Equal(ClientHelloStatus.Complete, ClientHelloReader.TryRead(new ReadOnlySequence<byte>(bytes), out var hello));

        Assert.Equal("edition.cnn.com", hello.ServerName);
    }

    public static TheoryData<string, byte[]> Garbage() => new()
    {
        { "plain HTTP", Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\nHost: x\r\n\r\n") },
        { "alert record", [21, 3, 3, 0, 2, 2, 40] },
        { "SSLv2-style", [0x80, 0x2e, 0x01, 0x03, 0x01] },
        { "zero-length record", [22, 3, 1, 0, 0] },
        { "server hello", [22, 3, 3, 0, 4, 2, 0, 0, 0] },
        { "hello larger than 64 KiB", [22, 3, 3, 0, 4, 1, 0xff, 0xff, 0xff] },
        { "hello without compression methods", [22, 3, 3, 0, 41, 1, 0, 0, 37, 3, 3, .. new byte[32], 0, 0, 0] },
    };

    [Theory]
    [MemberData(nameof(Garbage))]
    public void TryRead_NotAClientHello_Invalid(string what, byte[] bytes)
    {
        Assert.True(ClientHelloStatus.Invalid == ClientHelloReader.TryRead(new ReadOnlySequence<byte>(bytes), out _), what);
    }

    [Fact]
    public void TryRead_RandomBytes_NeverThrows()
    {
        var random = new Random(42);
        for (var i = 0; i < 5000; i++)
        {
            var bytes = new byte[random.Next(0, 600)];
            random.NextBytes(bytes);
            if (bytes.Length > 0 && random.Next(2) == 0)
            {
                bytes[0] = 22;
            }

            _ = ClientHelloReader.TryRead(new ReadOnlySequence<byte>(bytes), out _);
        }
    }

    /// <summary>Re-frames the handshake message of a one-record hello into records of <paramref name="size"/> bytes.</summary>
    private static byte[] Refragment(byte[] hello, int size)
    {
        var handshake = hello.AsSpan(5).ToArray();
        var output = new List<byte>();
        for (var offset = 0; offset < handshake.Length; offset += size)
        {
            var length = Math.Min(size, handshake.Length - offset);
            output.AddRange([22, 3, 1, (byte)(length >> 8), (byte)length]);
            output.AddRange(handshake.AsSpan(offset, length).ToArray());
        }

        return output.ToArray();
    }

    /// <summary>Adds a padding extension (RFC 7685) so the hello reaches <paramref name="total"/> bytes of handshake.</summary>
    private static byte[] Pad(byte[] hello, int total)
    {
        var body = hello.AsSpan(9).ToArray(); // after record header (5) and handshake header (4)
        var p = 2 + 32;
        p += 1 + body[p];
        p += 2 + (body[p] << 8 | body[p + 1]);
        p += 1 + body[p];
        var extensionsLength = body[p] << 8 | body[p + 1];
        var padding = total - body.Length - 4;
        var newExtensions = extensionsLength + 4 + padding;
        var result = new List<byte>();
        result.AddRange(body.AsSpan(0, p).ToArray());
        result.AddRange([(byte)(newExtensions >> 8), (byte)newExtensions]);
        result.AddRange(body.AsSpan(p + 2).ToArray());
        result.AddRange([0, 21, (byte)(padding >> 8), (byte)padding]);
        result.AddRange(new byte[padding]);
        var length = result.Count;
        var handshake = new List<byte> { 1, (byte)(length >> 16), (byte)(length >> 8), (byte)length };
        handshake.AddRange(result);
        return [22, 3, 1, 0, 0, .. handshake]; // record length is rewritten by Refragment
    }

    private static ReadOnlySequence<byte> Segmented(byte[] bytes, int size)
    {
        Segment? first = null;
        Segment? last = null;
        for (var offset = 0; offset < bytes.Length; offset += size)
        {
            var memory = bytes.AsMemory(offset, Math.Min(size, bytes.Length - offset));
            if (first is null)
            {
                first = last = new Segment(memory, 0);
            }
            else
            {
                last = last!.Append(memory);
            }
        }

        return first is null ? ReadOnlySequence<byte>.Empty : new ReadOnlySequence<byte>(first, 0, last!, last!.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }

    private sealed class DuplexStream(Stream read, Stream write) : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush() => write.Flush();

        public override Task FlushAsync(CancellationToken cancellationToken) => write.FlushAsync(cancellationToken);

        public override int Read(byte[] buffer, int offset, int count) => read.Read(buffer, offset, count);

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => read.ReadAsync(buffer, cancellationToken);

        public override void Write(byte[] buffer, int offset, int count) => write.Write(buffer, offset, count);

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => write.WriteAsync(buffer, cancellationToken);

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}

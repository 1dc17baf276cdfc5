using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using Meshgate.Proxy.Capture;
using Xunit;

namespace Meshgate.Tests.Capture;

public class ConnectRequestReaderTests
{
    [Fact]
    public async Task ReadAsync_ConnectInPieces_TargetAndTunnelBytesLeftUnread()
    {
        var pipe = new Pipe();
        var reading = ConnectRequestReader.ReadAsync(pipe.Reader, CancellationToken.None);
        foreach (var piece in new[] { "CONN", "ECT edition.cnn.com:443 HT", "TP/1.1\r\nHost: edition.cnn.com:443\r\n", "\r\n\x16\x03\x01" })
        {
            await pipe.Writer.WriteAsync(Encoding.Latin1.GetBytes(piece));
        }

        var (status, target, _) = await reading;

        Assert.Equal(ConnectStatus.Connect, status);
        Assert.Equal(new OriginalDestination("edition.cnn.com", null, 443), target);
        var rest = await pipe.Reader.ReadAsync();
        Assert.Equal([0x16, 0x03, 0x01], rest.Buffer.ToArray());
    }

    [Theory]
    [InlineData("GET http://edition.cnn.com/ HTTP/1.1\r\n\r\n")]
    [InlineData("CON")] // a prefix of CONNECT, then the client stops: not decided yet, so read on
    [InlineData("CONNECTX edition.cnn.com:443 HTTP/1.1\r\n\r\n")]
    public async Task ReadAsync_OtherRequest_NothingConsumed(string text)
    {
        var pipe = new Pipe();
        await pipe.Writer.WriteAsync(Encoding.ASCII.GetBytes(text));
        if (text.Length < 8)
        {
            await pipe.Writer.WriteAsync("GET / HTTP/1.1\r\n\r\n"u8.ToArray());
        }

        var (status, _, _) = await ConnectRequestReader.ReadAsync(pipe.Reader, CancellationToken.None);

        Assert.Equal(ConnectStatus.NotConnect, status);
        var read = await pipe.Reader.ReadAsync();
        Assert.StartsWith(text, Encoding.ASCII.GetString(read.Buffer.ToArray()), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadAsync_HeadTooLong_Malformed()
    {
        var pipe = new Pipe();
        var reading = ConnectRequestReader.ReadAsync(pipe.Reader, CancellationToken.None);
        await pipe.Writer.WriteAsync(Encoding.ASCII.GetBytes("CONNECT edition.cnn.com:443 HTTP/1.1\r\nX: " + new string('a', ConnectRequestReader.MaxHeadLength)));

        Assert.Equal(ConnectStatus.Malformed, (await reading).Status);
    }

    [Fact]
    public async Task ReadAsync_ClosedMidHead_Malformed()
    {
        var pipe = new Pipe();
        await pipe.Writer.WriteAsync("CONNECT edition.cnn.com:443 HTTP/1.1\r\n"u8.ToArray());
        await pipe.Writer.CompleteAsync();

        Assert.Equal(ConnectStatus.Malformed, (await ConnectRequestReader.ReadAsync(pipe.Reader, CancellationToken.None)).Status);
    }

    [Fact]
    public async Task ReadAsync_ClosedBeforeAnyByte_LeftToKestrel()
    {
        var pipe = new Pipe();
        await pipe.Writer.CompleteAsync();

        Assert.Equal(ConnectStatus.NotConnect, (await ConnectRequestReader.ReadAsync(pipe.Reader, CancellationToken.None)).Status);
    }
}

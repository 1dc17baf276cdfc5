using System.Buffers;

using Meshgate.Proxy.Observability;

using Xunit;

namespace Meshgate.Tests.Observability;

public sealed class AccessLogFormatterAllocationTests
{
    [Theory]
    [InlineData(AccessLogEncoding.Text)]
    [InlineData(AccessLogEncoding.Json)]
    public void Write_WarmFormatterAndBuffer_AllocatesNothing(AccessLogEncoding encoding)
    {
        var formatter = AccessLogFormatter.Create(encoding);
        var http = AccessLogSamples.Http;
        var tls = AccessLogSamples.Tls;
        var buffer = new ArrayBufferWriter<byte>(64 * 1024);
        for (var i = 0; i < 100; i++)
        {
            buffer.ResetWrittenCount();
            formatter.Write(http, buffer);
            formatter.Write(tls, buffer);
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 100; i++)
        {
            buffer.ResetWrittenCount();
            formatter.Write(http, buffer);
            formatter.Write(tls, buffer);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}

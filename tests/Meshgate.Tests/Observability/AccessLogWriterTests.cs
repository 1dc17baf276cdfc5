using System.Text.Json;

using Meshgate.Proxy.Observability;

using Xunit;

namespace Meshgate.Tests.Observability;

public sealed class AccessLogWriterTests : IDisposable
{
    private static readonly TimeSpan s_deadline = TimeSpan.FromSeconds(15);

    private readonly string _directory = Directory.CreateTempSubdirectory("meshgate-accesslog-").FullName;
    private readonly AccessLogFormatter _text = AccessLogFormatter.Create(AccessLogEncoding.Text);

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task DisposeAsync_ManyEntriesQueued_WritesEveryLineToFileInOrder()
    {
        const int count = 2_000;
        var path = Path.Combine(_directory, "access.log");
        var writer = AccessLogWriter.Open(path, AccessLogEncoding.Text);

        for (var i = 0; i < count; i++)
        {
            Assert.True(writer.TryEnqueue(AccessLogSamples.Numbered(i)));
        }

        await writer.DisposeAsync();

        var expected = string.Concat(Enumerable.Range(0, count).Select(i => _text.Format(AccessLogSamples.Numbered(i))));
        Assert.Equal(expected, await File.ReadAllTextAsync(path));
        Assert.Equal(count, writer.WrittenCount);
        Assert.Equal(0, writer.DroppedCount);
    }

    [Fact]
    public async Task Open_ExistingFile_AppendsLines()
    {
        var path = Path.Combine(_directory, "access.log");
        await File.WriteAllTextAsync(path, "earlier line\n");

        await using (var writer = AccessLogWriter.Open(path, AccessLogEncoding.Text))
        {
            writer.TryEnqueue(AccessLogSamples.Tls);
        }

        Assert.Equal("earlier line\n" + AccessLogSamples.TlsLine, await File.ReadAllTextAsync(path));
    }

    [Fact]
    public async Task Open_JsonEncoding_WritesOneObjectPerLine()
    {
        var path = Path.Combine(_directory, "access.json");

        await using (var writer = AccessLogWriter.Open(path, AccessLogEncoding.Json))
        {
            writer.TryEnqueue(AccessLogSamples.Http);
            writer.TryEnqueue(AccessLogSamples.Tls);
        }

        var lines = await File.ReadAllLinesAsync(path);
        Assert.Equal(2, lines.Length);
        using var tls = JsonDocument.Parse(lines[1]);
        Assert.Equal("edition.cnn.com", tls.RootElement.GetProperty("requested_server_name").GetString());
    }

    [Fact]
    public async Task TryEnqueue_WriterRunning_LineReachesFileWithoutDispose()
    {
        var path = Path.Combine(_directory, "access.log");
        await using var writer = AccessLogWriter.Open(
            path, AccessLogEncoding.Text, new AccessLogWriterOptions { FlushInterval = TimeSpan.FromMilliseconds(20) });

        writer.TryEnqueue(AccessLogSamples.Http);

        await WaitUntilAsync(() => ReadShared(path) == AccessLogSamples.HttpLine);
        Assert.Equal(1, writer.WrittenCount);
    }

    [Fact]
    public async Task TryEnqueue_QueueFullWhileOutputBlocked_DropsAndCountsWithoutBlocking()
    {
        var stream = new RecordingStream(blocked: true);
        var writer = new AccessLogWriter(stream, ownsOutput: true, _text, new AccessLogWriterOptions { Capacity = 4, FlushInterval = TimeSpan.Zero });
        try
        {
            Assert.True(writer.TryEnqueue(AccessLogSamples.Numbered(0)));
            await stream.FirstWriteStarted.WaitAsync(s_deadline);

            // The background task holds line 0 at the gate and the queue is empty: four more fit, the rest are dropped.
            for (var i = 1; i <= 4; i++)
            {
                Assert.True(writer.TryEnqueue(AccessLogSamples.Numbered(i)));
            }

            for (var i = 5; i <= 7; i++)
            {
                Assert.False(writer.TryEnqueue(AccessLogSamples.Numbered(i)));
            }

            Assert.Equal(3, writer.DroppedCount);
        }
        finally
        {
            stream.Release();
            await writer.DisposeAsync();
        }

        var expected = string.Concat(Enumerable.Range(0, 5).Select(i => _text.Format(AccessLogSamples.Numbered(i))));
        Assert.Equal(expected, stream.Text);
        Assert.Equal(5, writer.WrittenCount);
        Assert.Equal(3, writer.DroppedCount);
        Assert.True(stream.Disposed);
    }

    [Fact]
    public async Task RunAsync_EntriesQueuedDuringWrite_WrittenAsOneBatch()
    {
        var stream = new RecordingStream(blocked: true);
        var writer = new AccessLogWriter(stream, ownsOutput: false, _text, new AccessLogWriterOptions { FlushInterval = TimeSpan.Zero });
        try
        {
            writer.TryEnqueue(AccessLogSamples.Numbered(0));
            await stream.FirstWriteStarted.WaitAsync(s_deadline);
            for (var i = 1; i <= 10; i++)
            {
                writer.TryEnqueue(AccessLogSamples.Numbered(i));
            }
        }
        finally
        {
            stream.Release();
            await writer.DisposeAsync();
        }

        var lineLength = _text.Format(AccessLogSamples.Numbered(0)).Length;
        Assert.Equal([lineLength, (10 * lineLength) + 1], stream.Writes); // request-10 is one digit longer
        Assert.False(stream.Disposed);
    }

    [Fact]
    public async Task RunAsync_BatchPastMaxBytes_WrittenInSeveralWrites()
    {
        var stream = new RecordingStream(blocked: true);
        var writer = new AccessLogWriter(stream, ownsOutput: true, _text, new AccessLogWriterOptions { FlushInterval = TimeSpan.Zero, MaxBatchBytes = 1 });
        try
        {
            writer.TryEnqueue(AccessLogSamples.Numbered(0));
            await stream.FirstWriteStarted.WaitAsync(s_deadline);
            writer.TryEnqueue(AccessLogSamples.Numbered(1));
            writer.TryEnqueue(AccessLogSamples.Numbered(2));
        }
        finally
        {
            stream.Release();
            await writer.DisposeAsync();
        }

        Assert.Equal(3, stream.Writes.Count);
        Assert.Equal(3, writer.WrittenCount);
    }

    [Fact]
    public async Task RunAsync_OutputFails_CountsLinesDroppedAndKeepsWriting()
    {
        var stream = new RecordingStream(failures: 1);
        var writer = new AccessLogWriter(stream, ownsOutput: true, _text, new AccessLogWriterOptions { FlushInterval = TimeSpan.Zero });

        writer.TryEnqueue(AccessLogSamples.Http);
        await WaitUntilAsync(() => writer.DroppedCount == 1);
        writer.TryEnqueue(AccessLogSamples.Tls);
        await writer.DisposeAsync();

        Assert.Equal(AccessLogSamples.TlsLine, stream.Text);
        Assert.Equal(1, writer.WrittenCount);
        Assert.Equal(1, writer.DroppedCount);
    }

    [Fact]
    public async Task TryEnqueue_ManyConcurrentCallers_EveryLineWrittenWhole()
    {
        const int callers = 8;
        const int perCaller = 500;
        var stream = new RecordingStream();
        var writer = new AccessLogWriter(stream, ownsOutput: true, _text, new AccessLogWriterOptions { FlushInterval = TimeSpan.FromMilliseconds(1) });

        await Task.WhenAll(Enumerable.Range(0, callers).Select(caller => Task.Run(() =>
        {
            for (var i = 0; i < perCaller; i++)
            {
                Assert.True(writer.TryEnqueue(AccessLogSamples.Numbered((caller * perCaller) + i)));
            }
        })));
        await writer.DisposeAsync();

        var lines = stream.Text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(callers * perCaller, lines.Length);
        var expected = Enumerable.Range(0, callers * perCaller).Select(i => _text.Format(AccessLogSamples.Numbered(i)).TrimEnd('\n'));
        Assert.Equal(expected.Order(StringComparer.Ordinal), lines.Order(StringComparer.Ordinal));
        Assert.Equal(callers * perCaller, writer.WrittenCount);
    }

    [Fact]
    public async Task TryEnqueue_AfterDispose_ReturnsFalseAndCounts()
    {
        var stream = new RecordingStream();
        var writer = new AccessLogWriter(stream, ownsOutput: true, _text);
        await writer.DisposeAsync();

        Assert.False(writer.TryEnqueue(AccessLogSamples.Http));
        Assert.Equal(1, writer.DroppedCount);
        await writer.DisposeAsync(); // idempotent
    }

    [Theory]
    [InlineData("")]
    [InlineData(null)]
    public void Open_EmptyPath_Throws(string? path)
    {
        Assert.ThrowsAny<ArgumentException>(() => AccessLogWriter.Open(path!, AccessLogEncoding.Text));
    }

    private static string ReadShared(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + s_deadline;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not met before the deadline");
            await Task.Delay(10);
        }
    }
}

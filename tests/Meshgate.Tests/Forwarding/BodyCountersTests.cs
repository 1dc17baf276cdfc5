using System.Text;
using Meshgate.Proxy.Forwarding;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Xunit;

namespace Meshgate.Tests.Forwarding;

public sealed class BodyCountersTests
{
    [Fact]
    public async Task Attach_BodiesReadAndWrittenEveryWay_AllCounted()
    {
        var (context, _) = Request("x-request-body");
        var counters = new BodyCounters();

        counters.Attach(context);
        var buffer = new byte[4];
        var read = await context.Request.Body.ReadAsync(buffer);
        read += context.Request.Body.Read(buffer.AsSpan());
        read += await context.Request.Body.ReadAsync(buffer, 0, 4);
        var rest = await new StreamReader(context.Request.Body).ReadToEndAsync();
        await context.Response.Body.WriteAsync("chunk1"u8.ToArray());
        context.Response.Body.Write("chunk2"u8);
        await context.Response.WriteAsync("local body"); // through the PipeWriter
        await context.Response.BodyWriter.WriteAsync("writer"u8.ToArray());

        Assert.Equal("x-request-body".Length, read + rest.Length);
        Assert.Equal(14, counters.Received);
        Assert.Equal(6 + 6 + 10 + 6, counters.Sent);
    }

    [Fact]
    public async Task Attach_NextRequestOnTheSameConnection_CountsStartAgain()
    {
        var (context, features) = Request("first");
        var counters = new BodyCounters();
        counters.Attach(context);
        await context.Request.Body.CopyToAsync(Stream.Null);
        await context.Response.Body.WriteAsync("12345"u8.ToArray());

        // As Kestrel does between requests: its own features are back in place.
        Reset(features, "second!");
        counters.Attach(context);
        await context.Request.Body.CopyToAsync(Stream.Null);

        Assert.Equal(7, counters.Received);
        Assert.Equal(0, counters.Sent);
    }

    [Fact]
    public async Task Attach_TwiceWithoutTheServerResetting_NeverWrapsItself()
    {
        var (context, _) = Request("abc");
        var counters = new BodyCounters();
        counters.Attach(context);
        counters.Attach(context);

        await context.Request.Body.CopyToAsync(Stream.Null);
        await context.Response.Body.WriteAsync("xy"u8.ToArray());

        Assert.Equal(3, counters.Received);
        Assert.Equal(2, counters.Sent);
    }

    [Fact]
    public void Attach_WarmConnection_AllocatesNothing()
    {
        // A connection's features as the server keeps them: the same objects, put back before each request.
        var context = new DefaultHttpContext();
        var requestBody = new MemoryStream("body"u8.ToArray());
        var responseBody = new MemoryStream(capacity: 1024);
        var response = new StreamResponseBodyFeature(responseBody);
        var counters = new BodyCounters();
        var buffer = new byte[16];
        var payload = "payload"u8.ToArray();
        for (var i = 0; i < 10; i++)
        {
            Round();
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 100; i++)
        {
            Round();
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(4, counters.Received);
        Assert.Equal(7, counters.Sent);

        // Synchronously completing I/O, as the hot path mostly sees; an async test method would allocate itself.
        void Round()
        {
            requestBody.Position = 0;
            responseBody.Position = 0;
            context.Features.Get<IHttpRequestFeature>()!.Body = requestBody;
            context.Features.Set<IHttpResponseBodyFeature>(response);
            counters.Attach(context);
            Assert.True(context.Request.Body.ReadAsync(buffer.AsMemory()).IsCompletedSuccessfully);
            Assert.True(context.Response.Body.WriteAsync(payload.AsMemory()).IsCompletedSuccessfully);
        }
    }

    private static (DefaultHttpContext Context, IFeatureCollection Features) Request(string body)
    {
        var context = new DefaultHttpContext();
        Reset(context.Features, body);
        return (context, context.Features);
    }

    private static void Reset(IFeatureCollection features, string body)
    {
        features.Get<IHttpRequestFeature>()!.Body = new MemoryStream(Encoding.ASCII.GetBytes(body));
        var response = new StreamResponseBodyFeature(new MemoryStream());
        features.Set<IHttpResponseBodyFeature>(response);
    }
}

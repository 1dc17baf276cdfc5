using System.Net;
using System.Net.WebSockets;
using System.Text;
using Meshgate.Tests.EndToEnd;
using Meshgate.Tests.Proxy;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Xunit;

namespace Meshgate.Tests.Forwarding;

/// <summary>
/// HTTP/2 with prior knowledge (h2c) on an HTTP listener, with real curl, and WebSocket upgrades through the proxy to a
/// real WebSocket origin.
/// </summary>
public sealed class Http2AndWebSocketTests
{
    private static string Config(int originPort) => $$"""
        version: v1
        listeners:
        - {name: http, address: 127.0.0.1, port: {port}, protocol: HTTP, defaultFilterChain: {routeTable: http} }
        routeTables:
        - name: http
          virtualHosts:
          - {name: all, domains: ["*"], routes: [ {forward: {clusters: [ {name: "outbound|80||origin.test"} ]} } ]}
        clusters:
        - {name: "outbound|80||origin.test", discovery: STATIC, endpoints: [{address: 127.0.0.1, port: {{originPort}} }]}
        """;

    [Fact]
    public async Task H2c_CurlWithPriorKnowledge_ForwardedAndLoggedAsHttp2()
    {
        await using var origin = await HttpOrigin.StartAsync(context => context.Response.WriteAsync($"origin saw {context.Request.Protocol}"));
        await using var proxy = await ProxyHarness.StartAsync(Config(origin.Port));

        var (code, output) = await Curl.RunAsync("-sS", "--http2-prior-knowledge", "-D", "-", $"http://127.0.0.1:{proxy.Port}/h2");

        Assert.Equal(0, code);
        Assert.StartsWith("HTTP/2 200", output, StringComparison.Ordinal);
        Assert.EndsWith("origin saw HTTP/1.1", output, StringComparison.Ordinal); // plaintext upstreams get HTTP/1.1
        Assert.Contains("\"GET /h2 HTTP/2\" 200 - via_upstream ", Assert.Single(await proxy.LogLinesAsync(1)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task H2c_ManyStreamsOnOneConnection_AllAnswered()
    {
        await using var origin = await HttpOrigin.StartAsync(context => context.Response.WriteAsync(context.Request.Path.Value!));
        await using var proxy = await ProxyHarness.StartAsync(Config(origin.Port));
        using var client = new HttpClient { DefaultRequestVersion = HttpVersion.Version20, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact };

        var bodies = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => client.GetStringAsync($"http://127.0.0.1:{proxy.Port}/s{i}")));

        Assert.Equal(Enumerable.Range(0, 20).Select(i => $"/s{i}"), bodies);
    }

    [Fact]
    public async Task WebSocket_UpgradedThroughTheProxy_EchoesAndLogsAtClose()
    {
        await using var origin = await WebSocketEchoOrigin.StartAsync();
        await using var proxy = await ProxyHarness.StartAsync(Config(origin.Port));
        using var socket = new ClientWebSocket();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));

        await socket.ConnectAsync(new Uri($"ws://127.0.0.1:{proxy.Port}/echo"), timeout.Token);
        var buffer = new byte[1024];
        foreach (var message in new[] { "hello", "mesh" })
        {
            await socket.SendAsync(Encoding.UTF8.GetBytes(message), WebSocketMessageType.Text, endOfMessage: true, timeout.Token);
            var received = await socket.ReceiveAsync(buffer, timeout.Token);
            Assert.Equal("echo: " + message, Encoding.UTF8.GetString(buffer, 0, received.Count));
        }

        Assert.False(File.Exists(proxy.AccessLogPath) && File.ReadAllText(proxy.AccessLogPath).Length > 0, "logged before the WebSocket closed");
        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", timeout.Token);

        var line = Assert.Single(await proxy.LogLinesAsync(1));
        Assert.Contains("\"GET /echo HTTP/1.1\" 101 - via_upstream ", line, StringComparison.Ordinal);
    }

    /// <summary>A Kestrel origin whose WebSocket endpoint answers each text message with <c>echo: </c> and the message.</summary>
    private sealed class WebSocketEchoOrigin(WebApplication app, int port) : IAsyncDisposable
    {
        public int Port { get; } = port;

        public static async Task<WebSocketEchoOrigin> StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
            var app = builder.Build();
            app.UseWebSockets();
            app.Run(async context =>
            {
                if (!context.WebSockets.IsWebSocketRequest)
                {
                    context.Response.StatusCode = 400;
                    return;
                }

                using var socket = await context.WebSockets.AcceptWebSocketAsync();
                var buffer = new byte[1024];
                while (true)
                {
                    var received = await socket.ReceiveAsync(buffer, context.RequestAborted);
                    if (received.MessageType == WebSocketMessageType.Close)
                    {
                        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", context.RequestAborted);
                        return;
                    }

                    var reply = Encoding.UTF8.GetBytes("echo: " + Encoding.UTF8.GetString(buffer, 0, received.Count));
                    await socket.SendAsync(reply, WebSocketMessageType.Text, endOfMessage: true, context.RequestAborted);
                }
            });
            await app.StartAsync();
            var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
            return new WebSocketEchoOrigin(app, new Uri(address).Port);
        }

        public async ValueTask DisposeAsync()
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }
}

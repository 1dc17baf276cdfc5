using System.Net;
using Meshgate.Core.ProxyConfiguration;
using Meshgate.Proxy;
using Meshgate.Proxy.Admin;
using Meshgate.Tests.EndToEnd;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace Meshgate.Tests.Admin;

public sealed class AdminServerTests
{
    [Fact]
    public async Task HealthzReady_BeforeStartOnceListeningAndWhenStopped_503Then200Then503()
    {
        var port = MeshgateProcess.FreePort();
        var config = ProxyConfigLoader.Load($$"""
            version: v1
            listeners:
            - {name: http, address: 127.0.0.1, port: {{port}}, protocol: HTTP, defaultFilterChain: {routeTable: http} }
            routeTables:
            - {name: http, virtualHosts: []}
            """, "test").Config!;
        await using var proxy = ProxyServer.Create(config, NullLoggerFactory.Instance);
        await using var admin = AdminServer.Create(proxy, new IPEndPoint(IPAddress.Loopback, 0), new IPEndPoint(IPAddress.Loopback, 0));
        await admin.StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri($"http://{admin.StatusEndPoint}") };

        var before = await http.GetAsync("/healthz/ready");
        await proxy.StartAsync();
        var started = await http.GetAsync("/healthz/ready");
        await proxy.StopAsync();
        var stopped = await http.GetAsync("/healthz/ready");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, before.StatusCode);
        Assert.Equal(HttpStatusCode.OK, started.StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, stopped.StatusCode);
        Assert.NotEqual(((IPEndPoint)admin.AdminEndPoint!).Port, ((IPEndPoint)admin.StatusEndPoint!).Port);
    }

    [Theory]
    [InlineData("GET", "/nothing", HttpStatusCode.NotFound)]
    [InlineData("POST", "/config_dump", HttpStatusCode.MethodNotAllowed)]
    [InlineData("GET", "/", HttpStatusCode.OK)]
    [InlineData("GET", "/ready", HttpStatusCode.ServiceUnavailable)]
    [InlineData("HEAD", "/stats", HttpStatusCode.OK)]
    public async Task Admin_MethodAndPath_Status(string method, string path, HttpStatusCode status)
    {
        var config = new ProxyConfig { Version = "v1" };
        await using var proxy = ProxyServer.Create(config, NullLoggerFactory.Instance);
        await using var admin = AdminServer.Create(proxy, new IPEndPoint(IPAddress.Loopback, 0), new IPEndPoint(IPAddress.Loopback, 0));
        await admin.StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri($"http://{admin.AdminEndPoint}") };

        using var response = await http.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));

        Assert.Equal(status, response.StatusCode);
    }
}

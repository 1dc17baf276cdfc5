using Meshgate.Tests.Proxy;
using Microsoft.AspNetCore.Http;
using Xunit;

namespace Meshgate.Tests.Forwarding;

/// <summary>%UPSTREAM_LOCAL_ADDRESS%: the local end of the upstream connection each request actually went out on.</summary>
public sealed class UpstreamLocalAddressTests
{
    [Fact]
    public async Task LocalAddress_PooledConnectionReused_EachLineHasTheAddressTheOriginSaw()
    {
        await using var origin = await HttpOrigin.StartAsync(context =>
            context.Response.WriteAsync($"{context.Connection.RemoteIpAddress}:{context.Connection.RemotePort}"));
        await using var proxy = await ProxyHarness.StartAsync($$"""
            version: v1
            listeners:
            - {name: http, address: 127.0.0.1, port: {port}, protocol: HTTP, defaultFilterChain: {routeTable: http} }
            routeTables:
            - name: http
              virtualHosts:
              - {name: all, domains: ["*"], routes: [ {forward: {clusters: [ {name: "outbound|80||origin.test"} ]} } ]}
            clusters:
            - {name: "outbound|80||origin.test", discovery: STATIC, endpoints: [{address: 127.0.0.1, port: {{origin.Port}} }]}
            """);
        using var client = new HttpClient();

        var first = await client.GetStringAsync($"http://127.0.0.1:{proxy.Port}/one");
        var second = await client.GetStringAsync($"http://127.0.0.1:{proxy.Port}/two");

        Assert.Equal(first, second); // the proxy reused its upstream connection
        var lines = await proxy.LogLinesAsync(2);
        Assert.All(lines, line => Assert.Contains($" outbound|80||origin.test {first} ", line, StringComparison.Ordinal));
    }
}

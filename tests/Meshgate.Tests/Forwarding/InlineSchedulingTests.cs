using System.Net;
using System.Text;
using Meshgate.Tests.EndToEnd;
using Meshgate.Tests.Proxy;
using Microsoft.AspNetCore.Http;
using Xunit;

namespace Meshgate.Tests.Forwarding;

/// <summary>
/// Handlers running inline on the socket threads (Kestrel's <c>UnsafePreferInlineScheduling</c>) still serve
/// concurrent keep-alive clients, retries, streamed bodies and access-log lines: nothing on the path blocks a thread
/// the other connections need.
/// </summary>
public sealed class InlineSchedulingTests
{
    [Fact]
    public async Task Inline_ConcurrentClientsWithRetriesAndBodies_AllServedAndLogged()
    {
        await using var origin = await HttpOrigin.StartAsync(async context =>
        {
            var body = await new StreamReader(context.Request.Body).ReadToEndAsync();
            await context.Response.WriteAsync(context.Request.Path.Value + ":" + body.Length);
        });
        var refused = MeshgateProcess.FreePort();
        await using var proxy = await ProxyHarness.StartAsync($$"""
            version: v1
            listeners:
            - {name: http, address: 127.0.0.1, port: {port}, protocol: HTTP, defaultFilterChain: {routeTable: http} }
            routeTables:
            - name: http
              virtualHosts:
              - name: all
                domains: ["*"]
                routes:
                - forward: { clusters: [ {name: "outbound|80||origin.test"} ], retries: {attempts: 2, retryOn: [connect-failure], retriableStatusCodes: [503]} }
            clusters:
            - {name: "outbound|80||origin.test", discovery: STATIC, endpoints: [{address: 127.0.0.1, port: {{refused}} }, {address: 127.0.0.1, port: {{origin.Port}} }]}
            """, inlineScheduling: true);
        Assert.True(proxy.Proxy.Kestrel.InlineScheduling);
        var clients = Enumerable.Range(0, 8).Select(_ => new HttpClient()).ToArray();
        const int perClient = 25;

        var results = await Task.WhenAll(clients.Select((client, c) => Task.Run(async () =>
        {
            var answers = new List<string>();
            for (var i = 0; i < perClient; i++)
            {
                var content = new StringContent(new string('x', i * 100), Encoding.ASCII);
                var response = await client.PostAsync($"http://127.0.0.1:{proxy.Port}/c{c}r{i}", content);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                answers.Add(await response.Content.ReadAsStringAsync());
            }

            return answers;
        })));

        for (var c = 0; c < clients.Length; c++)
        {
            Assert.Equal(Enumerable.Range(0, perClient).Select(i => $"/c{c}r{i}:{i * 100}"), results[c]);
        }

        Assert.Equal(clients.Length * perClient, (await proxy.LogLinesAsync(clients.Length * perClient)).Length);
        foreach (var client in clients)
        {
            client.Dispose();
        }
    }
}

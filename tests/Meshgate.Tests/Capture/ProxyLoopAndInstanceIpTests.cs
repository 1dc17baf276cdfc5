using System.Net;
using System.Net.Sockets;
using Meshgate.Core.ProxyConfiguration;
using Meshgate.Proxy;
using Meshgate.Tests.EndToEnd;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace Meshgate.Tests.Capture;

/// <summary>
/// A gateway asked to forward to its own address answers with an error and a response flag instead of looping, and
/// <c>--ip</c> makes wildcard listeners bind the instance's address. Real sockets on loopback.
/// </summary>
public class ProxyLoopAndInstanceIpTests
{
    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("0.0.0.0")] // a wildcard listener is reached through any local address
    public async Task Http_ClusterEndpointIsOwnListener_508InsteadOfLoop(string bindAddress)
    {
        var port = MeshgateProcess.FreePort();
        var log = Path.GetTempFileName();
        try
        {
            await using var proxy = ProxyServer.Create(Gateway(bindAddress, port, ListenerProtocol.Http, log), NullLoggerFactory.Instance);
            await proxy.StartAsync();
            using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };

            using var response = await client.GetAsync($"http://127.0.0.1:{port}/again");

            Assert.Equal((HttpStatusCode)508, response.StatusCode);
            var line = await AccessLogLineAsync(log, "/again");
            Assert.Contains("\"GET /again HTTP/1.1\" 508 UH upstream_loop_detected", line, StringComparison.Ordinal);
            Assert.Contains($"\"127.0.0.1:{port}\" self ", line, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(log);
        }
    }

    [Fact]
    public async Task Tcp_ClusterEndpointIsOwnListener_ClosedAndLogged()
    {
        var port = MeshgateProcess.FreePort();
        var log = Path.GetTempFileName();
        try
        {
            await using var proxy = ProxyServer.Create(Gateway("127.0.0.1", port, ListenerProtocol.Tcp, log), NullLoggerFactory.Instance);
            await proxy.StartAsync();
            using var client = new TcpClient();
            int read;
            try
            {
                await client.ConnectAsync(IPAddress.Loopback, port);
                var stream = client.GetStream(); // taken before a reset: TcpClient refuses GetStream once a write has failed
                try
                {
                    await stream.WriteAsync("hello"u8.ToArray());
                }
                catch (IOException)
                {
                    // The proxy may have reset the connection already: that is the refusal this test expects.
                }

                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                read = await ReadOrResetAsync(stream, timeout.Token);
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
            {
                read = 0; // reset before the connect completed here (a busy machine): the same refusal
            }

            Assert.Equal(0, read);
            Assert.Contains("\"- - -\" 0 UH upstream_loop_detected", await AccessLogLineAsync(log, "upstream_loop_detected"), StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(log);
        }
    }

    [Fact]
    public async Task InstanceIp_WildcardListener_BindsTheInstanceAddressOnly()
    {
        var port = MeshgateProcess.FreePort();
        var instance = IPAddress.Parse("127.0.0.3");
        await using var proxy = ProxyServer.Create(Gateway("0.0.0.0", port, ListenerProtocol.Http, null), NullLoggerFactory.Instance, options: new ProxyOptions { InstanceIp = instance });
        await proxy.StartAsync();

        Assert.Equal(new IPEndPoint(instance, port), Assert.Single(proxy.Listening).Bound);
        using var refused = new TcpClient();
        await Assert.ThrowsAsync<SocketException>(() => refused.ConnectAsync(IPAddress.Loopback, port));
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        using var response = await client.GetAsync($"http://{instance}:{port}/");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode); // served (no route for this host), not looped: 127.0.0.1 is not bound
    }

    private static async Task<int> ReadOrResetAsync(NetworkStream stream, CancellationToken cancellationToken)
    {
        try
        {
            return await stream.ReadAsync(new byte[16], cancellationToken);
        }
        catch (IOException)
        {
            return 0;
        }
    }

    private static async Task<string> AccessLogLineAsync(string path, string contains)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite))
            using (var reader = new StreamReader(stream))
            {
                var text = await reader.ReadToEndAsync();
                if (text.Split('\n').FirstOrDefault(l => l.Contains(contains, StringComparison.Ordinal)) is { } line)
                {
                    return line;
                }
            }

            Assert.True(DateTime.UtcNow < deadline, $"no access-log line with {contains}");
            await Task.Delay(50);
        }
    }

    /// <summary>A gateway listener whose only cluster, "self", points back at the listener (127.0.0.1:port).</summary>
    private static ProxyConfig Gateway(string address, int port, ListenerProtocol protocol, string? log) => new()
    {
        Version = "1",
        AccessLog = log is null ? null : new AccessLogSettings { Path = log },
        Clusters = [new Cluster { Name = "self", Discovery = ClusterDiscovery.Static, Endpoints = [new Endpoint { Address = "127.0.0.1", Port = port }] }],
        RouteTables = protocol == ListenerProtocol.Http
            ? [new RouteTable { Name = "http", VirtualHosts = [new VirtualHost { Name = "self", Domains = [$"127.0.0.1:{port}", "127.0.0.1"], Routes = [new Route { Forward = new ForwardAction { Clusters = [new WeightedCluster { Name = "self" }] } }] }] }]
            : [],
        Listeners =
        [
            new Listener
            {
                Name = "gateway",
                Address = address,
                Port = port,
                Protocol = protocol,
                FilterChains = [protocol == ListenerProtocol.Http ? new FilterChain { RouteTable = "http" } : new FilterChain { Cluster = "self" }],
            },
        ],
    };
}

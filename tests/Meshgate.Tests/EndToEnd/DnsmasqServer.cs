using System.Net;
using System.Net.Sockets;
using DnsClient;
using Xunit;

namespace Meshgate.Tests.EndToEnd;

/// <summary>
/// A real DNS server on loopback: dnsmasq answering from a hosts file of its own (TTL 1 s, nothing forwarded),
/// so a test can change an answer (<see cref="SetAsync"/>: rewrite the file, SIGHUP), stop the server and
/// start it again on the same port.
/// </summary>
internal sealed class DnsmasqServer : IAsyncDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("meshgate-dnsmasq-").FullName;
    private readonly Dictionary<string, string> _hosts;
    private ChildProcess? _process;

    private DnsmasqServer(IReadOnlyDictionary<string, string> hosts)
    {
        _hosts = new Dictionary<string, string>(hosts, StringComparer.OrdinalIgnoreCase);
        Endpoint = new IPEndPoint(IPAddress.Loopback, FreeUdpAndTcpPort());
    }

    public IPEndPoint Endpoint { get; }

    private string HostsPath => Path.Combine(_dir, "hosts");

    /// <summary>Starts dnsmasq answering <paramref name="hosts"/> (name → addresses, the first IPv4) and waits until it does.</summary>
    public static async Task<DnsmasqServer> StartAsync(IReadOnlyDictionary<string, string> hosts)
    {
        var server = new DnsmasqServer(hosts);
        try
        {
            await server.StartAgainAsync();
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>Changes one answer and, when the server runs, waits until it gives it.</summary>
    public async Task SetAsync(string name, string address)
    {
        _hosts[name] = address;
        await WriteHostsAsync();
        if (_process is not null)
        {
            await _process.SignalAsync("HUP"); // dnsmasq re-reads --addn-hosts files on SIGHUP
            await WaitServingAsync(name, address);
        }
    }

    /// <summary>Stops the server: queries to its port are refused from now on.</summary>
    public async Task StopAsync()
    {
        if (_process is not null)
        {
            await _process.DisposeAsync();
            _process = null;
        }
    }

    /// <summary>Starts the server (again) on the same port with the current answers.</summary>
    public async Task StartAgainAsync()
    {
        var dnsmasq = ExternalTools.Require("dnsmasq");
        await WriteHostsAsync();
        List<string> args =
        [
            "--no-daemon", "--no-resolv", "--no-hosts",
            $"--port={Endpoint.Port}", "--listen-address=127.0.0.1", "--bind-interfaces",
            $"--addn-hosts={HostsPath}", "--local-ttl=1",
            $"--pid-file={Path.Combine(_dir, "dnsmasq.pid")}",
        ];
        if (Environment.IsPrivilegedProcess)
        {
            args.Add("--user=root"); // it would drop to "nobody", which cannot re-read the test's private files
        }

        _process = ChildProcess.Start(dnsmasq, [.. args]);
        var (name, addresses) = _hosts.First();
        await WaitServingAsync(name, addresses.Split(' ')[0]);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        Directory.Delete(_dir, recursive: true);
    }

    /// <summary>One hosts line per address; a value may hold several, separated by spaces.</summary>
    private Task WriteHostsAsync() =>
        File.WriteAllTextAsync(HostsPath, string.Concat(_hosts.SelectMany(h => h.Value.Split(' ').Select(a => $"{a} {h.Key}\n"))));

    /// <summary>Polls with queries of our own until <paramref name="name"/> resolves to <paramref name="address"/> (IPv4).</summary>
    private async Task WaitServingAsync(string name, string address)
    {
        var client = new LookupClient(new LookupClientOptions(Endpoint) { UseCache = false, Timeout = TimeSpan.FromMilliseconds(500), Retries = 0 });
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            Assert.False(_process!.HasExited, $"dnsmasq exited:\n{_process.Output}");
            try
            {
                var response = await client.QueryAsync(name, QueryType.A);
                if (response.Answers.ARecords().Any(r => r.Address.ToString() == address))
                {
                    return;
                }
            }
            catch (DnsResponseException)
            {
                // not listening yet
            }

            Assert.True(DateTime.UtcNow < deadline, $"dnsmasq on {Endpoint} did not answer {name} → {address} in time:\n{_process.Output}");
            await Task.Delay(50);
        }
    }

    /// <summary>A loopback port free for both UDP and TCP, as dnsmasq listens on both.</summary>
    private static int FreeUdpAndTcpPort()
    {
        for (var attempt = 0; ; attempt++)
        {
            using var udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            udp.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            var port = ((IPEndPoint)udp.LocalEndPoint!).Port;
            try
            {
                using var tcp = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                tcp.Bind(new IPEndPoint(IPAddress.Loopback, port));
                return port;
            }
            catch (SocketException) when (attempt < 20)
            {
            }
        }
    }
}

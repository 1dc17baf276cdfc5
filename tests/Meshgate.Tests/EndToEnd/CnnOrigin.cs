using System.Net;

namespace Meshgate.Tests.EndToEnd;

/// <summary>
/// <c>edition.cnn.com</c> as the seed shows it, on a loopback address: a real nginx answering HTTP with
/// <c>301</c> to <c>https://edition.cnn.com/politics</c> and HTTPS with <c>200</c> (certificate for the name from a
/// throwaway CA), and a real dnsmasq resolving the name (and any other hosts given, answered <c>200</c> on HTTP) there.
/// </summary>
internal sealed class CnnOrigin : IAsyncDisposable
{
    private readonly ThrowawayCa _ca;
    private DnsmasqServer? _dns;
    private NginxServer? _nginx;

    private CnnOrigin(ThrowawayCa ca) => _ca = ca;

    /// <summary>The CA that signed the origin's certificate (curl's <c>--cacert</c>).</summary>
    public string CaPath => _ca.CertificatePath;

    /// <summary>The resolver the proxies use (<c>--dns-server</c> its endpoint); tests may change its answers.</summary>
    public DnsmasqServer Dns => _dns!;

    /// <param name="directory">Where the certificate, key and nginx files go; the caller removes it.</param>
    /// <param name="address">The loopback address nginx listens on, ports 80 and 443.</param>
    /// <param name="httpsBody">The HTTPS answer's body (no single quotes: nginx.conf holds it).</param>
    /// <param name="http2">Whether HTTPS offers HTTP/2 by ALPN.</param>
    /// <param name="otherHosts">More names resolved to <paramref name="address"/>, each answering HTTP with <c>200</c> and its body.</param>
    public static async Task<CnnOrigin> StartAsync(
        string directory, string address, string httpsBody, bool http2 = false, IReadOnlyDictionary<string, string>? otherHosts = null)
    {
        var origin = new CnnOrigin(new ThrowawayCa(directory));
        try
        {
            var (certificate, key) = origin._ca.IssueServer("edition.cnn.com", directory);
            var names = new Dictionary<string, string> { ["edition.cnn.com"] = address };
            var others = "";
            foreach (var (host, body) in otherHosts ?? new Dictionary<string, string>())
            {
                names[host] = address;
                others += $$"""
                    server {
                        listen {{address}}:80;
                        server_name {{host}};
                        location / { return 200 '{{body}}'; }
                    }

                    """;
            }

            origin._dns = await DnsmasqServer.StartAsync(names);
            origin._nginx = await NginxServer.StartAsync(directory, $$"""
                    server {
                        listen {{address}}:80;
                        server_name edition.cnn.com;
                        location / { return 301 https://edition.cnn.com/politics; }
                    }
                    {{others}}
                    server {
                        listen {{address}}:443 ssl{{(http2 ? " http2" : "")}};
                        server_name edition.cnn.com;
                        ssl_certificate {{certificate}};
                        ssl_certificate_key {{key}};
                        location / { default_type text/html; return 200 '{{httpsBody}}'; }
                    }
                """, new IPEndPoint(IPAddress.Parse(address), 80), new IPEndPoint(IPAddress.Parse(address), 443));
            return origin;
        }
        catch
        {
            await origin.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_nginx is not null)
        {
            await _nginx.DisposeAsync();
            _nginx = null;
        }

        if (_dns is not null)
        {
            await _dns.DisposeAsync();
            _dns = null;
        }

        _ca.Dispose();
    }
}

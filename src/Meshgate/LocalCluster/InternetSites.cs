using System.Globalization;
using System.Net;
using System.Text;
using Meshgate.Supervision;

namespace Meshgate.LocalCluster;

/// <summary>
/// The outside world of the local cluster: nginx in the internet namespace serves each <c>--site</c> host on an address
/// of its own, as the real site answered when the seed document was written: HTTP redirects (<c>301</c>) to the same URL
/// over HTTPS, HTTPS (HTTP/2 or HTTP/1.1) answers <c>200</c> with a certificate from the cluster's throwaway CA.
/// </summary>
internal sealed class InternetSites : IAsyncDisposable
{
    private readonly SupervisedProcess _nginx;

    private InternetSites(SupervisedProcess nginx, IReadOnlyList<(string Host, IPAddress Address)> sites)
    {
        _nginx = nginx;
        Sites = sites;
    }

    /// <summary>Each host and the address it is served on (what kube-dns answers for it).</summary>
    public IReadOnlyList<(string Host, IPAddress Address)> Sites { get; }

    public static async Task<InternetSites> StartAsync(string dataDirectory, IReadOnlyList<string> hosts, (string Certificate, string Key) certificate, Action<string> report)
    {
        var dir = Path.GetFullPath(Path.Combine(dataDirectory, "cluster", "internet"));
        Directory.CreateDirectory(dir);
        var sites = hosts.Select((host, i) => (host, ClusterLayout.SiteAddress(i))).ToList();
        var servers = new StringBuilder();
        foreach (var (host, address) in sites)
        {
            servers.Append(CultureInfo.InvariantCulture, $$"""
                    server {
                        listen {{address}}:80;
                        server_name {{host}};
                        location / { add_header Cache-Control "public, max-age=600"; return 301 https://{{host}}$request_uri; }
                    }
                    server {
                        listen {{address}}:443 ssl http2;
                        server_name {{host}};
                        ssl_certificate {{certificate.Certificate}};
                        ssl_certificate_key {{certificate.Key}};
                        location / { default_type text/html; charset utf-8; return 200 "<!doctype html><title>{{host}}</title><p>Meshgate cluster stand-in for {{host}}$uri</p>\n"; }
                    }

                """);
        }

        var config = Path.Combine(dir, "nginx.conf");
        var errorLog = Path.Combine(dir, "error.log");
        await File.WriteAllTextAsync(config, $$"""
            user root;
            worker_processes 1;
            error_log {{errorLog}} notice;
            events { worker_connections 1024; }
            http {
                access_log {{dir}}/access.log;
                client_body_temp_path {{dir}}/client_body;
                proxy_temp_path {{dir}}/proxy;
                fastcgi_temp_path {{dir}}/fastcgi;
                uwsgi_temp_path {{dir}}/uwsgi;
                scgi_temp_path {{dir}}/scgi;
            {{servers}}
            }
            """).ConfigureAwait(false);
        var nginx = new SupervisedProcess(
            "internet nginx",
            "ip",
            ["netns", "exec", ClusterLayout.InternetNamespace, "nginx", "-p", dir + "/", "-c", config, "-e", errorLog, "-g", $"daemon off; pid {dir}/nginx.pid;"],
            Path.Combine(dir, "nginx.out"),
            report);
        nginx.Start();
        var result = new InternetSites(nginx, sites);
        try
        {
            foreach (var (host, address) in sites)
            {
                await WaitListeningAsync(address, 443).ConfigureAwait(false);
                report($"internet: {host} on {address} (HTTP 301 to HTTPS, HTTPS 200)");
            }
        }
        catch
        {
            await result.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return result;
    }

    private static async Task WaitListeningAsync(IPAddress address, int port)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            var (_, output, _) = await HostCommand.TryRunAsync("ip", ["netns", "exec", ClusterLayout.InternetNamespace, "ss", "-Hltn", $"src {address}:{port}"]).ConfigureAwait(false);
            if (output.Contains(address.ToString(), StringComparison.Ordinal))
            {
                return;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new ClusterException($"nginx in {ClusterLayout.InternetNamespace} does not listen on {address}:{port} after 10 s");
            }

            await Task.Delay(50).ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync() => await _nginx.DisposeAsync().ConfigureAwait(false);
}

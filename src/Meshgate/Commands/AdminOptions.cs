using System.CommandLine;
using System.Net;
using Meshgate.Proxy;
using Meshgate.Proxy.Admin;

namespace Meshgate.Commands;

/// <summary><c>--admin-port</c> and <c>--status-port</c> of <c>meshgate proxy</c>, and starting the admin server with them.</summary>
public static class AdminOptions
{
    public static (Option<int> Admin, Option<int> Status) Create()
    {
        var admin = new Option<int>("--admin-port")
        {
            Description = "Port of the admin pages on 127.0.0.1 (/config_dump, /clusters, /stats, /stats/prometheus, /server_info); 0 picks a free one",
            DefaultValueFactory = _ => AdminServer.DefaultAdminPort,
        };
        var status = new Option<int>("--status-port")
        {
            Description = "Port of /healthz/ready on 127.0.0.1; 0 picks a free one",
            DefaultValueFactory = _ => AdminServer.DefaultStatusPort,
        };
        foreach (var option in new[] { admin, status })
        {
            option.Validators.Add(result =>
            {
                var port = result.GetValueOrDefault<int>();
                if (port is < 0 or > 65535)
                {
                    result.AddError($"{option.Name} {port} is not a port: use 0 to 65535 (0 picks a free one)");
                }
            });
        }

        return (admin, status);
    }

    /// <summary>Opens the admin and readiness ports on loopback, or explains which one is taken.</summary>
    public static async Task<AdminServer> StartAsync(ProxyServer proxy, int adminPort, int statusPort, CancellationToken cancellationToken)
    {
        if (adminPort != 0 && adminPort == statusPort)
        {
            throw new CliException($"error: --admin-port and --status-port are both {adminPort}; they need two ports");
        }

        var admin = AdminServer.Create(proxy, new IPEndPoint(IPAddress.Loopback, adminPort), new IPEndPoint(IPAddress.Loopback, statusPort));
        try
        {
            await admin.StartAsync(cancellationToken);
            return admin;
        }
        catch (IOException e)
        {
            await admin.DisposeAsync();
            var why = e.InnerException is Microsoft.AspNetCore.Connections.AddressInUseException ? "address already in use" : e.Message;
            throw new CliException($"error: cannot open the admin port 127.0.0.1:{adminPort} or the readiness port 127.0.0.1:{statusPort}: {why}; "
                + "is another proxy running? (choose others with --admin-port and --status-port; 0 picks free ones)");
        }
    }
}

using System.Net;
using System.Net.Sockets;
using Xunit;

namespace Meshgate.Tests.EndToEnd;

/// <summary>
/// A real nginx as a child of the test: its own prefix folder, configuration, error log and pid file, in the
/// foreground (<c>daemon off</c>), stopped with the test. <see cref="StartAsync"/> returns once every
/// listen address accepts connections.
/// </summary>
internal sealed class NginxServer : IAsyncDisposable
{
    private readonly string _dir;
    private ChildProcess? _process;

    private NginxServer(string dir)
    {
        _dir = dir;
    }

    public string ErrorLog => Path.Combine(_dir, "error.log");

    /// <param name="dir">A folder of the test's; nginx writes its configuration, logs and temp files there.</param>
    /// <param name="servers">The <c>server { }</c> blocks of the <c>http { }</c> context.</param>
    /// <param name="listening">The addresses the servers listen on, to wait for.</param>
    public static async Task<NginxServer> StartAsync(string dir, string servers, params IPEndPoint[] listening)
    {
        var nginx = ExternalTools.Require("nginx");
        var server = new NginxServer(dir);
        // As root, nginx runs its workers as "nobody" unless told otherwise; everything here is in the test's private folder.
        var user = Environment.IsPrivilegedProcess ? "user root;\n" : "";
        await File.WriteAllTextAsync(Path.Combine(dir, "nginx.conf"), $$"""
            {{user}}worker_processes 1;
            error_log {{server.ErrorLog}} info;
            events { worker_connections 256; }
            http {
                access_log off;
                client_body_temp_path {{dir}}/client_body;
                proxy_temp_path {{dir}}/proxy;
                fastcgi_temp_path {{dir}}/fastcgi;
                uwsgi_temp_path {{dir}}/uwsgi;
                scgi_temp_path {{dir}}/scgi;
            {{servers}}
            }
            """);
        server._process = ChildProcess.Start(nginx, "-p", dir + "/", "-c", Path.Combine(dir, "nginx.conf"), "-e", server.ErrorLog, "-g", $"daemon off; pid {dir}/nginx.pid;");
        try
        {
            foreach (var endpoint in listening)
            {
                await server.WaitListeningAsync(endpoint);
            }

            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is not null)
        {
            await _process.DisposeAsync(); // the master's process tree: workers included
            _process = null;
        }
    }

    private async Task WaitListeningAsync(IPEndPoint endpoint)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            Assert.False(_process!.HasExited, $"nginx exited:\n{_process.Output}\n{ReadErrorLog()}");
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(endpoint);
                return;
            }
            catch (SocketException)
            {
            }

            Assert.True(DateTime.UtcNow < deadline, $"nginx did not listen on {endpoint} in time:\n{_process.Output}\n{ReadErrorLog()}");
            await Task.Delay(50);
        }
    }

    private string ReadErrorLog() => File.Exists(ErrorLog) ? File.ReadAllText(ErrorLog) : "(no error log)";
}

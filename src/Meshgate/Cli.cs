using System.CommandLine;
using Meshgate.Commands;

namespace Meshgate;

/// <summary>The command tree. Program.cs only runs it; tests run it in-process with their own streams.</summary>
public static class Cli
{
    public static RootCommand Build(CliContext cli, TimeProvider time)
    {
#if MESHGATE_PROXY_ONLY
        // The meshgate-proxy executable (src/Meshgate.ProxyExecutable): the same sources, only the proxy command, so
        // that the Native AOT compiler keeps the proxy and drops the control plane, the local cluster and the CLI.
        _ = time;
        return new RootCommand("Meshgate's proxy (sidecar or egress gateway), as a native executable: meshgate-proxy proxy --help")
        {
            CommonOptions.Server,
            CommonOptions.Token,
            CommonOptions.CertificateAuthority,
            CommonOptions.Kubeconfig,
            ProxyCommand.Create(cli),
        };
#else
        var root = new RootCommand("Meshgate: an egress gateway for service meshes, driven like kubectl and istioctl")
        {
            CommonOptions.Server,
            CommonOptions.Token,
            CommonOptions.CertificateAuthority,
            CommonOptions.Kubeconfig,
            ApplyCommand.Create(cli),
            AnalyzeCommand.Create(cli),
            GetCommand.Create(cli, time),
            DescribeCommand.Create(cli),
            DeleteCommand.Create(cli),
            CreateCommand.Create(cli),
            LabelCommand.Create(cli),
            LogsCommand.Create(cli),
            ExecCommand.Create(cli),
            UpCommand.Create(cli),
            DownCommand.Create(cli),
            InstallCommand.Create(cli),
            DemoCommand.Create(cli),
            ControlPlaneCommand.Create(cli),
            ProxyCommand.Create(cli),
            ProxyStatusCommand.Create(cli),
            ProxyConfigCommand.Create(cli),
        };
        return root;
#endif
    }

    public static async Task<int> RunAsync(string[] args, CliContext cli, TimeProvider? time = null, CancellationToken cancellationToken = default)
    {
        var root = Build(cli, time ?? TimeProvider.System);
        var parse = root.Parse(CommonOptions.Normalize(args));
        try
        {
            return await parse.InvokeAsync(new InvocationConfiguration { Output = cli.Out, Error = cli.Error, EnableDefaultExceptionHandler = false }, cancellationToken);
        }
        catch (CliException e)
        {
            await cli.Error.WriteLineAsync(e.Message);
            return e.ExitCode;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return 130;
        }
        catch (Exception e) when (Environment.GetEnvironmentVariable("MESHGATE_DEBUG") is null)
        {
            // Never a stack trace for users; MESHGATE_DEBUG=1 shows it.
            await cli.Error.WriteLineAsync($"error: {e.Message} ({e.GetType().Name}; set MESHGATE_DEBUG=1 for details)");
            return 1;
        }
    }
}

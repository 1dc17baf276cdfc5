using System.Diagnostics;

namespace Meshgate.LocalCluster;

/// <summary>A command the cluster runs on the machine (<c>ip</c>, <c>nft</c>, <c>sysctl</c>) failed; the message has its error output.</summary>
internal sealed class ClusterException(string message) : Exception(message);

/// <summary>
/// Runs the machine's network tools for the local cluster. iproute2 and nftables are the tools made for the job; their
/// netlink protocols have no maintained .NET client, so the cluster drives them as an administrator would.
/// </summary>
internal static class HostCommand
{
    /// <summary>Runs and waits; a non-zero exit is a <see cref="ClusterException"/> naming the command and its error output.</summary>
    public static async Task<string> RunAsync(string executable, IReadOnlyList<string> arguments, string? input = null, CancellationToken cancellationToken = default)
    {
        var (code, output, error) = await TryRunAsync(executable, arguments, input, cancellationToken).ConfigureAwait(false);
        return code == 0
            ? output
            : throw new ClusterException($"{executable} {string.Join(' ', arguments)} failed (exit {code}): {error.Trim()}");
    }

    /// <summary>Runs and waits; for clean-up and probes, whose failure is expected or harmless.</summary>
    public static async Task<(int Code, string Output, string Error)> TryRunAsync(string executable, IReadOnlyList<string> arguments, string? input = null, CancellationToken cancellationToken = default)
    {
        var info = new ProcessStartInfo(executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = input is not null,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info) ?? throw new ClusterException($"cannot start {executable}");
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var error = process.StandardError.ReadToEndAsync(cancellationToken);
        if (input is not null)
        {
            await process.StandardInput.WriteAsync(input.AsMemory(), cancellationToken).ConfigureAwait(false);
            process.StandardInput.Close();
        }

        await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        return (process.ExitCode, await output.ConfigureAwait(false), await error.ConfigureAwait(false));
    }

    /// <summary><c>ip ARGS</c> in the node's network namespace.</summary>
    public static Task<string> NodeAsync(params string[] arguments) => RunAsync("ip", ["-n", ClusterLayout.NodeNamespace, .. arguments]);

    /// <summary><c>ip netns exec NS COMMAND...</c>.</summary>
    public static Task<string> InNamespaceAsync(string networkNamespace, params string[] command) => RunAsync("ip", ["netns", "exec", networkNamespace, .. command]);

    /// <summary>Loads an nftables script in a network namespace, in one transaction.</summary>
    public static Task<string> NftAsync(string networkNamespace, string script) => RunAsync("ip", ["netns", "exec", networkNamespace, "nft", "-f", "-"], script);
}

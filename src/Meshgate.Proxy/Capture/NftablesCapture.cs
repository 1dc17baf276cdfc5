using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Meshgate.Proxy.Capture;

/// <summary>What transparent capture redirects, as istio-iptables' <c>-p 15001 -u 1337 -o PORTS</c> say it.</summary>
/// <param name="RedirectPort">The capture listener's port (15001).</param>
/// <param name="Mark">The socket mark of the proxy's own upstream connections, never redirected.</param>
/// <param name="ExcludePorts">Destination ports left alone (Istio's excludeOutboundPorts).</param>
/// <param name="IncludeIpv6">Redirect IPv6 too: only when the capture listener takes IPv6 (binds ::); otherwise IPv6
/// connections are left alone rather than redirected to a port nothing listens on.</param>
public sealed record CaptureRules(int RedirectPort, int Mark, IReadOnlyList<int> ExcludePorts, bool IncludeIpv6 = false);

/// <summary>
/// Transparent capture with nftables, in the network namespace the proxy runs in: outbound TCP is redirected to the
/// capture port (the nat OUTPUT hook, like Istio's <c>ISTIO_OUTPUT</c> → <c>ISTIO_REDIRECT</c>), except the proxy's own
/// connections (their socket mark), loopback destinations and excluded ports. The listener restores each connection's
/// destination with <c>SO_ORIGINAL_DST</c>. One table of our own, so installing and removing touch nothing else.
/// </summary>
public static class NftablesCapture
{
    /// <summary>The table holding the rules (family inet: IPv4 and IPv6).</summary>
    public const string Table = "meshgate_capture";

    /// <summary>Istio's proxy uid, reused as the socket mark of the proxy's upstream connections.</summary>
    public const int DefaultMark = 1337;

    /// <summary>The rule set for <c>nft -f</c>; replaces an older table of the same name in one transaction.</summary>
    public static string RuleSet(CaptureRules rules)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"table inet {Table}\n");
        text.Append(CultureInfo.InvariantCulture, $"delete table inet {Table}\n");
        text.Append(CultureInfo.InvariantCulture, $"table inet {Table} {{\n");
        text.Append("\tchain output {\n");
        text.Append("\t\ttype nat hook output priority -100; policy accept;\n");
        text.Append(CultureInfo.InvariantCulture, $"\t\tmeta mark {rules.Mark} return\n");
        text.Append("\t\tip daddr 127.0.0.0/8 return\n");
        text.Append("\t\tip6 daddr ::1 return\n");
        if (rules.ExcludePorts.Count > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $"\t\ttcp dport {{ {string.Join(", ", rules.ExcludePorts)} }} return\n");
        }

        text.Append(CultureInfo.InvariantCulture, $"\t\t{(rules.IncludeIpv6 ? "" : "meta nfproto ipv4 ")}meta l4proto tcp redirect to :{rules.RedirectPort}\n");
        text.Append("\t}\n}\n");
        return text.ToString();
    }

    /// <summary>Installs <paramref name="rules"/> in the current network namespace (needs CAP_NET_ADMIN).</summary>
    public static Task InstallAsync(CaptureRules rules, CancellationToken cancellationToken = default) =>
        RunAsync(RuleSet(rules), cancellationToken);

    /// <summary>Removes the table; nothing happens when it is not there.</summary>
    public static Task RemoveAsync(CancellationToken cancellationToken = default) =>
        RunAsync($"table inet {Table}\ndelete table inet {Table}\n", cancellationToken);

    private static async Task RunAsync(string input, CancellationToken cancellationToken)
    {
        var info = new ProcessStartInfo("nft")
        {
            RedirectStandardInput = true,
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add("-f");
        info.ArgumentList.Add("-");
        Process process;
        try
        {
            process = Process.Start(info) ?? throw new InvalidOperationException("nft did not start");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"transparent capture needs nftables: cannot run nft ({e.Message}); install it (apt-get install nftables)", e);
        }

        using (process)
        {
            await process.StandardInput.WriteAsync(input.AsMemory(), cancellationToken).ConfigureAwait(false);
            process.StandardInput.Close();
            var error = process.StandardError.ReadToEndAsync(cancellationToken);
            _ = await process.StandardOutput.ReadToEndAsync(cancellationToken).ConfigureAwait(false);
            await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
            if (process.ExitCode != 0)
            {
                throw new InvalidOperationException($"nft refused the capture rules (exit {process.ExitCode}): {(await error.ConfigureAwait(false)).Trim()}");
            }
        }
    }
}

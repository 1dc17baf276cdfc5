using System.Diagnostics;

namespace Meshgate.Tests.EndToEnd;

/// <summary>The real curl, bounded by --max-time 30; on failure its stderr follows stdout in the output.</summary>
internal static class Curl
{
    public static async Task<(int Code, string Output)> RunAsync(params string[] args)
    {
        var info = new ProcessStartInfo("curl") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args.Prepend("30").Prepend("--max-time"))
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, (await output).Replace("\r", "") + (process.ExitCode == 0 ? "" : await error));
    }
}

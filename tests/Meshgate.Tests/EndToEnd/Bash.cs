using System.Diagnostics;

namespace Meshgate.Tests.EndToEnd;

/// <summary>A pipeline as a user types it (the seed's <c>… | jq … | base64 -d | openssl …</c>), run by the real bash within 60 s.</summary>
internal static class Bash
{
    public static async Task<(int Code, string Output)> RunAsync(string script)
    {
        var info = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add(script);
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await output + await error);
    }
}

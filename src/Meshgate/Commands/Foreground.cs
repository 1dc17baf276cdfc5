namespace Meshgate.Commands;

/// <summary>How <c>up</c> runs in the foreground: waits for readiness and says so (or warns and keeps running), then until Ctrl-C or SIGTERM.</summary>
internal static class Foreground
{
    /// <param name="waitReady">Waits until what was started is ready; a <see cref="TimeoutException"/> is reported as a warning.</param>
    /// <param name="readyLine">What to say once ready.</param>
    /// <param name="stoppingLine">What to say on Ctrl-C or SIGTERM.</param>
    public static async Task RunUntilStoppedAsync(Func<CancellationToken, Task> waitReady, string readyLine, string stoppingLine, Action<string> report, CancellationToken cancellationToken)
    {
        try
        {
            await waitReady(cancellationToken);
            report(readyLine);
        }
        catch (TimeoutException e)
        {
            report("warning: " + e.Message + "; still running, Ctrl-C to stop");
        }
        catch (OperationCanceledException)
        {
        }

        try
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            report(stoppingLine);
        }
    }
}

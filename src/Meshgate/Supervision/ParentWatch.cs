namespace Meshgate.Supervision;

/// <summary>
/// A supervised process (a proxy started by <c>meshgate up</c>) stops when its supervisor is gone, even when the
/// supervisor was killed without a chance to stop it: the supervisor passes its process id in
/// <see cref="EnvironmentVariable"/>, and the child checks once a second that it is still its parent.
/// </summary>
public static class ParentWatch
{
    public const string EnvironmentVariable = "MESHGATE_PARENT_PID";

    /// <summary>A token cancelled when the parent named in the environment is gone; never cancelled without one.</summary>
    public static CancellationToken Start(CancellationToken stopping)
    {
        if (!int.TryParse(Environment.GetEnvironmentVariable(EnvironmentVariable), out var parent) || parent <= 1)
        {
            return stopping;
        }

        var source = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        _ = Task.Run(async () =>
        {
            using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
            while (await timer.WaitForNextTickAsync(source.Token).ConfigureAwait(false))
            {
                if (Signals.ParentProcessId() != parent)
                {
                    await Console.Error.WriteLineAsync($"meshgate: supervisor (pid {parent}) is gone; stopping").ConfigureAwait(false);
                    await source.CancelAsync().ConfigureAwait(false);
                    return;
                }
            }
        }, CancellationToken.None);
        return source.Token;
    }
}

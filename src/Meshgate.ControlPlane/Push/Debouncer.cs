using System.Threading.Channels;

namespace Meshgate.ControlPlane.Push;

/// <summary>
/// Turns a burst of change signals into one action: it fires once the signals have been quiet for
/// <see cref="Quiet"/>, or <see cref="MaxDelay"/> after the first signal of the burst if they never stop
/// (istiod's <c>PILOT_DEBOUNCE_AFTER</c> / <c>PILOT_DEBOUNCE_MAX</c>). Signals that arrive while the action
/// runs are folded into one more firing afterwards.
/// </summary>
public sealed class Debouncer
{
    public static readonly TimeSpan DefaultQuiet = TimeSpan.FromMilliseconds(100);
    public static readonly TimeSpan DefaultMaxDelay = TimeSpan.FromSeconds(1);

    private readonly TimeProvider _time;
    private readonly Channel<bool> _signals = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private long _lastSignal;

    public Debouncer(TimeProvider time, TimeSpan? quiet = null, TimeSpan? maxDelay = null)
    {
        _time = time;
        Quiet = quiet ?? DefaultQuiet;
        MaxDelay = maxDelay ?? DefaultMaxDelay;
    }

    public TimeSpan Quiet { get; }

    public TimeSpan MaxDelay { get; }

    /// <summary>Test seam: told each wait before it starts (null: waiting for a signal).</summary>
    internal Action<TimeSpan?>? Probe { get; set; }

    /// <summary>Something changed; cheap and safe from any thread.</summary>
    public void Signal()
    {
        Volatile.Write(ref _lastSignal, _time.GetTimestamp());
        _signals.Writer.TryWrite(true);
    }

    /// <summary>Calls <paramref name="fire"/> once per debounced burst until cancelled.</summary>
    public async Task RunAsync(Func<CancellationToken, Task> fire, CancellationToken cancellationToken)
    {
        var reader = _signals.Reader;
        while (true)
        {
            Probe?.Invoke(null);
            if (!await reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                return;
            }

            reader.TryRead(out _);
            var first = _time.GetTimestamp();
            while (true)
            {
                var now = _time.GetTimestamp();
                var sinceLast = _time.GetElapsedTime(Volatile.Read(ref _lastSignal), now);
                var sinceFirst = _time.GetElapsedTime(first, now);
                if (sinceLast >= Quiet || sinceFirst >= MaxDelay)
                {
                    break;
                }

                var wait = Quiet - sinceLast < MaxDelay - sinceFirst ? Quiet - sinceLast : MaxDelay - sinceFirst;
                var delay = Task.Delay(wait, _time, cancellationToken);
                Probe?.Invoke(wait); // after the timer exists, so a test clock that moves now reaches it
                await delay.ConfigureAwait(false);
            }

            // Signals during the wait are covered by this firing: it reads the newest state.
            reader.TryRead(out _);
            await fire(cancellationToken).ConfigureAwait(false);
        }
    }
}

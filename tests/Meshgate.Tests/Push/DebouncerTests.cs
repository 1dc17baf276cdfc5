using System.Threading.Channels;
using Meshgate.ControlPlane.Push;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Meshgate.Tests.Push;

/// <summary>
/// The debounce rule on a fake clock: 100 ms of quiet, at most 1 s after the first change. The loop reports each wait
/// before it starts, so the test advances the clock exactly to the loop's deadlines.
/// </summary>
public sealed class DebouncerTests : IAsyncDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly Debouncer _debouncer;
    private readonly Channel<TimeSpan?> _probes = Channel.CreateUnbounded<TimeSpan?>();
    private readonly List<TimeSpan> _fired = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly DateTimeOffset _start;
    private readonly Task _loop;

    public DebouncerTests()
    {
        _start = _time.GetUtcNow();
        _debouncer = new Debouncer(_time) { Probe = wait => _probes.Writer.TryWrite(wait) };
        _loop = Task.Run(() => _debouncer.RunAsync(_ =>
        {
            lock (_fired)
            {
                _fired.Add(Now);
            }

            return Task.CompletedTask;
        }, _stop.Token));
    }

    private TimeSpan Now => _time.GetUtcNow() - _start;

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stop.Dispose();
    }

    private async Task<TimeSpan?> NextProbeAsync()
    {
        using var timeout = new CancellationTokenSource(Deadline);
        return await _probes.Reader.ReadAsync(timeout.Token);
    }

    [Fact]
    public async Task RunAsync_OneSignal_FiresOnceAfterQuietPeriod()
    {
        Assert.Null(await NextProbeAsync()); // idle
        _debouncer.Signal();
        Assert.Equal(TimeSpan.FromMilliseconds(100), await NextProbeAsync());

        _time.Advance(TimeSpan.FromMilliseconds(99));
        Assert.Empty(_fired);
        _time.Advance(TimeSpan.FromMilliseconds(1));

        Assert.Null(await NextProbeAsync()); // fired, idle again
        Assert.Equal([TimeSpan.FromMilliseconds(100)], _fired);
    }

    [Fact]
    public async Task RunAsync_BurstWithinQuietPeriod_FiresOnceAfterLastSignal()
    {
        Assert.Null(await NextProbeAsync());
        _debouncer.Signal();
        Assert.Equal(TimeSpan.FromMilliseconds(100), await NextProbeAsync());
        _time.Advance(TimeSpan.FromMilliseconds(30));
        _debouncer.Signal();
        _time.Advance(TimeSpan.FromMilliseconds(30));
        _debouncer.Signal(); // last signal at 60 ms

        _time.Advance(TimeSpan.FromMilliseconds(40)); // the first timer ends at 100 ms: 40 ms since the last signal
        Assert.Equal(TimeSpan.FromMilliseconds(60), await NextProbeAsync());
        _time.Advance(TimeSpan.FromMilliseconds(60));

        Assert.Null(await NextProbeAsync());
        Assert.Equal([TimeSpan.FromMilliseconds(160)], _fired);
    }

    [Fact]
    public async Task RunAsync_SignalsEvery50msNeverStop_FiresAtMaxDelayOfEachBurst()
    {
        Assert.Null(await NextProbeAsync());
        _debouncer.Signal();
        var due = Now + (await NextProbeAsync())!.Value;
        var lastSignal = TimeSpan.Zero;
        while (_fired.Count < 2)
        {
            var nextSignal = lastSignal + TimeSpan.FromMilliseconds(50);
            if (nextSignal < due)
            {
                _time.Advance(nextSignal - Now);
                _debouncer.Signal();
                lastSignal = nextSignal;
                if (due == TimeSpan.MaxValue)
                {
                    due = Now + (await NextProbeAsync())!.Value; // a new burst starts
                }

                continue;
            }

            _time.Advance(due - Now);
            due = await NextProbeAsync() is { } wait ? Now + wait : TimeSpan.MaxValue;
        }

        // The first burst starts at 0 and is cut at 1 s; the signal of 1 s comes after that firing and starts the next.
        Assert.Equal([TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2)], _fired);
    }
}

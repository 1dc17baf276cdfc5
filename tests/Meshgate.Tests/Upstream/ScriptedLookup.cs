using System.Net;
using Meshgate.Proxy.Upstream;

namespace Meshgate.Tests.Upstream;

/// <summary>A resolver whose answers the test sets, counting the lookups; <see cref="Hold"/> makes lookups wait.</summary>
internal sealed class ScriptedLookup : INameLookup
{
    private int _calls;
    private TaskCompletionSource? _gate;

    public LookupResult Next { get; set; } = LookupResult.Failed("no answer scripted");

    public int Calls => Volatile.Read(ref _calls);

    public string Description => "scripted";

    public static LookupResult Answer(string address, int ttlSeconds) =>
        LookupResult.Answer([IPAddress.Parse(address)], TimeSpan.FromSeconds(ttlSeconds));

    /// <summary>Lookups from now on wait until <see cref="Release"/>.</summary>
    public void Hold() => _gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Release() => _gate?.TrySetResult();

    public async Task<LookupResult> LookupAsync(string name, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _calls);
        if (_gate is { } gate)
        {
            await gate.Task;
        }

        return Next;
    }
}

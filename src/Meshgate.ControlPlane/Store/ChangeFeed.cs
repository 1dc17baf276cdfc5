using System.Runtime.CompilerServices;

namespace Meshgate.ControlPlane.Store;

/// <summary>
/// The store's changes in commit order, for the control plane to react to. Keeps the most recent
/// changes in memory; a reader that falls further behind is told to re-list (like Kubernetes' 410 Gone).
/// </summary>
public sealed class ChangeFeed
{
    private readonly int _capacity;
    private readonly Lock _lock = new();
    private readonly LinkedList<Change> _changes = new();
    private TaskCompletionSource _signal = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _droppedThrough;

    public ChangeFeed(int capacity = 10_000)
    {
        _capacity = capacity;
    }

    /// <summary>Marks every revision up to <paramref name="revision"/> as not held (the store's revision when it opened).</summary>
    internal void StartAfter(long revision)
    {
        lock (_lock)
        {
            _droppedThrough = Math.Max(_droppedThrough, revision);
        }
    }

    internal void Publish(IReadOnlyList<Change> changes)
    {
        if (changes.Count == 0)
        {
            return;
        }

        TaskCompletionSource signal;
        lock (_lock)
        {
            foreach (var change in changes)
            {
                _changes.AddLast(change);
                if (_changes.Count > _capacity)
                {
                    _droppedThrough = _changes.First!.Value.Revision;
                    _changes.RemoveFirst();
                }
            }

            signal = _signal;
            _signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        signal.TrySetResult();
    }

    /// <summary>Whether the feed still holds every change after <paramref name="afterRevision"/> (else a watch from there gets "Expired").</summary>
    public bool CanWatchFrom(long afterRevision)
    {
        lock (_lock)
        {
            return afterRevision >= _droppedThrough;
        }
    }

    /// <summary>Changes after <paramref name="afterRevision"/> (one apply's changes share a revision), waiting for new ones until cancelled.</summary>
    /// <exception cref="StoreException">Reason "Expired": the feed no longer holds the changes after that revision.</exception>
    public async IAsyncEnumerable<Change> WatchAsync(long afterRevision, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var last = afterRevision;
        while (!cancellationToken.IsCancellationRequested)
        {
            List<Change> batch;
            Task wait;
            lock (_lock)
            {
                if (last < _droppedThrough)
                {
                    throw new StoreException("Expired", 410, $"revision {last} is too old; list again and watch from the list's revision");
                }

                batch = _changes.Where(c => c.Revision > last).ToList();
                wait = _signal.Task;
            }

            foreach (var change in batch)
            {
                last = change.Revision;
                yield return change;
            }

            if (batch.Count == 0)
            {
                await wait.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }
}

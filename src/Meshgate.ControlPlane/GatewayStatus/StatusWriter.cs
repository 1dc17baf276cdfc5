using System.Collections.Concurrent;
using Meshgate.ControlPlane.Store;
using Meshgate.Core.Resources;
using Microsoft.Extensions.Logging;

namespace Meshgate.ControlPlane.GatewayStatus;

/// <summary>
/// Writes computed statuses with <see cref="ResourceStore.ApplyWithStatus"/> (which keeps <c>generation</c>), and
/// remembers the revision of each write so that the controller can tell its own writes from everyone else's changes.
/// An object that changed after the status was computed from it is skipped, never overwritten with its old spec: the
/// caller computes again from the newer one.
/// </summary>
internal sealed partial class StatusWriter(ResourceStore store, ILogger logger)
{
    private readonly ConcurrentDictionary<ObjectKey, long> _written = new();

    /// <summary>True when <paramref name="change"/> is one of this writer's status writes.</summary>
    public bool IsOwnWrite(Change change) =>
        change.Type != ChangeType.Deleted && _written.TryGetValue(change.Object.Key, out var revision) && revision == change.Object.ResourceVersion;

    /// <returns>False when some object had changed since its status was computed (compute again).</returns>
    public bool Write(IReadOnlyList<Resource> updates)
    {
        var complete = true;
        foreach (var update in updates)
        {
            // The update carries the metadata it was computed from. Anything newer (a user's apply) wins; the store's
            // write lock makes the window between this check and the commit tiny, and the next pass corrects it.
            if (store.Current.Get(update.Key) is not { } stored || stored.ResourceVersion != update.ResourceVersion)
            {
                complete = false;
                continue;
            }

            try
            {
                var outcome = store.ApplyWithStatus(update);
                _written[update.Key] = outcome.Object.ResourceVersion;
                Log.Wrote(logger, update.Key.ToString(), outcome.Object.ResourceVersion);
            }
            catch (StoreException e)
            {
                // Its namespace is being deleted, or the store cannot write (a full or read-only disk): not a reason to
                // compute again at once, which would retry in a loop; the next change or sync-state change brings
                // another pass.
                Log.Failed(logger, update.Key.ToString(), e.Message);
            }
        }

        return complete;
    }

    /// <summary>Forgets writes to objects that are gone.</summary>
    public void Prune(ResourceSet current)
    {
        foreach (var key in _written.Keys)
        {
            if (current.Get(key) is null)
            {
                _written.TryRemove(key, out _);
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Debug, "status: {Key} written at revision {Revision}")]
        public static partial void Wrote(ILogger logger, string key, long revision);

        [LoggerMessage(2, LogLevel.Warning, "status: {Key} not written: {Reason}")]
        public static partial void Failed(ILogger logger, string key, string reason);
    }
}

namespace Meshgate.Proxy.Listeners;

/// <summary>
/// What a listener's connections read their configuration from: the proxy's current snapshot, until the listener is
/// removed or rebound; then the last snapshot that had it, so its draining connections finish on the configuration
/// they started with instead of finding their listener gone.
/// </summary>
internal sealed class ListenerContext(string name, SnapshotHolder snapshots)
{
    private ProxySnapshot? _pinned;

    public string Name { get; } = name;

    /// <summary>Read once per request or connection.</summary>
    public ProxySnapshot Snapshot => Volatile.Read(ref _pinned) ?? snapshots.Current;

    /// <summary>Freezes this listener on <paramref name="last"/>; called before the snapshot without it is swapped in.</summary>
    public void Retire(ProxySnapshot last) => Volatile.Write(ref _pinned, last);
}

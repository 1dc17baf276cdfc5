namespace Meshgate.Proxy;

/// <summary>Holds the current snapshot; readers take it once per request or connection, writers swap it whole.</summary>
public sealed class SnapshotHolder(ProxySnapshot initial)
{
    private ProxySnapshot _current = initial;

    public ProxySnapshot Current => Volatile.Read(ref _current);

    /// <summary>Installs <paramref name="next"/> and returns the one it replaced.</summary>
    public ProxySnapshot Swap(ProxySnapshot next) => Interlocked.Exchange(ref _current, next);
}

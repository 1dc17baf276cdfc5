namespace Meshgate.ControlPlane.Push;

/// <summary>
/// One snapshot on its way to one proxy: the version it carries, a nonce unique to this send, the JSON. The JSON is
/// the node key's shared bytes with the proxy's node id spliced in, made when it is written (<see cref="ToBytes"/>) and
/// not kept: twenty proxies waiting for a 5 MB snapshot hold one copy, not twenty.
/// </summary>
public sealed class PushedSnapshot
{
    private readonly ReadOnlyMemory<byte> _json;
    private readonly SnapshotJson? _shared;
    private readonly string? _nodeId;

    public PushedSnapshot(string version, string nonce, ReadOnlyMemory<byte> json)
    {
        Version = version;
        Nonce = nonce;
        _json = json;
    }

    internal PushedSnapshot(string key, string version, string nonce, SnapshotJson shared, string nodeId, SnapshotDelta? delta = null)
    {
        Key = key;
        Version = version;
        Nonce = nonce;
        _shared = shared;
        _nodeId = nodeId;
        Delta = delta;
    }

    /// <summary>The node key it was translated for (versions are counted per key: one says nothing about another key's).</summary>
    public string? Key { get; }

    public string Version { get; }

    public string Nonce { get; }

    /// <summary>
    /// The same snapshot as a delta from the version before it, when there is one: what a proxy that runs
    /// <see cref="SnapshotDelta.BaseVersion"/>, and has answered everything it was sent, gets instead.
    /// </summary>
    public SnapshotDelta? Delta { get; }

    /// <summary>The snapshot as this proxy gets it. A spliced snapshot's bytes are made afresh by each call (megabytes at scale).</summary>
    public ReadOnlyMemory<byte> ToBytes() => _shared is null ? _json : _shared.For(_nodeId!);
}

/// <summary>A snapshot as a delta (<c>ProxyConfigDelta</c>'s wire form) from <see cref="BaseVersion"/>.</summary>
public sealed record SnapshotDelta(string BaseVersion, byte[] Bytes);

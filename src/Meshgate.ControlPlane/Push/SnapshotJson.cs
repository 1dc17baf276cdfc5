using System.Text.Json;
using Meshgate.Core.ProxyConfiguration;

namespace Meshgate.ControlPlane.Push;

/// <summary>
/// One node key's snapshot serialized once: every proxy of the key gets the same bytes but for its own node id, which
/// is spliced into the <c>"node"</c> object instead of serializing the whole snapshot (megabytes at scale) per proxy.
/// The result is byte for byte what <see cref="ProxyConfigLoader.ToJson"/> writes for the proxy's own config.
/// </summary>
internal sealed class SnapshotJson
{
    private readonly Node? _node;
    private readonly ProxyConfig? _fallback; // kept only when the node cannot be spliced (never in practice)
    private readonly byte[] _json;
    private readonly int _nodeStart; // where the serialized node object starts in _json; -1 when it cannot be spliced
    private readonly int _nodeLength;

    private SnapshotJson(ProxyConfig config, byte[] json, int nodeStart, int nodeLength)
    {
        // Only the bytes and the node are kept, not the object graph (tens of megabytes at scale).
        _node = config.Node;
        _fallback = nodeStart < 0 && config.Node is not null ? config : null;
        _json = json;
        _nodeStart = nodeStart;
        _nodeLength = nodeLength;
    }

    /// <summary>The serialized size, in bytes.</summary>
    public int Length => _json.Length;

    /// <summary>The snapshot as serialized, with the node id of the node it was translated for; never changed.</summary>
    public byte[] Bytes => _json;

    public static SnapshotJson Create(ProxyConfig config) => FromBytes(config, ProxyConfigLoader.ToJsonUtf8(config));

    /// <summary>The snapshot of <paramref name="config"/> as already serialized (<see cref="SnapshotComposer"/>).</summary>
    public static SnapshotJson FromBytes(ProxyConfig config, byte[] json)
    {
        if (config.Node is not { } node)
        {
            return new SnapshotJson(config, json, -1, 0);
        }

        // The node object follows its property name; the version before it is a plain string, so the first match is it.
        byte[] marker = [.. "\"node\":"u8, .. NodeBytes(node)];
        var at = json.AsSpan().IndexOf(marker);
        return at < 0
            ? new SnapshotJson(config, json, -1, 0)
            : new SnapshotJson(config, json, at + "\"node\":"u8.Length, marker.Length - "\"node\":"u8.Length);
    }

    /// <summary>The snapshot as the proxy with <paramref name="nodeId"/> gets it.</summary>
    public ReadOnlyMemory<byte> For(string nodeId)
    {
        if (_node is not { } node || node.Id == nodeId)
        {
            return _json;
        }

        var own = node with { Id = nodeId };
        if (_fallback is not null)
        {
            return ProxyConfigLoader.ToJsonUtf8(_fallback with { Node = own });
        }

        var replacement = NodeBytes(own);
        var result = new byte[_json.Length - _nodeLength + replacement.Length];
        _json.AsSpan(0, _nodeStart).CopyTo(result);
        replacement.CopyTo(result.AsSpan(_nodeStart));
        _json.AsSpan(_nodeStart + _nodeLength).CopyTo(result.AsSpan(_nodeStart + replacement.Length));
        return result;
    }

    private static byte[] NodeBytes(Node node) => JsonSerializer.SerializeToUtf8Bytes(node, ProxyConfigJson.Options);
}

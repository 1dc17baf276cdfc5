using System.Threading.Channels;
using Meshgate.Core.Translation;

namespace Meshgate.ControlPlane.Push;

/// <summary>
/// One open discovery stream: the proxy's node, a one-slot outbox (latest wins: a slow proxy gets the newest snapshot,
/// never a backlog), and what it was sent and acknowledged. Written by the stream and the push loop, read by
/// <c>/debug/syncz</c>; the small lock guards only the bookkeeping.
/// </summary>
public sealed class ProxyConnection
{
    private readonly Channel<PushedSnapshot> _outbox = Channel.CreateBounded<PushedSnapshot>(
        new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });

    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private SyncStatus _status;
    private bool _awaiting; // a response was written and not answered yet
    private string? _sentKey; // the node key of the last response written
    private string? _ackedKey; // ... and of the last one acknowledged

    internal ProxyConnection(ProxyNode node, int adminPort, string? meshgateVersion, TimeProvider time, bool acceptsDelta = false)
    {
        Node = node;
        AcceptsDelta = acceptsDelta;
        _time = time;
        _status = new SyncStatus
        {
            Name = node.Name,
            Namespace = node.Namespace,
            Role = node.Role == Core.ProxyConfiguration.ProxyRole.Gateway ? "gateway" : "sidecar",
            ProxyId = node.Id,
            NodeKey = node.Key,
            Connected = true,
            AdminPort = adminPort,
            MeshgateVersion = meshgateVersion,
            ConnectedAt = time.GetUtcNow(),
        };
    }

    public ProxyNode Node { get; }

    /// <summary>The proxy said it applies deltas (<c>Node.accepts_delta</c>).</summary>
    public bool AcceptsDelta { get; }

    /// <summary>The snapshots to write to the stream; at most one waits, the newest.</summary>
    public ChannelReader<PushedSnapshot> Outbox => _outbox.Reader;

    /// <summary>The version last put in the outbox (the push loop's "does this proxy need the new one?").</summary>
    internal string? OfferedVersion { get; private set; }

    public SyncStatus Status
    {
        get
        {
            lock (_lock)
            {
                return _status;
            }
        }
    }

    /// <summary>
    /// The node key (<see cref="Translator.KeyFor"/>) whose snapshot was last put in the outbox: a proxy's key can
    /// change between revisions (a VirtualService with <c>sourceLabels</c> appears), its <see cref="Node"/> never does.
    /// </summary>
    internal string? OfferedKey { get; private set; }

    /// <summary>The node key of the snapshot the proxy last acknowledged: versions are counted per key.</summary>
    internal string? AckedKey
    {
        get
        {
            lock (_lock)
            {
                return _ackedKey;
            }
        }
    }

    /// <summary>Queues <paramref name="snapshot"/> of node key <paramref name="key"/>, replacing one not yet written.</summary>
    internal void Offer(string key, PushedSnapshot snapshot)
    {
        OfferedKey = key;
        OfferedVersion = snapshot.Version;
        _outbox.Writer.TryWrite(snapshot);
    }

    /// <summary>
    /// True when <paramref name="snapshot"/> can go as its delta: the proxy takes deltas, answered everything it was
    /// sent, and runs the delta's base version of the same node key. Anything else (a response in flight, a refusal, another version) gets
    /// the whole snapshot, which needs no agreement on what the proxy runs.
    /// </summary>
    public bool TakesDelta(PushedSnapshot snapshot)
    {
        lock (_lock)
        {
            return AcceptsDelta && snapshot.Delta is { } delta && !_awaiting && _ackedKey == snapshot.Key && _status.AckedVersion == delta.BaseVersion;
        }
    }

    /// <summary>The stream wrote <paramref name="snapshot"/>, as its delta when <paramref name="asDelta"/>.</summary>
    public void Sent(PushedSnapshot snapshot, bool asDelta = false)
    {
        lock (_lock)
        {
            _awaiting = true;
            _sentKey = snapshot.Key;
            _status = _status with { SentVersion = snapshot.Version, SentNonce = snapshot.Nonce, SentAt = _time.GetUtcNow(), SentDelta = asDelta };
        }
    }

    /// <summary>
    /// The proxy answered the response with <paramref name="nonce"/>: an ACK without <paramref name="error"/>, a NACK with.
    /// Answers to anything but the last response sent are stale and ignored, as in xDS.
    /// </summary>
    /// <returns>False when the answer was stale.</returns>
    public bool Answered(string version, string nonce, string? error) => Answered(version, nonce, error, out _);

    /// <summary>As <see cref="Answered(string, string, string?)"/>, with the status as this answer left it (what was sent, as a delta or not).</summary>
    internal bool Answered(string version, string nonce, string? error, out SyncStatus status)
    {
        lock (_lock)
        {
            status = _status;
            if (nonce.Length == 0 || nonce != _status.SentNonce)
            {
                return false;
            }

            _awaiting = false;
            if (string.IsNullOrEmpty(error))
            {
                _ackedKey = _sentKey;
            }

            _status = string.IsNullOrEmpty(error)
                ? _status with { AckedVersion = version, AckedAt = _time.GetUtcNow(), NackError = null, NackedVersion = null }
                : _status with { NackError = error, NackedVersion = _status.SentVersion, NackedAt = _time.GetUtcNow() };
            status = _status;
            return true;
        }
    }

    /// <summary>The stream closed.</summary>
    internal void Closed()
    {
        _outbox.Writer.TryComplete();
        lock (_lock)
        {
            _status = _status with { Connected = false, DisconnectedAt = _time.GetUtcNow() };
        }
    }
}

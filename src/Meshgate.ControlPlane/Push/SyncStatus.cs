namespace Meshgate.ControlPlane.Push;

/// <summary>
/// One proxy as <c>/debug/syncz</c> reports it (istiod's <c>SyncStatus</c>): who it is, whether its stream is open,
/// the version last sent and the one it last acknowledged, and its last refusal.
/// </summary>
public sealed record SyncStatus
{
    public required string Name { get; init; }

    public required string Namespace { get; init; }

    public required string Role { get; init; }

    public required string ProxyId { get; init; }

    public required string NodeKey { get; init; }

    public required bool Connected { get; init; }

    public int AdminPort { get; init; }

    public string? MeshgateVersion { get; init; }

    public string? SentVersion { get; init; }

    public string? SentNonce { get; init; }

    /// <summary>The last response carried a delta from the version the proxy ran, not the whole snapshot.</summary>
    public bool SentDelta { get; init; }

    public string? AckedVersion { get; init; }

    public string? NackedVersion { get; init; }

    public string? NackError { get; init; }

    /// <summary>
    /// The newest store revision whose configuration this proxy runs (it acknowledged what that revision translates to);
    /// null while it runs none. <c>meshgate apply</c> then waiting for every proxy to reach the apply's revision is how
    /// to know a change is live.
    /// </summary>
    public long? SyncedRevision { get; init; }

    public DateTimeOffset? ConnectedAt { get; init; }

    public DateTimeOffset? DisconnectedAt { get; init; }

    public DateTimeOffset? SentAt { get; init; }

    public DateTimeOffset? AckedAt { get; init; }

    public DateTimeOffset? NackedAt { get; init; }
}

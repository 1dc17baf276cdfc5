namespace Meshgate.Core.GatewayStatus;

/// <summary>
/// What the push side knows of one proxy (its Pod is <paramref name="Name"/> in <paramref name="Namespace"/>): whether
/// its stream is open, the newest store revision whose configuration it runs, and its last refusal, if it still stands.
/// </summary>
public sealed record ProxySyncState(string Name, string Namespace, bool Connected, long? SyncedRevision, string? NackError);

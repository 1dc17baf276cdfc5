namespace Meshgate.ControlPlane.Push;

/// <summary>One snapshot on its way to one proxy: the version it carries, a nonce unique to this send, the JSON.</summary>
public sealed record PushedSnapshot(string Version, string Nonce, ReadOnlyMemory<byte> Json);

namespace Meshgate.Core.GatewayStatus;

/// <summary>
/// Whether a route binds to one listener of a parent (or to a mesh parent): <see cref="Reason"/> null when it does,
/// else the Gateway API reason it is refused for and upstream's message.
/// </summary>
internal sealed record ParentVerdict(string? Reason, string Message)
{
    public static readonly ParentVerdict Bound = new(null, "");

    public bool IsBound => Reason is null;
}

namespace Meshgate.ControlPlane.Store;

/// <summary>Why the store refused a change, in Kubernetes' status vocabulary (NotFound, AlreadyExists, Forbidden, Conflict, Invalid).</summary>
public sealed class StoreException(string reason, int code, string message) : Exception(message)
{
    public string Reason { get; } = reason;

    public int Code { get; } = code;

    public static StoreException NotFound(string message) => new("NotFound", 404, message);

    public static StoreException Forbidden(string message) => new("Forbidden", 403, message);

    public static StoreException Conflict(string message) => new("Conflict", 409, message);

    public static StoreException Invalid(string message) => new("Invalid", 422, message);
}

using Meshgate.ControlPlane.Store;
using Meshgate.Core.Resources;

namespace Meshgate.ControlPlane.Api.Kubernetes;

/// <summary>A request the Kubernetes API refuses, with the <c>Status</c> it answers (reason and code as kube-apiserver's).</summary>
public sealed class ApiError(Status status) : Exception(status.Message)
{
    public Status Status { get; } = status;

    public static ApiError BadRequest(string message) => new(new Status(message, "BadRequest", 400));

    public static ApiError NotFound(ResourceType type, string name) =>
        new(new Status($"{type.Resource} \"{name}\" not found", "NotFound", 404, new StatusDetails(Name: name, Group: type.Group, Kind: type.Plural)));

    /// <summary>The path names nothing served (kube-apiserver's 404 for an unknown resource).</summary>
    public static ApiError NoResource(string what) => new(new Status($"the server could not find the requested resource ({what})", "NotFound", 404));

    public static ApiError AlreadyExists(ResourceType type, string name) =>
        new(new Status($"{type.Resource} \"{name}\" already exists", "AlreadyExists", 409, new StatusDetails(Name: name, Group: type.Group, Kind: type.Plural)));

    public static ApiError Conflict(ResourceType type, string name, string why) =>
        new(new Status($"Operation cannot be fulfilled on {type.Resource} \"{name}\": {why}", "Conflict", 409, new StatusDetails(Name: name, Group: type.Group, Kind: type.Plural)));

    public static ApiError MethodNotAllowed(string message) => new(new Status(message, "MethodNotAllowed", 405));

    public static ApiError UnsupportedMediaType(string message) => new(new Status(message, "UnsupportedMediaType", 415));

    public static ApiError NotAcceptable(string message) => new(new Status(message, "NotAcceptable", 406));

    public static ApiError Expired(string message) => new(new Status(message, "Expired", 410));

    public static ApiError Invalid(ResourceType type, string name, IReadOnlyList<StatusCause> causes)
    {
        var listed = causes.Count == 1
            ? $"{causes[0].Field}: {causes[0].Message}"
            : "[" + string.Join(", ", causes.Select(c => string.IsNullOrEmpty(c.Field) ? c.Message : $"{c.Field}: {c.Message}")) + "]";
        var kind = type.Group.Length == 0 ? type.Kind : $"{type.Kind}.{type.Group}";
        return new(new Status($"{kind} \"{name}\" is invalid: {listed}", "Invalid", 422, new StatusDetails(causes, name, type.Group, type.Kind)));
    }

    public static ApiError From(StoreException e) => new(new Status(e.Message, e.Reason, e.Code));
}

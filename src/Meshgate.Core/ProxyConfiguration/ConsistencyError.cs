namespace Meshgate.Core.ProxyConfiguration;

/// <summary>
/// One inconsistency in a snapshot: <c>listener "http": filterChains[0].routeTable: route table "x" is not defined</c>.
/// <paramref name="ObjectPath"/> locates the object in the snapshot (<c>listeners[0]</c>) so a loader can find its line.
/// </summary>
internal sealed record ConsistencyError(string Subject, string ObjectPath, string FieldPath, string Message)
{
    /// <summary>The path from the snapshot's root: <c>listeners[0].filterChains[0].routeTable</c>.</summary>
    public string RootPath => FieldPath.Length == 0 ? ObjectPath : ObjectPath.Length == 0 ? FieldPath : $"{ObjectPath}.{FieldPath}";

    public override string ToString() => FieldPath.Length == 0 ? $"{Subject}: {Message}" : $"{Subject}: {FieldPath}: {Message}";
}

/// <summary>Collects the errors about one object of a snapshot, naming it once for all of them.</summary>
internal sealed class ConsistencyScope(List<ConsistencyError> errors, string subject, string objectPath)
{
    /// <summary>Names an object by its kind and name, or by its place when the name is missing.</summary>
    public static ConsistencyScope For(List<ConsistencyError> errors, string kind, string? name, string objectPath) =>
        new(errors, string.IsNullOrEmpty(name) ? objectPath : $"{kind} \"{name}\"", objectPath);

    public void Error(string fieldPath, string message) => errors.Add(new ConsistencyError(subject, objectPath, fieldPath, message));

    public void Check(string fieldPath, string? message)
    {
        if (message is not null)
        {
            Error(fieldPath, message);
        }
    }
}

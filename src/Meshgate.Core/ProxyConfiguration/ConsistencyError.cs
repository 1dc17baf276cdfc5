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

/// <summary>
/// Collects the errors about one object of a snapshot, naming it once for all of them. The names are formatted only
/// when there is an error to report: a consistent 10,000-cluster snapshot is checked without building a string for
/// each object.
/// </summary>
internal sealed class ConsistencyScope
{
    private readonly List<ConsistencyError> _errors;
    private readonly string _kind;
    private readonly string? _name;
    private readonly string _field;
    private readonly int _index;

    public ConsistencyScope(List<ConsistencyError> errors, string subject, string objectPath)
        : this(errors, subject, null, objectPath, -1)
    {
    }

    private ConsistencyScope(List<ConsistencyError> errors, string kind, string? name, string field, int index)
    {
        _errors = errors;
        _kind = kind;
        _name = name;
        _field = field;
        _index = index;
    }

    /// <summary>Names the object at <paramref name="field"/>[<paramref name="index"/>] by its kind and name, or by its place when the name is missing.</summary>
    public static ConsistencyScope For(List<ConsistencyError> errors, string kind, string? name, string field, int index) =>
        new(errors, kind, name, field, index);

    /// <summary>How many errors the snapshot has so far (all objects'), to see whether a check found any.</summary>
    public int Count => _errors.Count;

    /// <summary>Drops the errors after the first <paramref name="count"/>, to check again another way.</summary>
    public void Truncate(int count) => _errors.RemoveRange(count, _errors.Count - count);

    public void Error(string fieldPath, string message)
    {
        var objectPath = _index < 0 ? _field : $"{_field}[{_index}]";
        var subject = _index < 0 ? _kind : string.IsNullOrEmpty(_name) ? objectPath : $"{_kind} \"{_name}\"";
        _errors.Add(new ConsistencyError(subject, objectPath, fieldPath, message));
    }

    public void Check(string fieldPath, string? message)
    {
        if (message is not null)
        {
            Error(fieldPath, message);
        }
    }
}

using System.Globalization;
using System.Text.Json.Nodes;
using Meshgate.Core.Resources;

namespace Meshgate.Core.Printing;

/// <summary>
/// The table of one kind as kubectl prints it: NAME, the kind's columns, AGE, then the wide ones. <c>meshgate get</c>
/// prints it, and the API serves it as a <c>meta.k8s.io/v1 Table</c> (the server-side printing <c>kubectl get</c> asks
/// for), so both show the same cells.
/// </summary>
public static class ResourceTable
{
    /// <summary>One column: <paramref name="Header"/> as printed (kubectl upper-cases the served name), priority 1 for wide-only.</summary>
    public sealed record Column(string Header, string Name, string Type, string Format, string Description, int Priority, Func<JsonObject, string> Value);

    private const string NameDescription = "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names";

    private const string AgeDescription = "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.";

    /// <summary>Every column of <paramref name="type"/> in print order; <paramref name="now"/> is when ages are measured.</summary>
    public static IReadOnlyList<Column> Columns(ResourceType type, DateTimeOffset now)
    {
        var kindColumns = PrinterColumns.For(type, now);
        var custom = !type.IsKubernetesModel;
        var columns = new List<Column>
        {
            new("NAME", "Name", "string", "name", NameDescription, 0, o => o["metadata"]?["name"]?.ToString() ?? ""),
        };
        columns.AddRange(kindColumns.Where(c => !c.WideOnly).Select(c => Convert(c, 0)));
        columns.Add(new Column("AGE", "Age", custom ? "date" : "string", "", AgeDescription, 0, o => Age(o["metadata"] as JsonObject, now)));
        columns.AddRange(kindColumns.Where(c => c.WideOnly).Select(c => Convert(c, 1)));
        return columns;
    }

    /// <summary>kubectl's AGE cell: how long ago the object was created, or <c>&lt;unknown&gt;</c>.</summary>
    public static string Age(JsonObject? metadata, DateTimeOffset now) =>
        metadata?["creationTimestamp"]?.ToString() is { } created && DateTimeOffset.TryParse(created, CultureInfo.InvariantCulture, out var t)
            ? HumanDuration.Format(now - t)
            : "<unknown>";

    private static Column Convert(PrinterColumns.Column column, int priority) =>
        new(column.Header, ServedName(column.Header), "string", "", "", priority, column.Value);

    /// <summary>The served column name, as the API server spells it (<c>Cluster-IP</c>, <c>Port(s)</c>, <c>Nominated Node</c>).</summary>
    private static string ServedName(string header)
    {
        var words = header.Split(' ').Select(word => string.Join('-', word.Split('-').Select(part =>
            part is "IP" ? part : part.Length == 0 ? part : part[0] + part[1..].ToLowerInvariant())));
        return string.Join(' ', words);
    }
}

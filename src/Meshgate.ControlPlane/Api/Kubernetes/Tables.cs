using System.Globalization;
using System.Text.Json.Nodes;
using Meshgate.Core.Printing;
using Meshgate.Core.Resources;

namespace Meshgate.ControlPlane.Api.Kubernetes;

/// <summary>
/// The <c>meta.k8s.io Table</c> and <c>PartialObjectMetadata</c> forms of objects: server-side printing, with the
/// columns <c>meshgate get</c> prints (<see cref="ResourceTable"/>).
/// </summary>
internal static class Tables
{
    public static JsonArray ColumnDefinitions(ResourceType type, DateTimeOffset now) =>
        new(ResourceTable.Columns(type, now).Select(c => (JsonNode)new JsonObject
        {
            ["name"] = c.Name,
            ["type"] = c.Type,
            ["format"] = c.Format,
            ["description"] = c.Description,
            ["priority"] = c.Priority,
        }).ToArray());

    /// <param name="includeObject">kube's <c>includeObject</c>: None, Metadata (the default) or Object.</param>
    public static JsonObject Table(ResourceType type, string version, IEnumerable<Resource> items, string metaVersion, string? includeObject, long revision, string? continueToken, DateTimeOffset now, bool withColumns = true)
    {
        var columns = ResourceTable.Columns(type, now);
        var rows = new JsonArray();
        foreach (var item in items)
        {
            rows.Add(Row(type, version, item, columns, metaVersion, includeObject));
        }

        var metadata = new JsonObject { ["resourceVersion"] = revision.ToString(CultureInfo.InvariantCulture) };
        if (continueToken is not null)
        {
            metadata["continue"] = continueToken;
        }

        return new JsonObject
        {
            ["kind"] = "Table",
            ["apiVersion"] = "meta.k8s.io/" + metaVersion,
            ["metadata"] = metadata,
            ["columnDefinitions"] = withColumns ? ColumnDefinitions(type, now) : new JsonArray(),
            ["rows"] = rows,
        };
    }

    private static JsonObject Row(ResourceType type, string version, Resource item, IReadOnlyList<ResourceTable.Column> columns, string metaVersion, string? includeObject)
    {
        var row = new JsonObject
        {
            ["cells"] = new JsonArray(columns.Select(c => (JsonNode?)c.Value(item.Json)).ToArray()),
        };
        switch (includeObject)
        {
            case "None":
                break;
            case "Object":
                row["object"] = Served.Clone(item, version);
                break;
            default:
                row["object"] = PartialObjectMetadata(item, metaVersion);
                break;
        }

        return row;
    }

    public static JsonObject PartialObjectMetadata(Resource item, string metaVersion) => new()
    {
        ["kind"] = "PartialObjectMetadata",
        ["apiVersion"] = "meta.k8s.io/" + metaVersion,
        ["metadata"] = item.Metadata.DeepClone(),
    };
}

/// <summary>An object as the API serves it in one version: stored objects keep the apiVersion they were written in.</summary>
internal static class Served
{
    public static JsonObject Clone(Resource resource, string version)
    {
        var json = (JsonObject)resource.Json.DeepClone();
        json["apiVersion"] = resource.Type.ApiVersion(version);
        json["kind"] = resource.Type.Kind;
        return json;
    }

    /// <summary>The stored JSON itself when it already says <paramref name="version"/> (not to be changed), else a copy that does.</summary>
    public static JsonObject View(Resource resource, string version) =>
        resource.Json["apiVersion"]?.ToString() == resource.Type.ApiVersion(version) && resource.Json["kind"]?.ToString() == resource.Type.Kind
            ? resource.Json
            : Clone(resource, version);
}

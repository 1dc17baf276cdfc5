using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Meshgate.Core.Schemas;

namespace Meshgate.Core.Patching;

/// <summary>
/// Server-side apply (<c>application/apply-patch+yaml</c>), simplified: each field manager's applied configuration owns
/// the fields it sets, recorded in <c>metadata.managedFields</c> (operation <c>Apply</c>, <c>FieldsV1</c>). Applying
/// sets those fields, removes the fields the manager applied last time and no longer does (unless another manager owns
/// them too), and refuses (409, unless forced) to change a field another manager owns. Lists are atomic, except those
/// with a merge key (<see cref="PatchStrategies"/>), whose items are owned one by one (<c>k:{"name":"x"}</c>). Writes
/// other than apply (create, update, patch) leave ownership as it is: they record no <c>Update</c> managers.
/// </summary>
public static class ServerSideApply
{
    /// <summary>A field another manager owns with a different value than the applied one.</summary>
    public sealed record Conflict(string Manager, string ApiVersion, string Field);

    public sealed record Result(JsonObject Object, IReadOnlyList<Conflict> Conflicts);

    private const char Separator = '\u0000';

    private static readonly HashSet<string> UntrackedMetadata = ["name", "namespace", "uid", "resourceVersion", "generation", "creationTimestamp", "managedFields", "selfLink", "deletionTimestamp"];

    /// <summary>
    /// Applies <paramref name="applied"/> for <paramref name="manager"/> on <paramref name="live"/> (null: the object is
    /// created). With conflicts and no <paramref name="force"/>, the result has them and nothing else is meaningful.
    /// </summary>
    public static Result Apply(JsonObject? live, JsonObject applied, Type type, string manager, bool force, DateTimeOffset now)
    {
        var result = live is null ? new JsonObject() : (JsonObject)live.DeepClone();
        var entries = (result["metadata"]?["managedFields"] as JsonArray)?.OfType<JsonObject>().Select(e => (JsonObject)e.DeepClone()).ToList() ?? [];
        var appliedFields = new HashSet<string>(StringComparer.Ordinal);
        Flatten(applied, type, "", appliedFields, top: true);

        bool Mine(JsonObject e) => e["manager"]?.ToString() == manager && e["operation"]?.ToString() == "Apply";
        var previous = entries.FirstOrDefault(Mine) is { } mine ? FromFieldsV1(mine["fieldsV1"]) : [];
        var others = entries.Where(e => !Mine(e)).Select(e => (Entry: e, Fields: FromFieldsV1(e["fieldsV1"]))).ToList();

        var conflicts = new List<Conflict>();
        foreach (var path in appliedFields)
        {
            if (path.EndsWith('.') || JsonNode.DeepEquals(At(live, path), At(applied, path)))
            {
                continue;
            }

            foreach (var (entry, fields) in others)
            {
                if (fields.Contains(path))
                {
                    conflicts.Add(new Conflict(entry["manager"]?.ToString() ?? "", entry["apiVersion"]?.ToString() ?? "", Display(path)));
                    if (force)
                    {
                        fields.Remove(path);
                    }
                }
            }
        }

        if (conflicts.Count > 0 && !force)
        {
            return new Result(result, conflicts);
        }

        Merge(result, applied, type);
        var ownedByOthers = others.SelectMany(o => o.Fields).ToHashSet(StringComparer.Ordinal);
        foreach (var path in previous.Where(p => !appliedFields.Contains(p) && !ownedByOthers.Contains(p)).OrderByDescending(p => p.Length))
        {
            Remove(result, path);
        }

        var updated = new JsonArray();
        foreach (var (entry, fields) in others)
        {
            if (fields.Count > 0)
            {
                entry["fieldsV1"] = ToFieldsV1(fields);
                updated.Add(entry);
            }
        }

        updated.Add(new JsonObject
        {
            ["manager"] = manager,
            ["operation"] = "Apply",
            ["apiVersion"] = applied["apiVersion"]?.DeepClone(),
            ["time"] = now.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
            ["fieldsType"] = "FieldsV1",
            ["fieldsV1"] = ToFieldsV1(appliedFields),
        });
        var metadata = result["metadata"] as JsonObject ?? new JsonObject();
        result["metadata"] = metadata;
        metadata["managedFields"] = updated;
        return new Result(result, []);
    }

    /// <summary>kubectl's message for refused applies.</summary>
    public static string Describe(IReadOnlyList<Conflict> conflicts)
    {
        var text = new StringBuilder($"Apply failed with {conflicts.Count} conflict{(conflicts.Count == 1 ? "" : "s")}: ");
        var groups = conflicts.GroupBy(c => (c.Manager, c.ApiVersion)).ToList();
        if (conflicts.Count == 1)
        {
            text.Append(CultureInfo.InvariantCulture, $"conflict with \"{conflicts[0].Manager}\" using {conflicts[0].ApiVersion}: {conflicts[0].Field}");
            return text.ToString();
        }

        text.Append(string.Join("", groups.Select(g => $"conflicts with \"{g.Key.Manager}\" using {g.Key.ApiVersion}:\n" + string.Join("", g.Select(c => $"- {c.Field}\n")))));
        return text.ToString().TrimEnd('\n');
    }

    private static void Flatten(JsonObject node, Type? type, string prefix, HashSet<string> fields, bool top = false)
    {
        if (node.Count == 0 && prefix.Length > 0)
        {
            fields.Add(prefix);
            return;
        }

        foreach (var (key, value) in node)
        {
            if (top && key is "apiVersion" or "kind" or "status")
            {
                continue;
            }

            if (prefix == "f:metadata" && UntrackedMetadata.Contains(key))
            {
                continue;
            }

            var path = Join(prefix, "f:" + key);
            var childType = ChildType(type, key);
            switch (value)
            {
                case JsonObject child:
                    Flatten(child, childType, path, fields);
                    break;
                case JsonArray list when KeyedList(type, key) is { } mergeKey && list.All(i => i is JsonObject o && o[mergeKey] is not null):
                    var itemType = childType is null ? null : ModelSchema.ListItemType(childType);
                    foreach (var item in list.Cast<JsonObject>())
                    {
                        var element = Join(path, ElementKey(mergeKey, item[mergeKey]));
                        fields.Add(Join(element, "."));
                        Flatten(item, itemType, element, fields);
                    }

                    break;
                default:
                    fields.Add(path);
                    break;
            }
        }
    }

    private static Type? ChildType(Type? type, string key) => type is null
        ? null
        : ModelSchema.ShapeOf(type) == ModelShape.Map ? ModelSchema.MapValueType(type) : ModelSchema.FieldType(type, key);

    private static string? KeyedList(Type? type, string field) => PatchStrategies.For(type, field) is { Merges: true, MergeKey: { } key } ? key : null;

    private static string ElementKey(string mergeKey, JsonNode? value) => "k:" + new JsonObject { [mergeKey] = value?.DeepClone() }.ToJsonString();

    private static string Join(string prefix, string segment) => prefix.Length == 0 ? segment : prefix + Separator + segment;

    /// <summary>The value a field path names in <paramref name="root"/>, or null.</summary>
    private static JsonNode? At(JsonNode? root, string path)
    {
        var node = root;
        foreach (var segment in path.Split(Separator))
        {
            node = Step(node, segment);
            if (node is null)
            {
                return null;
            }
        }

        return node;
    }

    private static JsonNode? Step(JsonNode? node, string segment)
    {
        if (segment.StartsWith("f:", StringComparison.Ordinal))
        {
            return (node as JsonObject)?[segment[2..]];
        }

        if (segment.StartsWith("k:", StringComparison.Ordinal) && node is JsonArray list && JsonNode.Parse(segment[2..]) is JsonObject key)
        {
            var (name, value) = key.First();
            return list.FirstOrDefault(item => item is JsonObject o && JsonNode.DeepEquals(o[name], value));
        }

        return segment == "." ? node : null;
    }

    private static void Merge(JsonObject target, JsonObject applied, Type? type)
    {
        foreach (var (key, value) in applied)
        {
            var childType = ChildType(type, key);
            if (value is null)
            {
                target.Remove(key);
            }
            else if (value is JsonObject child && target[key] is JsonObject existing)
            {
                Merge(existing, child, childType);
            }
            else if (value is JsonArray list && target[key] is JsonArray existingList && KeyedList(type, key) is { } mergeKey
                && list.All(i => i is JsonObject o && o[mergeKey] is not null))
            {
                var itemType = childType is null ? null : ModelSchema.ListItemType(childType);
                foreach (var item in list.Cast<JsonObject>())
                {
                    if (existingList.FirstOrDefault(e => e is JsonObject o && JsonNode.DeepEquals(o[mergeKey], item[mergeKey])) is JsonObject match)
                    {
                        Merge(match, item, itemType);
                    }
                    else
                    {
                        existingList.Add(item.DeepClone());
                    }
                }
            }
            else
            {
                target[key] = value.DeepClone();
            }
        }
    }

    private static void Remove(JsonObject root, string path)
    {
        var segments = path.Split(Separator);
        if (segments[^1] == ".")
        {
            segments = segments[..^1];
        }

        JsonNode? parent = root;
        foreach (var segment in segments[..^1])
        {
            parent = Step(parent, segment);
        }

        var last = segments[^1];
        if (last.StartsWith("f:", StringComparison.Ordinal))
        {
            (parent as JsonObject)?.Remove(last[2..]);
        }
        else if (parent is JsonArray list && Step(list, last) is { } element)
        {
            list.Remove(element);
        }
    }

    private static string Display(string path)
    {
        var text = new StringBuilder();
        foreach (var segment in path.Split(Separator))
        {
            if (segment.StartsWith("f:", StringComparison.Ordinal))
            {
                text.Append('.').Append(segment[2..]);
            }
            else if (segment.StartsWith("k:", StringComparison.Ordinal) && JsonNode.Parse(segment[2..]) is JsonObject key)
            {
                text.Append('[').Append(string.Join(",", key.Select(p => $"{p.Key}={p.Value}"))).Append(']');
            }
        }

        return text.ToString();
    }

    private static JsonObject ToFieldsV1(IEnumerable<string> paths)
    {
        var root = new JsonObject();
        foreach (var path in paths.OrderBy(p => p, StringComparer.Ordinal))
        {
            var node = root;
            foreach (var segment in path.Split(Separator))
            {
                if (node[segment] is not JsonObject child)
                {
                    child = new JsonObject();
                    node[segment] = child;
                }

                node = child;
            }
        }

        return root;
    }

    private static HashSet<string> FromFieldsV1(JsonNode? fields)
    {
        var paths = new HashSet<string>(StringComparer.Ordinal);
        void Walk(JsonObject node, string prefix)
        {
            foreach (var (key, value) in node)
            {
                var path = Join(prefix, key);
                if (value is JsonObject { Count: > 0 } child)
                {
                    Walk(child, path);
                }
                else
                {
                    paths.Add(path);
                }
            }
        }

        if (fields is JsonObject root)
        {
            Walk(root, "");
        }

        return paths;
    }
}

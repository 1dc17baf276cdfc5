using System.Text.Json.Nodes;
using Meshgate.Core.Schemas;

namespace Meshgate.Core.Patching;

/// <summary>
/// Kubernetes' strategic merge patch (<c>application/strategic-merge-patch+json</c>), for the kinds whose Go types carry
/// patch strategies (Kubernetes' own; Istio and Gateway API kinds take JSON merge patch, as CRDs do). Maps merge and
/// <c>null</c> deletes, as in a JSON merge patch; a list whose field has strategy <c>merge</c>
/// (<see cref="PatchStrategies"/>) merges by its merge key (or as a set, for lists of values), any other list is
/// replaced. The directives kubectl writes are applied: <c>$patch: replace|delete|merge</c>, <c>$retainKeys</c>,
/// <c>$setElementOrder/FIELD</c> and <c>$deleteFromPrimitiveList/FIELD</c>.
/// </summary>
public static class StrategicMergePatch
{
    private const string Directive = "$patch";
    private const string RetainKeys = "$retainKeys";
    private const string SetElementOrder = "$setElementOrder/";
    private const string DeleteFromPrimitiveList = "$deleteFromPrimitiveList/";

    /// <summary>The result of applying <paramref name="patch"/> to <paramref name="original"/> (neither changes); <paramref name="type"/> is the kind's model.</summary>
    public static JsonObject Apply(JsonObject original, JsonNode? patch, Type type)
    {
        if (patch is not JsonObject patchObject)
        {
            throw new PatchException("a strategic merge patch is a JSON object", malformed: true);
        }

        return MergeMap((JsonObject)original.DeepClone(), patchObject, type)
            ?? throw new PatchException("the patch deletes the whole object ($patch: delete at the top)", malformed: true);
    }

    private static Type? ChildType(Type? type, string key) => type is null
        ? null
        : ModelSchema.ShapeOf(type) == ModelShape.Map ? ModelSchema.MapValueType(type) : ModelSchema.FieldType(type, key);

    /// <summary>Merges <paramref name="patch"/> into <paramref name="original"/> (changed in place); null when the patch deletes it.</summary>
    private static JsonObject? MergeMap(JsonObject original, JsonObject patch, Type? type)
    {
        if (patch[Directive] is { } directive)
        {
            switch (directive.ToString())
            {
                case "replace":
                    return Fresh(patch, type, skipDirective: true);
                case "delete":
                    return null;
                case "merge":
                    break;
                default:
                    throw new PatchException($"unknown $patch directive \"{directive}\" (replace, delete, merge)", malformed: true);
            }
        }

        if (patch[RetainKeys] is { } retain)
        {
            if (retain is not JsonArray keys)
            {
                throw new PatchException("$retainKeys must be a list of field names", malformed: true);
            }

            var kept = keys.Select(k => k?.ToString()).ToHashSet(StringComparer.Ordinal);
            foreach (var key in original.Select(p => p.Key).Where(k => !kept.Contains(k)).ToList())
            {
                original.Remove(key);
            }
        }

        foreach (var (key, value) in patch)
        {
            if (key.StartsWith('$'))
            {
                if (key is not (Directive or RetainKeys) && !key.StartsWith(SetElementOrder, StringComparison.Ordinal) && !key.StartsWith(DeleteFromPrimitiveList, StringComparison.Ordinal))
                {
                    throw new PatchException($"unknown directive \"{key}\"", malformed: true);
                }

                continue;
            }

            var childType = ChildType(type, key);
            if (value is null)
            {
                original.Remove(key);
                continue;
            }

            var current = original[key];
            switch (value)
            {
                case JsonObject patchChild when current is JsonObject originalChild:
                    var merged = MergeMap(originalChild, patchChild, childType);
                    if (merged is null)
                    {
                        original.Remove(key);
                    }
                    else if (!ReferenceEquals(merged, originalChild))
                    {
                        original[key] = merged;
                    }

                    break;
                case JsonArray patchList when current is JsonArray originalList:
                    original[key] = MergeList(originalList, patchList, PatchStrategies.For(type, key), childType, key);
                    break;
                default:
                    var fresh = FreshNode(value, childType);
                    if (fresh is null)
                    {
                        original.Remove(key);
                    }
                    else
                    {
                        original[key] = fresh;
                    }

                    break;
            }
        }

        foreach (var (key, value) in patch)
        {
            if (key.StartsWith(DeleteFromPrimitiveList, StringComparison.Ordinal))
            {
                var field = key[DeleteFromPrimitiveList.Length..];
                if (original[field] is JsonArray list && value is JsonArray remove)
                {
                    var kept = list.Where(item => !remove.Any(r => JsonNode.DeepEquals(r, item))).Select(item => item?.DeepClone()).ToArray();
                    original[field] = new JsonArray(kept);
                }
            }
        }

        foreach (var (key, value) in patch)
        {
            if (key.StartsWith(SetElementOrder, StringComparison.Ordinal))
            {
                var field = key[SetElementOrder.Length..];
                if (original[field] is JsonArray list && value is JsonArray order)
                {
                    original[field] = Reorder(list, order, PatchStrategies.For(type, field)?.MergeKey);
                }
            }
        }

        return original;
    }

    private static JsonArray MergeList(JsonArray original, JsonArray patch, PatchStrategy? strategy, Type? listType, string field)
    {
        var itemType = listType is null ? null : ModelSchema.ListItemType(listType);
        if (patch.Any(item => item is JsonObject o && o[Directive]?.ToString() == "replace"))
        {
            return new JsonArray(patch.Where(item => !(item is JsonObject o && o[Directive]?.ToString() == "replace")).Select(item => FreshNode(item, itemType)).ToArray());
        }

        if (strategy is not { Merges: true })
        {
            return new JsonArray(patch.Select(item => FreshNode(item, itemType)).Where(item => item is not null).ToArray());
        }

        var result = original.Select(item => item?.DeepClone()).ToList();
        if (strategy.MergeKey is not { } mergeKey)
        {
            // A set of values: add what is missing.
            foreach (var item in patch)
            {
                if (!result.Any(existing => JsonNode.DeepEquals(existing, item)))
                {
                    result.Add(item?.DeepClone());
                }
            }

            return new JsonArray(result.ToArray());
        }

        foreach (var item in patch)
        {
            if (item is not JsonObject patchItem)
            {
                throw new PatchException($"{field}: every item of a list merged by \"{mergeKey}\" is an object", malformed: true);
            }

            var key = patchItem[mergeKey];
            var index = result.FindIndex(existing => existing is JsonObject o && JsonNode.DeepEquals(o[mergeKey], key));
            if (patchItem[Directive]?.ToString() == "delete")
            {
                result.RemoveAll(existing => existing is JsonObject o && JsonNode.DeepEquals(o[mergeKey], key));
                continue;
            }

            if (key is null)
            {
                throw new PatchException($"{field}: an item has no merge key \"{mergeKey}\"");
            }

            if (index >= 0)
            {
                var merged = MergeMap((JsonObject)result[index]!, patchItem, itemType);
                if (merged is null)
                {
                    result.RemoveAt(index);
                }
                else
                {
                    result[index] = merged;
                }
            }
            else if (FreshNode(patchItem, itemType) is { } added)
            {
                result.Add(added);
            }
        }

        return new JsonArray(result.ToArray());
    }

    /// <summary>
    /// <c>$setElementOrder</c>: the items it names in its order; an item it does not name stays after the item it followed.
    /// </summary>
    private static JsonArray Reorder(JsonArray list, JsonArray order, string? mergeKey)
    {
        JsonNode? KeyOf(JsonNode? item) => mergeKey is null ? item : (item as JsonObject)?[mergeKey];
        var items = list.Select(item => item?.DeepClone()).ToList();
        var ordered = new List<JsonNode?>();
        foreach (var entry in order)
        {
            var wanted = KeyOf(entry);
            var index = items.FindIndex(item => JsonNode.DeepEquals(KeyOf(item), wanted));
            if (index >= 0 && !ordered.Any(o => JsonNode.DeepEquals(KeyOf(o), wanted)))
            {
                ordered.Add(items[index]);
            }
        }

        for (var i = 0; i < items.Count; i++)
        {
            if (ordered.Any(o => ReferenceEquals(o, items[i])))
            {
                continue;
            }

            var after = i == 0 ? -1 : ordered.FindIndex(o => ReferenceEquals(o, items[i - 1]));
            ordered.Insert(after + 1, items[i]);
        }

        return new JsonArray(ordered.ToArray());
    }

    /// <summary>A patch value going where nothing was: its directives applied to nothing.</summary>
    private static JsonNode? FreshNode(JsonNode? value, Type? type) => value switch
    {
        JsonObject o => Fresh(o, type, skipDirective: false),
        JsonArray a => new JsonArray(a.Where(item => !(item is JsonObject io && io[Directive] is not null && io.Count == 1))
            .Select(item => FreshNode(item, type is null ? null : ModelSchema.ListItemType(type))).Where(item => item is not null).ToArray()),
        _ => value?.DeepClone(),
    };

    private static JsonObject? Fresh(JsonObject patch, Type? type, bool skipDirective)
    {
        var copy = new JsonObject();
        foreach (var (key, value) in patch)
        {
            if (key.StartsWith('$'))
            {
                if (key == Directive && !skipDirective && value?.ToString() == "delete")
                {
                    return null;
                }

                continue;
            }

            if (value is not null && FreshNode(value, ChildType(type, key)) is { } fresh)
            {
                copy[key] = fresh;
            }
        }

        return copy;
    }
}

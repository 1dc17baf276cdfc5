using System.Globalization;
using System.Text.Json.Nodes;

namespace Meshgate.Core.Patching;

/// <summary>JSON patch (RFC 6902, <c>application/json-patch+json</c>): add, remove, replace, move, copy and test, by JSON pointer.</summary>
public static class JsonPatch
{
    /// <summary>Applies every operation in order to a copy of <paramref name="document"/>; all or nothing.</summary>
    /// <exception cref="PatchException">An operation is malformed, names a path that does not exist, or a test fails.</exception>
    public static JsonNode? Apply(JsonNode? document, JsonNode? patch)
    {
        if (patch is not JsonArray operations)
        {
            throw new PatchException("a JSON patch is a list of operations, such as [{\"op\": \"replace\", \"path\": \"/spec/hosts/0\", \"value\": \"example.com\"}]", malformed: true);
        }

        var root = document?.DeepClone();
        for (var i = 0; i < operations.Count; i++)
        {
            if (operations[i] is not JsonObject operation)
            {
                throw new PatchException($"operation {i}: expected an object with op and path", malformed: true);
            }

            var op = Text(operation, "op", i);
            var path = Text(operation, "path", i);
            switch (op)
            {
                case "add":
                    root = Add(root, path, Value(operation, i), i);
                    break;
                case "remove":
                    root = Remove(root, path, i, out _);
                    break;
                case "replace":
                    root = Remove(root, path, i, out _);
                    root = Add(root, path, Value(operation, i), i);
                    break;
                case "move":
                    {
                        var from = Text(operation, "from", i);
                        root = Remove(root, from, i, out var moved);
                        root = Add(root, path, moved, i);
                        break;
                    }

                case "copy":
                    {
                        var from = Text(operation, "from", i);
                        root = Add(root, path, Get(root, from, i)?.DeepClone(), i);
                        break;
                    }

                case "test":
                    if (!JsonNode.DeepEquals(Get(root, path, i), Value(operation, i)))
                    {
                        throw new PatchException($"operation {i} (test): the value at {path} is not the one given");
                    }

                    break;
                default:
                    throw new PatchException($"operation {i}: unknown op \"{op}\" (add, remove, replace, move, copy, test)", malformed: true);
            }
        }

        return root;
    }

    private static string Text(JsonObject operation, string field, int index) =>
        operation[field] is JsonValue v && v.TryGetValue<string>(out var s)
            ? s
            : throw new PatchException($"operation {index}: \"{field}\" is missing or not a string", malformed: true);

    private static JsonNode? Value(JsonObject operation, int index) =>
        operation.TryGetPropertyValue("value", out var value)
            ? value?.DeepClone()
            : throw new PatchException($"operation {index}: \"value\" is missing", malformed: true);

    private static List<string> Tokens(string pointer, int index)
    {
        if (pointer.Length == 0)
        {
            return [];
        }

        if (pointer[0] != '/')
        {
            throw new PatchException($"operation {index}: path \"{pointer}\" does not start with /", malformed: true);
        }

        return pointer[1..].Split('/').Select(t => t.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal)).ToList();
    }

    private static JsonNode? Get(JsonNode? root, string pointer, int index)
    {
        var node = root;
        foreach (var token in Tokens(pointer, index))
        {
            node = Child(node, token, pointer, index);
        }

        return node;
    }

    private static JsonNode? Child(JsonNode? node, string token, string pointer, int index) => node switch
    {
        JsonObject o when o.TryGetPropertyValue(token, out var child) => child,
        JsonArray a when int.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out var i) && i < a.Count => a[i],
        _ => throw new PatchException($"operation {index}: path {pointer} does not exist"),
    };

    private static (JsonNode? Parent, string Last) Parent(JsonNode? root, string pointer, int index)
    {
        var tokens = Tokens(pointer, index);
        var node = root;
        foreach (var token in tokens.SkipLast(1))
        {
            node = Child(node, token, pointer, index);
        }

        return (node, tokens[^1]);
    }

    private static JsonNode? Add(JsonNode? root, string pointer, JsonNode? value, int index)
    {
        if (pointer.Length == 0)
        {
            return value;
        }

        var (parent, last) = Parent(root, pointer, index);
        switch (parent)
        {
            case JsonObject o:
                o[last] = value;
                break;
            case JsonArray a when last == "-":
                a.Add(value);
                break;
            case JsonArray a when int.TryParse(last, NumberStyles.None, CultureInfo.InvariantCulture, out var i) && i <= a.Count:
                a.Insert(i, value);
                break;
            default:
                throw new PatchException($"operation {index}: cannot add at {pointer}");
        }

        return root;
    }

    private static JsonNode? Remove(JsonNode? root, string pointer, int index, out JsonNode? removed)
    {
        if (pointer.Length == 0)
        {
            removed = root;
            return null;
        }

        var (parent, last) = Parent(root, pointer, index);
        switch (parent)
        {
            case JsonObject o when o.TryGetPropertyValue(last, out var child):
                o.Remove(last);
                removed = child;
                break;
            case JsonArray a when int.TryParse(last, NumberStyles.None, CultureInfo.InvariantCulture, out var i) && i < a.Count:
                removed = a[i];
                a.RemoveAt(i);
                break;
            default:
                throw new PatchException($"operation {index}: path {pointer} does not exist");
        }

        return root;
    }
}

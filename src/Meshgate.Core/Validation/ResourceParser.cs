using System.Text.Json;
using System.Text.Json.Nodes;

using Meshgate.Core.Resources;
using Meshgate.Core.Yaml;

namespace Meshgate.Core.Validation;

/// <summary>The outcome of reading one or more documents: the valid objects, and every error found.</summary>
public sealed record ParseResult(IReadOnlyList<Resource> Resources, IReadOnlyList<ValidationError> Errors)
{
    public bool Ok => !Errors.Any(e => !e.IsWarning);
}

/// <summary>What to do with fields the schema does not know (the API's <c>fieldValidation</c>): refuse, warn and drop, or drop.</summary>
public enum FieldValidation
{
    Strict,
    Warn,
    Ignore,
}

/// <summary>
/// Turns documents into validated <see cref="Resource"/>s: kind lookup, strict schema, metadata and
/// each kind's own rules, in that order; a document with any error yields no object.
/// </summary>
public static class ResourceParser
{
    /// <summary>Reads a YAML/JSON text (one or many documents) and validates every object in it.</summary>
    /// <param name="defaultNamespace">The namespace for objects without one, as <c>-n</c> gives it.</param>
    /// <param name="enforceNamespace">When set (kubectl's <c>-n</c>), an object naming another namespace is an error.</param>
    /// <param name="reRead">
    /// True: each object is written to text and read back, so every value is JSON-backed (numbers read as int or long
    /// alike). False for a caller that does that itself with each object, as the store does when it stores one: the
    /// objects' values are then as the YAML reader made them (numbers as long, decimal or double), the same text.
    /// </param>
    public static ParseResult ParseText(string text, string source, string defaultNamespace = "default", bool enforceNamespace = false, bool reRead = true)
    {
        // A large text is read in parts on every core (DocumentChunks); when every part is clean the result is the
        // same as reading it whole. Anything to report (an error or a warning, whose messages count documents and lines
        // from the start of the text) is found by reading the whole text again, so messages are always the one-pass ones.
        if (DocumentChunks.Split(text) is { } chunks)
        {
            var parts = new ParseResult[chunks.Count];
            Parallel.For(0, chunks.Count, i => parts[i] = ParseSequentially(chunks[i], source, defaultNamespace, enforceNamespace, reRead));
            if (Array.TrueForAll(parts, p => p.Errors.Count == 0))
            {
                var all = new List<Resource>(parts.Sum(p => p.Resources.Count));
                foreach (var part in parts)
                {
                    all.AddRange(part.Resources);
                }

                return new ParseResult(all, []);
            }
        }

        return ParseSequentially(text, source, defaultNamespace, enforceNamespace, reRead);
    }

    /// <summary>Reads <paramref name="text"/> in one pass, one document at a time.</summary>
    internal static ParseResult ParseSequentially(string text, string source, string defaultNamespace, bool enforceNamespace, bool reRead = true)
    {
        // Each document is validated as soon as it is read, so only one document's YAML and positions are held at a
        // time; a YAML error anywhere still refuses the whole text, with that error alone.
        var resources = new List<Resource>();
        var errors = new List<ValidationError>();
        try
        {
            foreach (var document in YamlReader.ReadEach(text, source))
            {
                var result = Parse(document, defaultNamespace, enforceNamespace, reRead: reRead);
                resources.AddRange(result.Resources);
                errors.AddRange(result.Errors);
            }
        }
        catch (YamlFormatException e)
        {
            return new ParseResult([], [new ValidationError("error parsing input", "", "", e.Message)]);
        }

        return new ParseResult(resources, errors);
    }

    /// <summary>Validates one document; a <c>kind: List</c> yields its items.</summary>
    /// <param name="fieldValidation">Unknown fields are errors (Strict, as files are read), or dropped with a warning (Warn) or silently (Ignore).</param>
    /// <param name="reRead">As <see cref="ParseText"/>'s.</param>
    public static ParseResult Parse(SourceDocument document, string defaultNamespace = "default", bool enforceNamespace = false, FieldValidation fieldValidation = FieldValidation.Strict, bool reRead = true)
    {
        var errors = new List<ValidationError>();
        var resources = new List<Resource>();
        if (document.Root is not JsonObject root)
        {
            errors.Add(new ValidationError($"document {document.Index}", document.Where, "", NotAnObject(document.Root), document.Line));
            return new ParseResult(resources, errors);
        }

        if (root["kind"] is JsonValue k && k.TryGetValue<string>(out var listKind) && listKind.EndsWith("List", StringComparison.Ordinal)
            && root["items"] is JsonArray items && (root["apiVersion"]?.ToString() ?? "v1") == "v1")
        {
            for (var i = 0; i < items.Count; i++)
            {
                var item = items[i]?.DeepClone();
                var itemDocument = document with { Root = item, Line = document.Positions.LineOf(items[i]) ?? document.Line };
                var result = ParseObject(itemDocument, $"items[{i}].", defaultNamespace, enforceNamespace, document.Positions, fieldValidation, reRead);
                resources.AddRange(result.Resources);
                errors.AddRange(result.Errors);
            }

            return new ParseResult(resources, errors);
        }

        return ParseObject(document, "", defaultNamespace, enforceNamespace, document.Positions, fieldValidation, reRead);
    }

    private static ParseResult ParseObject(SourceDocument document, string prefix, string defaultNamespace, bool enforceNamespace, YamlPositions positions, FieldValidation fieldValidation, bool reRead)
    {
        var errors = new List<ValidationError>();
        var original = document.Root;
        if (original is not JsonObject)
        {
            errors.Add(new ValidationError($"document {document.Index}", document.Where, prefix.TrimEnd('.'), NotAnObject(original, inList: prefix.Length > 0), document.Line));
            return new ParseResult([], errors);
        }

        // Work on a copy so positions (keyed by the original nodes) stay valid for messages.
        var root = (JsonObject)original.DeepClone();
        var name = (root["metadata"] as JsonObject)?["name"] is JsonValue n && n.TryGetValue<string>(out var s) ? s : null;
        var kindText = root["kind"] is JsonValue kv && kv.TryGetValue<string>(out var ks) ? ks : null;
        var apiVersion = root["apiVersion"] is JsonValue av && av.TryGetValue<string>(out var avs) ? avs : null;

        var subject = kindText is null ? $"document {document.Index}" : name is null ? $"{kindText} (unnamed)" : $"{kindText} {Shorten(name)}";
        void Report(string path, string message, JsonNode? node, bool warning = false) =>
            errors.Add(new ValidationError(subject, document.Where, prefix + path, message, positions.LineOf(node) ?? document.Line, warning));

        if (apiVersion is null || kindText is null)
        {
            if (apiVersion is null)
            {
                Report("apiVersion", root["apiVersion"] is null ? MissingApiVersion(kindText) : "expected a string", original["apiVersion"] ?? original);
            }

            if (kindText is null)
            {
                Report("kind", root["kind"] is null ? MissingKind(apiVersion) : "expected a string", original["kind"] ?? original);
            }

            return new ParseResult([], errors);
        }

        var slash = apiVersion.IndexOf('/');
        var group = slash < 0 ? "" : apiVersion[..slash];
        var version = slash < 0 ? apiVersion : apiVersion[(slash + 1)..];
        var type = ResourceTypes.Find(group, kindText);
        if (type is null)
        {
            Report("kind", UnknownKind(group, kindText, apiVersion), original["kind"]);
            return new ParseResult([], errors);
        }

        if (!type.Versions.Contains(version))
        {
            Report("apiVersion", $"{type.Kind} is not served in version \"{version}\"; use {string.Join(" or ", type.Versions.Select(type.ApiVersion))}", original["apiVersion"]);
            return new ParseResult([], errors);
        }

        // Fill the namespace in before the subject is final, so messages read "ServiceEntry default/cnn".
        var metadata = root["metadata"] as JsonObject;
        if (metadata is not null && type.Namespaced)
        {
            var ns = metadata["namespace"] is JsonValue nsv && nsv.TryGetValue<string>(out var nss) ? nss : null;
            if (ns is null or "")
            {
                metadata["namespace"] = defaultNamespace;
            }

            subject = name is null ? $"{type.Kind} (unnamed)" : $"{type.Kind} {Shorten(metadata["namespace"]!.ToString())}/{Shorten(name)}";
            if (ns is not (null or "") && enforceNamespace && ns != defaultNamespace)
            {
                Report("metadata.namespace",
                    $"the namespace from the provided object \"{ns}\" does not match the namespace \"{defaultNamespace}\"; pass -n {ns}, or remove metadata.namespace",
                    original["metadata"]?["namespace"]);
            }
        }
        else if (metadata is not null)
        {
            metadata.Remove("namespace"); // cluster-scoped kinds ignore it, as kubectl does
        }

        var unknown = new List<string>();
        SchemaValidator.Validate(original, type.DocumentType, "", (path, message, node) =>
        {
            if (fieldValidation != FieldValidation.Strict && message.StartsWith("unknown field \"", StringComparison.Ordinal))
            {
                unknown.Add(path);
                if (fieldValidation == FieldValidation.Warn)
                {
                    Report(path, message, node, warning: true);
                }

                return;
            }

            Report(path, message, node);
        });
        if (errors.Any(e => !e.IsWarning))
        {
            return new ParseResult([], errors);
        }

        foreach (var path in unknown)
        {
            // Dropped, as the API server prunes what its schema does not have.
            var cut = LastSegmentStart(path);
            var parent = cut < 0 ? "" : path[..cut];
            var key = cut < 0 ? path : path[cut] == '.' ? path[(cut + 1)..] : path[(cut + 2)..^2];
            (NodeAt(root, parent) as JsonObject)?.Remove(key);
        }

        if (name is null)
        {
            Report("metadata.name", "required field is missing", original["metadata"] ?? original);
            return new ParseResult([], errors);
        }

        var context = new RuleContext(type.Namespaced ? metadata!["namespace"]!.GetValue<string>() : "",
            (path, message, warning) => Report(path, message, NodeAtOrAbove(original, path), warning));
        MetadataRules.Check(type, metadata!, context);
        Func<Resource, Resource>? keepSpec = null;
        try
        {
            keepSpec = KindRules.Check(type, root, name, context);
        }
        catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException or OverflowException or ArgumentException)
        {
            // The schema check should have caught whatever the typed model cannot hold; never let it escape.
            Report("", $"cannot be read as a {type.Kind}: {e.Message}", original);
        }

        if (errors.Any(e => !e.IsWarning))
        {
            return new ParseResult([], errors);
        }

        root.Remove("status"); // status is the control plane's to write
        StripServerFields(metadata!);
        // Re-read so every value is JSON-backed: numbers then read as int or long alike.
        var resource = new Resource(type, reRead ? (JsonObject)JsonNode.Parse(root.ToJsonString())! : root);
        return new ParseResult([keepSpec is null ? resource : keepSpec(resource)], errors);
    }

    /// <summary>Fields users may copy from <c>get -o yaml</c> that belong to the server; kubectl apply ignores them too.</summary>
    private static void StripServerFields(JsonObject metadata)
    {
        foreach (var field in new[] { "uid", "resourceVersion", "generation", "creationTimestamp", "managedFields", "selfLink" })
        {
            metadata.Remove(field);
        }
    }

    private static string NotAnObject(JsonNode? node, bool inList = false) => node switch
    {
        JsonArray when !inList => "expected an object with apiVersion, kind and metadata, got a list; "
            + "separate objects with a line of ---, or write kind: List with the objects under items",
        _ => $"expected an object with apiVersion, kind and metadata, got {SchemaValidator.Describe(node)}",
    };

    private static string MissingKind(string? apiVersion)
    {
        var slash = apiVersion?.IndexOf('/') ?? -1;
        var group = apiVersion is null ? null : slash < 0 ? "" : apiVersion[..slash];
        var kinds = group is null ? [] : ResourceTypes.InGroup(group).Select(t => t.Kind).ToList();
        return kinds.Count == 0
            ? "required field is missing; for example kind: ServiceEntry"
            : $"required field is missing; add kind: with one of {string.Join(", ", kinds)}";
    }

    private static string MissingApiVersion(string? kind)
    {
        var versions = ResourceTypes.All.Where(t => t.Kind == kind).Select(t => t.ApiVersion(t.PreferredVersion)).ToList();
        return versions.Count == 0
            ? "required field is missing; for example apiVersion: networking.istio.io/v1"
            : $"required field is missing; {kind} needs apiVersion: {string.Join(" or ", versions)}";
    }

    /// <summary>Object names in messages; a name of a megabyte is an error, not something to print.</summary>
    private static string Shorten(string name) => name.Length <= 80 ? name : name[..77] + "...";

    private static string UnknownKind(string group, string kind, string apiVersion)
    {
        var inGroup = ResourceTypes.InGroup(group).ToList();
        if (inGroup.Count == 0)
        {
            var byKind = ResourceTypes.All.Where(t => t.Kind == kind).Select(t => t.ApiVersion(t.PreferredVersion)).ToList();
            return byKind.Count > 0
                ? $"no kind \"{kind}\" is served in \"{apiVersion}\"; {kind} is served in {string.Join(" and ", byKind)}"
                : $"no kind \"{kind}\" is served in \"{apiVersion}\"; Meshgate serves {string.Join(", ", ResourceTypes.All.Select(t => t.Kind).Distinct())}";
        }

        var suggestion = SchemaValidator.Suggest(kind, inGroup.Select(t => t.Kind));
        var hint = suggestion is null ? "" : $"did you mean {suggestion}? ";
        return $"no kind \"{kind}\" is served in \"{apiVersion}\"; {hint}{(group.Length == 0 ? "the core group (v1)" : group)} has {string.Join(", ", inGroup.Select(t => t.Kind))}";
    }

    /// <summary>
    /// The node a rule's path names, or for a field that is missing (<c>spec.servers[0].tls</c>) the
    /// nearest enclosing node that exists, so the message still points at the right line.
    /// </summary>
    internal static JsonNode NodeAtOrAbove(JsonNode root, string path)
    {
        while (true)
        {
            if (NodeAt(root, path) is { } node)
            {
                return node;
            }

            var cut = LastSegmentStart(path);
            if (cut <= 0)
            {
                return root;
            }

            path = path[..cut];
        }
    }

    /// <summary>Where the last <c>.name</c> or <c>[index]</c> of a path starts, ignoring dots inside <c>["..."]</c>.</summary>
    private static int LastSegmentStart(string path)
    {
        var last = -1;
        var quoted = false;
        for (var i = 0; i < path.Length; i++)
        {
            if (path[i] == '"')
            {
                quoted = !quoted;
            }
            else if (!quoted && path[i] is '.' or '[')
            {
                last = i;
            }
        }

        return last;
    }

    /// <summary>Finds the node a rule's path names (<c>spec.ports[0].number</c>), for its line number.</summary>
    internal static JsonNode? NodeAt(JsonNode? root, string path)
    {
        var node = root;
        var i = 0;
        while (node is not null && i < path.Length)
        {
            if (path[i] == '.')
            {
                i++;
            }

            if (i < path.Length && path[i] == '[')
            {
                var close = path.IndexOf(']', i);
                if (close < 0)
                {
                    return node;
                }

                var inner = path[(i + 1)..close];
                node = inner.StartsWith('"') ? (node as JsonObject)?[inner.Trim('"')] : int.TryParse(inner, out var index) && node is JsonArray a && index < a.Count ? a[index] : null;
                i = close + 1;
                continue;
            }

            var end = i;
            while (end < path.Length && path[end] is not '.' and not '[')
            {
                end++;
            }

            node = (node as JsonObject)?[path[i..end]];
            i = end;
        }

        return node;
    }

    /// <summary>Serializes a typed record to the canonical JSON of the API (for tests and writers).</summary>
    public static JsonNode? ToJson<T>(T value) => JsonSerializer.SerializeToNode(value, ResourceJson.Options);
}

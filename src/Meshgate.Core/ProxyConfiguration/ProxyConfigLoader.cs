using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Unicode;

using Meshgate.Core.Validation;
using Meshgate.Core.Yaml;

namespace Meshgate.Core.ProxyConfiguration;

/// <summary>The outcome of loading a proxy configuration: the snapshot, or why there is none.</summary>
/// <param name="Config">Set only when <paramref name="Errors"/> is empty.</param>
/// <param name="Errors">Each names the source, the line when known and the field path.</param>
public sealed record ProxyConfigLoadResult(ProxyConfig? Config, IReadOnlyList<string> Errors);

/// <summary>
/// Reads a static bootstrap (as <c>envoy -c</c> does): one YAML or JSON document of the <see cref="ProxyConfig"/>
/// model, checked strictly (unknown fields and wrong types are refused with their path and line), then for
/// consistency with <see cref="ProxyConfigValidator"/>. All or nothing: any error yields no snapshot.
/// </summary>
public static class ProxyConfigLoader
{
    private const string Expected = "a proxy configuration (an object with version, listeners, routeTables, clusters and secrets)";

    /// <param name="text">The file's content.</param>
    /// <param name="source">How messages name the input, usually the file's path.</param>
    public static ProxyConfigLoadResult Load(string text, string source)
    {
        IReadOnlyList<SourceDocument> documents;
        try
        {
            documents = YamlReader.Read(text, source);
        }
        catch (YamlFormatException e)
        {
            return Failed(e.Message);
        }

        if (documents.Count == 0)
        {
            return Failed($"{source}: the input is empty; expected {Expected}");
        }

        if (documents.Count > 1)
        {
            return Failed($"{source}, line {documents[1].Line}: expected one document, found {documents.Count}; a proxy configuration is a single object");
        }

        var document = documents[0];
        if (document.Root is not JsonObject root)
        {
            return Failed($"{At(source, document.Line)}: expected {Expected}, got {SchemaValidator.Describe(document.Root)}");
        }

        var errors = new List<string>();
        SchemaValidator.Validate(root, typeof(ProxyConfig), "", (path, message, node) =>
            errors.Add($"{At(source, document.Positions.LineOf(node) ?? document.Line)}: {path}: {message}"));
        if (errors.Count > 0)
        {
            return new ProxyConfigLoadResult(null, errors);
        }

        ProxyConfig config;
        try
        {
            config = ReadChecked(root);
        }
        catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException or NotSupportedException)
        {
            // The schema check should have refused whatever the model cannot hold; never let it escape.
            return Failed($"{source}: cannot be read as a proxy configuration: {e.Message}");
        }

        foreach (var error in ProxyConfigValidator.Check(config))
        {
            var node = ResourceParser.NodeAtOrAbove(root, error.RootPath);
            errors.Add($"{At(source, document.Positions.LineOf(node))}: {error}");
        }

        return errors.Count > 0 ? new ProxyConfigLoadResult(null, errors) : new ProxyConfigLoadResult(config, []);
    }

    /// <summary>
    /// Reads a snapshot the control plane sent: the same checks as <see cref="Load"/> (strict schema, then consistency),
    /// but parsed as JSON, which is what <see cref="ToJson"/> writes. Megabytes of single-line JSON (10,000 clusters) go
    /// through the JSON parser in a fraction of the YAML reader's time, and without the YAML reader's limits on
    /// document size; errors name the field path (a single line has no useful line numbers).
    /// </summary>
    public static ProxyConfigLoadResult LoadJson(ReadOnlyMemory<byte> utf8, string source)
    {
        // Fast path: a snapshot the control plane wrote reads strictly (ProxyConfigReader refuses whatever the schema
        // check would), so it needs no tree and no schema walk: only the consistency check. What it refuses is read
        // again below to say exactly what is wrong, with the field path.
        return ProxyConfigReader.TryRead(utf8.Span, out var strict) ? Checked(strict, source) : LoadJsonSlowly(utf8, source);
    }

    private static ProxyConfigLoadResult Checked(ProxyConfig config, string source)
    {
        var errors = ProxyConfigValidator.Check(config);
        return errors.Count == 0
            ? new ProxyConfigLoadResult(config, [])
            : new ProxyConfigLoadResult(null, [.. errors.Select(e => $"{source}: {e}")]);
    }

    private static ProxyConfigLoadResult LoadJsonSlowly(ReadOnlyMemory<byte> utf8, string source)
    {
        // RFC 8259 §8.1: JSON text is UTF-8. System.Text.Json checks a string's bytes only when it reads the string
        // (it throws InvalidOperationException from deep in the schema walk), so refuse bad bytes here, once.
        if (!Utf8.IsValid(utf8.Span))
        {
            return Failed($"{source}: not valid JSON: the text is not UTF-8");
        }

        JsonNode? parsed;
        try
        {
            parsed = JsonNode.Parse(utf8.Span, documentOptions: new JsonDocumentOptions { AllowDuplicateProperties = false });
        }
        catch (Exception e) when (e is JsonException or ArgumentException or InvalidOperationException)
        {
            return Failed($"{source}: not valid JSON: {e.Message}");
        }

        if (parsed is not JsonObject root)
        {
            return Failed($"{source}: expected {Expected}, got {SchemaValidator.Describe(parsed)}");
        }

        var errors = new List<string>();
        SchemaValidator.Validate(root, typeof(ProxyConfig), "", (path, message, _) => errors.Add($"{source}: {path}: {message}"));
        if (errors.Count > 0)
        {
            return new ProxyConfigLoadResult(null, errors);
        }

        ProxyConfig config;
        try
        {
            config = ReadChecked(root);
        }
        catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException or NotSupportedException)
        {
            return Failed($"{source}: cannot be read as a proxy configuration: {e.Message}");
        }

        return Checked(config, source);
    }

    /// <summary>
    /// Reads a tree that passed the schema check with the source-generated metadata, the defaults of fields it leaves
    /// out written in first (<see cref="InitializerDefaults"/>); a copy, so that error lines still point into the input.
    /// </summary>
    private static ProxyConfig ReadChecked(JsonObject root)
    {
        var filled = root.DeepClone();
        InitializerDefaults.Fill(filled, typeof(ProxyConfig));
        return filled.Deserialize(ProxyConfigJson.ConfigInfo) ?? throw new JsonException("the document is null");
    }

    /// <summary>The canonical JSON of a snapshot (what <c>/config_dump</c> shows); <see cref="Load"/> reads it back equal.</summary>
    public static string ToJson(ProxyConfig config, bool indented = false) =>
        JsonSerializer.Serialize(config, indented ? ProxyConfigJson.IndentedConfigInfo : ProxyConfigJson.ConfigInfo);

    /// <summary>The same as <see cref="ToJson"/>, as UTF-8 bytes (what the control plane sends).</summary>
    public static byte[] ToJsonUtf8(ProxyConfig config) => JsonSerializer.SerializeToUtf8Bytes(config, ProxyConfigJson.ConfigInfo);

    private static string At(string source, int? line) => line is { } n ? $"{source}, line {n}" : source;

    private static ProxyConfigLoadResult Failed(string error) => new(null, [error]);
}

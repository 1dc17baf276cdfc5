using System.Globalization;
using System.Text.Json.Nodes;
using Meshgate.Commands;
using Meshgate.Core.Yaml;

namespace Meshgate.Install;

/// <summary>
/// An <c>IstioOperator</c> file for <c>meshgate install -f</c>, read as the same settings <c>--set</c> takes:
/// <c>spec.profile</c>, <c>spec.meshConfig.*</c> and <c>spec.components.egressGateways[0].{name,enabled}</c>. Anything
/// else in it (values, other components) is refused by its path, as a setting Meshgate does not support.
/// </summary>
internal static class IstioOperatorFile
{
    public static (string? Profile, IReadOnlyList<string> Sets) Read(string path)
    {
        string text;
        try
        {
            text = path == "-" ? Console.In.ReadToEnd() : File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"error: -f {path}: {e.Message}");
        }

        IReadOnlyList<SourceDocument> documents;
        try
        {
            documents = YamlReader.Read(text, path);
        }
        catch (YamlFormatException e)
        {
            throw new CliException($"error: {e.Message}");
        }

        string? profile = null;
        var sets = new List<string>();
        foreach (var document in documents)
        {
            if (document.Root is not JsonObject root)
            {
                continue;
            }

            if (root["kind"]?.GetValue<string>() != "IstioOperator")
            {
                throw new CliException($"error: {document.Where}: kind is {root["kind"]?.ToJsonString() ?? "missing"}; meshgate install -f takes an IstioOperator (apiVersion install.istio.io/v1alpha1)");
            }

            foreach (var (key, value) in root["spec"] as JsonObject ?? [])
            {
                switch (key)
                {
                    case "profile":
                        profile = value?.GetValue<string>();
                        break;
                    case "meshConfig":
                        Flatten("meshConfig", value, sets, document);
                        break;
                    case "components":
                        Components(value as JsonObject, sets, document);
                        break;
                    default:
                        throw Unsupported(document, "spec." + key);
                }
            }
        }

        return (profile, sets);
    }

    private static void Components(JsonObject? components, List<string> sets, SourceDocument document)
    {
        foreach (var (key, value) in components ?? [])
        {
            if (key != "egressGateways" || value is not JsonArray gateways || gateways.Count > 1)
            {
                throw Unsupported(document, "spec.components." + key + (key == "egressGateways" ? " (one egress gateway)" : ""));
            }

            foreach (var (field, setting) in gateways.Count == 1 ? gateways[0] as JsonObject ?? [] : [])
            {
                if (field is not ("name" or "enabled"))
                {
                    throw Unsupported(document, $"spec.components.egressGateways[0].{field}");
                }

                sets.Add($"components.egressGateways[0].{field}={Scalar(setting)}");
            }
        }
    }

    private static void Flatten(string prefix, JsonNode? node, List<string> sets, SourceDocument document)
    {
        if (node is JsonObject map)
        {
            foreach (var (key, value) in map)
            {
                Flatten(prefix + "." + key, value, sets, document);
            }

            return;
        }

        if (node is JsonArray)
        {
            throw Unsupported(document, "spec." + prefix);
        }

        var set = prefix + "=" + Scalar(node);
        if (!InstallSettings.SupportedPaths.Contains(prefix, StringComparer.Ordinal))
        {
            throw Unsupported(document, "spec." + prefix);
        }

        sets.Add(set);
    }

    private static string Scalar(JsonNode? node) => node switch
    {
        null => "",
        JsonValue value when value.TryGetValue<bool>(out var b) => b ? "true" : "false",
        JsonValue value when value.TryGetValue<string>(out var s) => s,
        _ => Convert.ToString(node.ToJsonString(), CultureInfo.InvariantCulture) ?? "",
    };

    private static CliException Unsupported(SourceDocument document, string path) =>
        new($"error: {document.Where}: {path} is not a setting Meshgate supports; supported: spec.profile, spec.{string.Join(", spec.", InstallSettings.SupportedPaths)}");
}

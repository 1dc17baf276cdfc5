using System.Text.Json.Nodes;

using Meshgate.Core.ProxyConfiguration;
using Meshgate.Core.Resources;
using Meshgate.Core.Yaml;

namespace Meshgate.Core.Translation;

/// <summary>
/// Reads Istio's mesh config from ConfigMap <c>istio</c> (key <c>mesh</c>, YAML) in the root namespace, as istiod does:
/// <c>accessLogFile</c>, <c>accessLogEncoding</c>, <c>accessLogFormat</c>, <c>outboundTrafficPolicy.mode</c>, <c>rootNamespace</c>,
/// <c>trustDomain</c>, and Meshgate's own <c>meshgate.egress</c> section (<see cref="ReadEgress"/>); other fields are ignored. A value that cannot be read keeps its default and is reported; YAML
/// that cannot be parsed at all gives every default (never a half-read config) and is reported.
/// </summary>
public static class MeshConfigReader
{
    public const string ConfigMapName = "istio";
    public const string Key = "mesh";

    /// <summary>The settings, and what was wrong with the ConfigMap (empty when nothing was).</summary>
    public static (MeshSettings Settings, IReadOnlyList<string> Problems) Read(ResourceSet resources)
    {
        var defaults = new MeshSettings();
        var key = new ObjectKey(ResourceTypes.ConfigMap, defaults.RootNamespace, ConfigMapName);
        if (resources.Get(key) is not { } configMap || configMap.Json["data"]?[Key] is not JsonValue value
            || !value.TryGetValue<string>(out var text))
        {
            return (defaults, []);
        }

        return Parse(text, $"configmap {defaults.RootNamespace}/{ConfigMapName} data.{Key}");
    }

    /// <summary>Reads the YAML of <c>meshConfig</c>; <paramref name="source"/> names it in problems.</summary>
    public static (MeshSettings Settings, IReadOnlyList<string> Problems) Parse(string text, string source)
    {
        var defaults = new MeshSettings();
        JsonNode? root;
        try
        {
            var documents = YamlReader.Read(text, source);
            root = documents.Count == 0 ? null : documents[0].Root;
        }
        catch (YamlFormatException e)
        {
            return (defaults, [$"{e.Message}; using the default mesh config"]);
        }

        if (root is null)
        {
            return (defaults, []);
        }

        if (root is not JsonObject mesh)
        {
            return (defaults, [$"{source}: expected a mapping of meshConfig fields; using the default mesh config"]);
        }

        var problems = new List<string>();
        var settings = defaults;
        if (String(mesh, "accessLogFile", source, problems) is { } file)
        {
            settings = settings with { AccessLogFile = file };
        }

        switch (String(mesh, "accessLogEncoding", source, problems)?.ToUpperInvariant())
        {
            case null:
                break;
            case "TEXT":
                settings = settings with { AccessLogEncoding = AccessLogEncoding.Text };
                break;
            case "JSON":
                settings = settings with { AccessLogEncoding = AccessLogEncoding.Json };
                break;
            case var other:
                problems.Add($"{source}: accessLogEncoding: \"{other}\" is not TEXT or JSON; using TEXT");
                break;
        }

        if (String(mesh, "accessLogFormat", source, problems) is { Length: > 0 } format)
        {
            // Checked here, at the control plane: a proxy would refuse a snapshot whose format it cannot print.
            if (AccessLogFormat.TryParse(format, out _, out var error))
            {
                settings = settings with { AccessLogFormat = format };
            }
            else
            {
                problems.Add($"{source}: accessLogFormat: {error}; using the default format");
            }
        }

        if (mesh["outboundTrafficPolicy"] is JsonObject policy)
        {
            switch (String(policy, "mode", source, problems))
            {
                case null or "ALLOW_ANY":
                    break;
                case "REGISTRY_ONLY":
                    settings = settings with { OutboundTrafficPolicy = OutboundTrafficPolicyMode.RegistryOnly };
                    break;
                case var other:
                    problems.Add($"{source}: outboundTrafficPolicy.mode: \"{other}\" is not ALLOW_ANY or REGISTRY_ONLY; using ALLOW_ANY");
                    break;
            }
        }
        else if (mesh["outboundTrafficPolicy"] is not null)
        {
            problems.Add($"{source}: outboundTrafficPolicy: expected a mapping with mode; using ALLOW_ANY");
        }

        if (String(mesh, "rootNamespace", source, problems) is { Length: > 0 } rootNamespace)
        {
            settings = settings with { RootNamespace = rootNamespace };
        }

        if (String(mesh, "trustDomain", source, problems) is { Length: > 0 } trustDomain)
        {
            settings = settings with { TrustDomain = trustDomain };
        }

        if (mesh["meshgate"] is JsonObject meshgate && meshgate["egress"] is JsonObject egress)
        {
            settings = settings with { Egress = ReadEgress(egress, source, problems) };
        }
        else if (mesh["meshgate"] is { } section && (section is not JsonObject || section["egress"] is not null))
        {
            problems.Add($"{source}: meshgate: expected a mapping with egress; using the strict egress defaults");
        }

        return (settings, problems);
    }

    /// <summary>
    /// <c>meshgate.egress</c>: <c>allowedCidrs</c> (a list, or one comma-separated string as <c>--set</c> writes it),
    /// <c>allowDomainFronting</c> and <c>domainFrontingExceptions</c>. A field with a value that does not fit keeps its
    /// (strict) default as a whole and is reported: one bad range never leaves the others half applied.
    /// </summary>
    private static EgressSettings ReadEgress(JsonObject egress, string source, List<string> problems)
    {
        var settings = new EgressSettings();
        if (StringList(egress, "allowedCidrs", source, problems) is { } cidrs)
        {
            var bad = cidrs.Select(c => CidrBlock.TryParse(c, out _, out var error) ? null : error).FirstOrDefault(e => e is not null);
            if (bad is not null)
            {
                problems.Add($"{source}: meshgate.egress.allowedCidrs: {bad}; allowing no range");
            }
            else
            {
                settings = settings with { AllowedCidrs = [.. cidrs] };
            }
        }

        switch (egress["allowDomainFronting"])
        {
            case null:
                break;
            case JsonValue v when v.TryGetValue<bool>(out var flag):
                settings = settings with { AllowDomainFronting = flag };
                break;
            case JsonValue v when v.TryGetValue<string>(out var text) && bool.TryParse(text, out var parsed):
                settings = settings with { AllowDomainFronting = parsed };
                break;
            default:
                problems.Add($"{source}: meshgate.egress.allowDomainFronting: expected true or false; using false");
                break;
        }

        if (StringList(egress, "domainFrontingExceptions", source, problems) is { } hosts)
        {
            var bad = hosts.Select(h => h == "*" ? "\"*\" names every host; set allowDomainFronting: true instead" : Validation.Names.CheckWildcardHost(h)).FirstOrDefault(e => e is not null);
            if (bad is not null)
            {
                problems.Add($"{source}: meshgate.egress.domainFrontingExceptions: {bad}; exempting no host");
            }
            else
            {
                settings = settings with { DomainFrontingExceptions = [.. hosts] };
            }
        }

        return settings;
    }

    /// <summary>A list of strings, or one string of comma-separated items; null (reported) for anything else.</summary>
    private static List<string>? StringList(JsonObject parent, string field, string source, List<string> problems)
    {
        switch (parent[field])
        {
            case null:
                return null;
            case JsonValue v when v.TryGetValue<string>(out var s):
                return [.. s.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];
            case JsonArray items when items.All(i => i is JsonValue iv && iv.TryGetValue<string>(out _)):
                return [.. items.Select(i => i!.GetValue<string>().Trim())];
            default:
                problems.Add($"{source}: meshgate.egress.{field}: expected a list of strings; using the default");
                return null;
        }
    }

    private static string? String(JsonObject parent, string field, string source, List<string> problems)
    {
        switch (parent[field])
        {
            case null:
                return null;
            case JsonValue v when v.TryGetValue<string>(out var s):
                return s;
            default:
                problems.Add($"{source}: {field}: expected a string; using the default");
                return null;
        }
    }
}

using Meshgate.Writers;

namespace Meshgate.Commands;

public enum OutputKind
{
    Table,
    Wide,
    Yaml,
    Json,
    Name,
    JsonPath,
}

/// <summary>What <c>-o</c> asked for.</summary>
public sealed record OutputFormat(OutputKind Kind, JsonPathTemplate? JsonPath = null)
{
    public static OutputFormat Parse(string? text)
    {
        switch (text)
        {
            case null or "":
                return new OutputFormat(OutputKind.Table);
            case "wide":
                return new OutputFormat(OutputKind.Wide);
            case "yaml":
                return new OutputFormat(OutputKind.Yaml);
            case "json":
                return new OutputFormat(OutputKind.Json);
            case "name":
                return new OutputFormat(OutputKind.Name);
        }

        foreach (var prefix in new[] { "jsonpath=", "jsonpath-as-json=" })
        {
            if (text.StartsWith(prefix, StringComparison.Ordinal))
            {
                var template = text[prefix.Length..];
                if (template.Length >= 2 && template[0] is '\'' or '"' && template[^1] == template[0])
                {
                    template = template[1..^1];
                }

                return JsonPathTemplate.TryParse(template, out var parsed, out var error)
                    ? new OutputFormat(OutputKind.JsonPath, parsed)
                    : throw new CliException($"error: error parsing jsonpath {template}, {error}");
            }
        }

        throw new CliException($"error: unable to match a printer suitable for the output format \"{text}\", allowed formats are: json,jsonpath,name,wide,yaml");
    }
}

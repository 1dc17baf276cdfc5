using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using Meshgate.Core.Printing;
using Meshgate.Core.Resources;
using Meshgate.Core.Yaml;
using Meshgate.Writers;

namespace Meshgate.Commands;

/// <summary><c>meshgate get KIND[,KIND] [NAME...] [-n NS | -A] [-l SEL] [-o FORMAT]</c>, as kubectl get.</summary>
public static class GetCommand
{
    public static Command Create(CliContext cli, TimeProvider time)
    {
        var kinds = new Argument<string>("kind") { Description = "Kind, or kinds separated by commas (se, gw, vs, dr, gtw, httproute, tlsroute, tcproute, netpol, ns...), or KIND/NAME" };
        var names = new Argument<string[]>("name") { Arity = ArgumentArity.ZeroOrMore, Description = "Names of the objects (all when omitted)" };
        var ns = CommonOptions.Namespace();
        var all = new Option<bool>("--all-namespaces", "-A") { Description = "List objects in every namespace" };
        var selector = new Option<string?>("--selector", "-l") { Description = "Label selector, e.g. app=sleep,istio!=system" };
        var output = new Option<string?>("--output", "-o") { Description = "wide, yaml, json, name, or jsonpath=TEMPLATE" };
        var showLabels = new Option<bool>("--show-labels") { Description = "Add a LABELS column" };
        var ignoreNotFound = new Option<bool>("--ignore-not-found") { Description = "Print nothing, and succeed, for names that do not exist" };
        var command = new Command("get", "Display one or many objects") { kinds, names, ns, all, selector, output, showLabels, ignoreNotFound };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var format = OutputFormat.Parse(parse.GetValue(output));
            var (types, requested) = ParseTargets(parse.GetValue(kinds)!, parse.GetValue(names) ?? []);
            var allNamespaces = parse.GetValue(all);
            var namespaceName = parse.GetValue(ns) ?? "default";
            var labelSelector = parse.GetValue(selector);
            using var client = new ApiClient(ApiTarget.Resolve(parse));

            var found = new List<(ResourceType Type, JsonObject Object)>();
            var errors = new List<string>();
            foreach (var (type, name) in requested)
            {
                var scope = type.Namespaced && !(allNamespaces && name is null) ? namespaceName : null;
                var path = ResourcePaths.For(type, scope, name);
                if (labelSelector is { Length: > 0 })
                {
                    path += "?labelSelector=" + Uri.EscapeDataString(labelSelector);
                }

                try
                {
                    var body = await client.GetAsync(path, cancellationToken);
                    if (name is not null)
                    {
                        found.Add((type, (JsonObject)body!));
                    }
                    else
                    {
                        foreach (var item in body?["items"] as JsonArray ?? [])
                        {
                            found.Add((type, (JsonObject)item!));
                        }
                    }
                }
                catch (CliException e) when (e.Message.StartsWith("Error from server (NotFound)", StringComparison.Ordinal) && name is not null)
                {
                    if (!parse.GetValue(ignoreNotFound))
                    {
                        errors.Add(e.Message);
                    }
                }
            }

            var singleObject = requested.Count == 1 && requested[0].Name is not null;
            await cli.Out.WriteAsync(Render(format, found, types, singleObject, allNamespaces, parse.GetValue(showLabels), time.GetUtcNow()));
            if (found.Count == 0 && errors.Count == 0 && format.Kind == OutputKind.Table && !parse.GetValue(ignoreNotFound))
            {
                var where = allNamespaces || types.All(t => !t.Namespaced) ? "" : $" in {namespaceName} namespace";
                await cli.Error.WriteLineAsync($"No resources found{where}.");
            }

            if (errors.Count > 0)
            {
                throw new CliException(string.Join('\n', errors));
            }

            return 0;
        });
        return command;
    }

    /// <summary><c>se,vs</c> with names, or <c>se/cnn vs/x</c> (kubectl's TYPE/NAME form).</summary>
    private static (List<ResourceType> Types, List<(ResourceType Type, string? Name)> Requested) ParseTargets(string kinds, string[] names)
    {
        var types = new List<ResourceType>();
        var requested = new List<(ResourceType, string?)>();
        if (kinds.Contains('/'))
        {
            foreach (var target in names.Prepend(kinds))
            {
                var slash = target.IndexOf('/');
                if (slash <= 0 || slash == target.Length - 1)
                {
                    throw new CliException($"error: there is no need to specify a resource type as a separate argument when passing arguments in resource/name form (\"{target}\")");
                }

                var type = ResourcePaths.Resolve(target[..slash]);
                types.Add(type);
                requested.Add((type, target[(slash + 1)..]));
            }

            return (types.Distinct().ToList(), requested);
        }

        foreach (var kind in kinds.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            types.Add(ResourcePaths.Resolve(kind));
        }

        if (types.Count == 0)
        {
            throw new CliException("error: you must specify the type of resource to get");
        }

        foreach (var type in types)
        {
            if (names.Length == 0)
            {
                requested.Add((type, null));
            }
            else
            {
                requested.AddRange(names.Select(n => (type, (string?)n)));
            }
        }

        return (types, requested);
    }

    private static string Render(OutputFormat format, List<(ResourceType Type, JsonObject Object)> found, List<ResourceType> types, bool singleObject, bool allNamespaces, bool showLabels, DateTimeOffset now)
    {
        switch (format.Kind)
        {
            case OutputKind.Name:
                return string.Concat(found.Select(f => $"{f.Type.QualifiedKind}/{f.Object["metadata"]?["name"]}\n"));
            case OutputKind.Json:
                return JsonSerializer.Serialize(Document(found, singleObject), Indented) + "\n";
            case OutputKind.Yaml:
                return YamlWriter.Write(Document(found, singleObject));
            case OutputKind.JsonPath:
                return format.JsonPath!.Evaluate(Document(found, singleObject)); // as kubectl: no newline of its own
            default:
                return Tables(format, found, types, allNamespaces, showLabels, now);
        }
    }

    private static readonly JsonSerializerOptions Indented = new()
    {
        WriteIndented = true,
        IndentSize = 4,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private static JsonNode Document(List<(ResourceType Type, JsonObject Object)> found, bool singleObject)
    {
        if (singleObject && found.Count == 1)
        {
            return found[0].Object.DeepClone();
        }

        return new JsonObject
        {
            ["apiVersion"] = "v1",
            ["items"] = new JsonArray(found.Select(f => (JsonNode)f.Object.DeepClone()).ToArray()),
            ["kind"] = "List",
            ["metadata"] = new JsonObject { ["resourceVersion"] = "" },
        };
    }

    private static string Tables(OutputFormat format, List<(ResourceType Type, JsonObject Object)> found, List<ResourceType> types, bool allNamespaces, bool showLabels, DateTimeOffset now)
    {
        var text = new System.Text.StringBuilder();
        var qualify = types.Count > 1;
        foreach (var group in found.GroupBy(f => f.Type))
        {
            var type = group.Key;
            // NAME, the kind's columns, AGE, then the wide ones (priority 1), as the API's Table serves them.
            var columns = ResourceTable.Columns(type, now).Where(c => c.Priority == 0 || format.Kind == OutputKind.Wide).ToList();
            var headers = new List<string>();
            var withNamespace = allNamespaces && type.Namespaced;
            if (withNamespace)
            {
                headers.Add("NAMESPACE");
            }

            headers.AddRange(columns.Select(c => c.Header));
            if (showLabels)
            {
                headers.Add("LABELS");
            }

            var rows = new List<IReadOnlyList<string>>();
            foreach (var (_, obj) in group)
            {
                var row = new List<string>();
                var metadata = obj["metadata"] as JsonObject;
                if (withNamespace)
                {
                    row.Add(metadata?["namespace"]?.ToString() ?? "");
                }

                var name = metadata?["name"]?.ToString() ?? "";
                row.Add(qualify ? $"{type.QualifiedKind}/{name}" : name);
                row.AddRange(columns.Skip(1).Select(c => c.Value(obj)));
                if (showLabels)
                {
                    row.Add(metadata?["labels"] is JsonObject labels && labels.Count > 0
                        ? string.Join(",", labels.Select(l => $"{l.Key}={l.Value}"))
                        : "<none>");
                }

                rows.Add(row);
            }

            if (text.Length > 0)
            {
                text.Append('\n');
            }

            text.Append(TableWriter.Write(headers, rows));
        }

        return text.ToString();
    }
}

using System.Collections.Immutable;
using System.CommandLine;
using System.Text.Json.Nodes;
using Meshgate.Core.Analysis;
using Meshgate.Core.Resources;
using Meshgate.Core.Translation;
using Meshgate.Core.Validation;
using Meshgate.Writers;

namespace Meshgate.Commands;

/// <summary>
/// <c>meshgate analyze [-f FILE|DIR|-]... [-n NS | -A] [-o log|json|yaml]</c>, as <c>istioctl analyze</c>: every stored
/// object, with the objects in the files laid over them (a file's object replaces the stored one with its key), run
/// through the analyzers; exit 79 when a finding reaches <c>--failure-threshold</c> (Error by default).
/// </summary>
public static class AnalyzeCommand
{
    /// <summary>istioctl's exit code for "analyzers found issues", for CI.</summary>
    public const int ExitFoundIssues = 79;

    /// <summary>istioctl's (sysexits') exit code for input that could not be parsed.</summary>
    public const int ExitDataError = 65;

    public const int ExitIncorrectUsage = 64;

    public static Command Create(CliContext cli)
    {
        var files = CommonOptions.Files("File, directory or - (stdin) with objects to analyze as if applied");
        var positional = new Argument<string[]>("file") { Arity = ArgumentArity.ZeroOrMore, Description = "More files or directories, as istioctl takes them" };
        var ns = CommonOptions.Namespace();
        var all = new Option<bool>("--all-namespaces", "-A") { Description = "Report findings in every namespace" };
        var recursive = CommonOptions.Recursive();
        var output = new Option<string>("--output", "-o") { Description = "log (or text), json or yaml", DefaultValueFactory = _ => "log" };
        var useKube = new Option<bool>("--use-kube", "-k")
        {
            Description = "Read the stored objects from the control plane; --use-kube=false analyzes the files alone",
            DefaultValueFactory = _ => true,
            Arity = ArgumentArity.ZeroOrOne,
        };
        var failureThreshold = new Option<string>("--failure-threshold")
        {
            Description = "The severity at which to exit non-zero: Info, Warning or Error",
            DefaultValueFactory = _ => "Error",
        };
        var outputThreshold = new Option<string>("--output-threshold")
        {
            Description = "The severity from which findings are printed: Info, Warning or Error",
            DefaultValueFactory = _ => "Info",
        };
        var listAnalyzers = new Option<bool>("--list-analyzers", "-L") { Description = "List the finding codes and exit" };
        var suppress = new Option<string[]>("--suppress", "-S")
        {
            Description = "Hide a code on matching objects: CODE=RESOURCE, e.g. \"MG0004=DestinationRule default/*\" (repeatable; * is a wildcard)",
            Arity = ArgumentArity.ZeroOrMore,
            AllowMultipleArgumentsPerToken = false,
        };
        var command = new Command("analyze", "Analyze the mesh configuration and print coded findings with fixes, like istioctl analyze")
        {
            files, positional, ns, all, recursive, output, useKube, failureThreshold, outputThreshold, listAnalyzers, suppress,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            if (parse.GetValue(listAnalyzers))
            {
                await cli.Out.WriteAsync(TableWriter.Write(["CODE", "SEVERITY", "NAME"], Codes.All.Select(c => (IReadOnlyList<string>)[c.Code, c.Severity.ToString(), c.Name]).ToList()));
                return 0;
            }

            var format = (parse.GetValue(output) ?? "log").ToLowerInvariant() switch
            {
                "log" or "text" => "log",
                "json" => "json",
                "yaml" => "yaml",
                var other => throw new CliException($"error: {other} not a valid option for format; use log, json or yaml", ExitIncorrectUsage),
            };
            var failAt = ParseSeverity(parse.GetValue(failureThreshold), "--failure-threshold");
            var showFrom = ParseSeverity(parse.GetValue(outputThreshold), "--output-threshold");
            var suppressions = new List<Suppression>();
            foreach (var text in parse.GetValue(suppress) ?? [])
            {
                if (!Suppression.TryParse(text, out var suppression))
                {
                    throw new CliException($"error: {text} is not a valid suppression value: use CODE=RESOURCE, e.g. \"MG0004=DestinationRule default/egressgateway-for-cnn\"", ExitIncorrectUsage);
                }

                if (!Codes.All.Any(c => c.Code == suppression!.Code))
                {
                    await cli.Error.WriteLineAsync($"Warning: Supplied message code '{suppression!.Code}' is an unknown message code and will not have any effect.");
                }

                suppressions.Add(suppression!);
            }

            var paths = (parse.GetValue(files) ?? []).Concat(parse.GetValue(positional) ?? []).ToList();
            var sources = paths.Count == 0 ? [] : InputFiles.Read(paths, parse.GetValue(recursive), cli.In);
            var allNamespaces = parse.GetValue(all);
            var namespaceOption = parse.GetValue(ns);
            var namespaceName = namespaceOption ?? "default";

            var objects = ImmutableDictionary.CreateBuilder<ObjectKey, Resource>();
            if (parse.GetValue(useKube))
            {
                using var client = new ApiClient(ApiTarget.Resolve(parse));
                List<Resource> stored;
                try
                {
                    if (namespaceOption is not null && !allNamespaces && !await NamespaceExistsAsync(client, namespaceOption, cancellationToken))
                    {
                        await cli.Error.WriteLineAsync($"namespace \"{namespaceOption}\" not found");
                        return 0;
                    }

                    stored = await FetchAllAsync(client, cancellationToken);
                }
                catch (CliException e) when (sources.Count > 0 && e.Message.StartsWith("error: cannot reach", StringComparison.Ordinal))
                {
                    throw new CliException(e.Message + "; or analyze the files alone with --use-kube=false", e.ExitCode);
                }

                foreach (var resource in stored)
                {
                    objects[resource.Key] = resource;
                }
            }
            else
            {
                if (sources.Count == 0)
                {
                    throw new CliException("error: at least one file and/or control plane source must be provided: give -f FILE, or drop --use-kube=false");
                }

                // As istioctl adds its default gateway for files-only runs: what `meshgate up` always has.
                foreach (var resource in ConfigAnalyzer.DefaultResources(new MeshSettings()))
                {
                    objects[resource.Key] = resource;
                }
            }

            var unparsed = 0;
            foreach (var source in sources)
            {
                var parsed = ResourceParser.ParseText(source.Text, source.Source, namespaceName);
                foreach (var error in parsed.Errors)
                {
                    await cli.Error.WriteLineAsync((error.IsWarning ? "Warning: " : "error: ") + error);
                }

                if (!parsed.Ok)
                {
                    unparsed++;
                }

                foreach (var resource in parsed.Resources)
                {
                    objects[resource.Key] = resource;
                }
            }

            var set = new ResourceSet(0, objects.ToImmutable());
            var findings = ConfigAnalyzer.Analyze(set, Translator.MeshSettingsFrom(set))
                .Where(f => allNamespaces || f.Resource.Namespace.Length == 0 || f.Resource.Namespace == namespaceName)
                .Where(f => !suppressions.Any(s => s.Matches(f)))
                .ToList();
            var shown = findings.Where(f => f.Severity >= showFrom).ToList();
            var target = allNamespaces ? "all namespaces" : $"namespace: {namespaceName}";

            await cli.Out.WriteAsync(format switch
            {
                "json" => FindingWriter.Json(shown),
                "yaml" => FindingWriter.Yaml(shown),
                _ => FindingWriter.Text(shown),
            });
            if (shown.Count == 0)
            {
                var analyzed = sources.Count > 0 ? string.Join("\n", sources.Select(s => s.Source)) : target;
                await cli.Error.WriteLineAsync(unparsed == 0
                    ? $"\u2714 No validation issues found when analyzing {analyzed}."
                    : $"No validation issues found when analyzing {target} (but {unparsed} {(unparsed == 1 ? "file" : "files")} could not be parsed).");
            }
            else if (format == "log")
            {
                await cli.Error.WriteLineAsync($"{FindingWriter.Counts(shown)} found when analyzing {target}.");
            }

            // As istioctl: the exit code follows the findings before --output-threshold, and only for the log format.
            if (format != "log")
            {
                return 0;
            }

            if (findings.Any(f => f.Severity >= failAt))
            {
                await cli.Error.WriteLineAsync($"Error: Analyzers found issues when analyzing {target}.\nSee docs/analyze.md for more information about causes and resolutions.");
                return ExitFoundIssues;
            }

            if (unparsed > 0)
            {
                await cli.Error.WriteLineAsync("Error: Some files couldn't be parsed.");
                return ExitDataError;
            }

            return 0;
        });
        return command;
    }

    private static Severity ParseSeverity(string? text, string option) =>
        Enum.TryParse<Severity>(text, ignoreCase: true, out var severity) && Enum.IsDefined(severity) && !int.TryParse(text, out _)
            ? severity
            : throw new CliException($"error: invalid argument \"{text}\" for \"{option}\" flag: valid values are Info, Warning, Error", ExitIncorrectUsage);

    private static async Task<bool> NamespaceExistsAsync(ApiClient client, string name, CancellationToken cancellationToken)
    {
        try
        {
            await client.GetAsync(ResourcePaths.For(ResourceTypes.Namespace, null, name), cancellationToken);
            return true;
        }
        catch (CliException e) when (e.Message.StartsWith("Error from server (NotFound)", StringComparison.Ordinal))
        {
            return false;
        }
    }

    /// <summary>Every object of every kind, in every namespace, as <c>get KIND -A</c> lists them.</summary>
    private static async Task<List<Resource>> FetchAllAsync(ApiClient client, CancellationToken cancellationToken)
    {
        var result = new List<Resource>();
        foreach (var type in ResourceTypes.All)
        {
            var body = await client.GetAsync(ResourcePaths.For(type, null), cancellationToken);
            foreach (var item in body?["items"] as JsonArray ?? [])
            {
                if (item is JsonObject json)
                {
                    result.Add(new Resource(type, (JsonObject)json.DeepClone()));
                }
            }
        }

        return result;
    }
}

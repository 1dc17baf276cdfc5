using System.CommandLine;
using System.Text.Json.Nodes;
using Meshgate.Core.Resources;
using Meshgate.Writers;

namespace Meshgate.Commands;

/// <summary><c>meshgate describe KIND [NAME...] [-n NS]</c> (or <c>KIND/NAME</c>), as kubectl describe: any stored kind.</summary>
public static class DescribeCommand
{
    public static Command Create(CliContext cli)
    {
        var kind = new Argument<string>("kind") { Description = "Kind of the objects (gtw, httproute, se, pod, ...), or KIND/NAME" };
        var names = new Argument<string[]>("name") { Arity = ArgumentArity.ZeroOrMore, Description = "Names of the objects (every object of the kind when omitted)" };
        var ns = CommonOptions.Namespace();
        var command = new Command("describe", "Show the details of objects, their status conditions as tables") { kind, names, ns };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var namespaceName = parse.GetValue(ns) ?? "default";
            var (type, requested) = Targets(parse.GetValue(kind)!, parse.GetValue(names) ?? []);
            using var client = new ApiClient(ApiTarget.Resolve(parse));
            var objects = new List<JsonObject>();
            if (requested.Count == 0)
            {
                var list = await client.GetAsync(ResourcePaths.For(type, type.Namespaced ? namespaceName : null), cancellationToken);
                objects.AddRange((list?["items"] as JsonArray ?? []).OfType<JsonObject>());
            }

            foreach (var name in requested)
            {
                objects.Add((JsonObject)(await client.GetAsync(ResourcePaths.For(type, type.Namespaced ? namespaceName : null, name), cancellationToken))!);
            }

            if (objects.Count == 0)
            {
                await cli.Error.WriteLineAsync(type.Namespaced ? $"No resources found in {namespaceName} namespace." : "No resources found");
                return 0;
            }

            await cli.Out.WriteAsync(string.Join("\n\n", objects.Select(ObjectDescriber.Describe)));
            return 0;
        });
        return command;
    }

    /// <summary><c>gtw NAME...</c>, or kubectl's <c>gtw/NAME</c> form (one kind).</summary>
    private static (ResourceType Type, List<string> Names) Targets(string kind, string[] names)
    {
        var slash = kind.IndexOf('/');
        if (slash < 0)
        {
            return (ResourcePaths.Resolve(kind), [.. names]);
        }

        if (slash == 0 || slash == kind.Length - 1)
        {
            throw new CliException($"error: \"{kind}\" is not KIND/NAME");
        }

        return (ResourcePaths.Resolve(kind[..slash]), [kind[(slash + 1)..], .. names]);
    }
}

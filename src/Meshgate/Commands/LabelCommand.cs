using System.CommandLine;
using Meshgate.ControlPlane.Api;

namespace Meshgate.Commands;

/// <summary><c>meshgate label KIND NAME k=v... k-</c>, as kubectl label.</summary>
public static class LabelCommand
{
    public static Command Create(CliContext cli)
    {
        var kind = new Argument<string>("kind") { Description = "Kind of the object (ns, se, ...)" };
        var name = new Argument<string>("name") { Description = "Name of the object" };
        var changes = new Argument<string[]>("labels") { Arity = ArgumentArity.OneOrMore, Description = "KEY=VALUE to set, KEY- to remove" };
        var ns = CommonOptions.Namespace();
        var overwrite = new Option<bool>("--overwrite") { Description = "Replace a label that already has another value" };
        var command = new Command("label", "Set or remove labels of an object") { kind, name, changes, ns, overwrite };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var type = ResourcePaths.Resolve(parse.GetValue(kind)!);
            var set = new Dictionary<string, string>(StringComparer.Ordinal);
            var remove = new List<string>();
            foreach (var change in parse.GetValue(changes) ?? [])
            {
                var eq = change.IndexOf('=');
                if (eq > 0)
                {
                    set[change[..eq]] = change[(eq + 1)..];
                }
                else if (change.EndsWith('-') && change.Length > 1)
                {
                    remove.Add(change[..^1]);
                }
                else
                {
                    throw new CliException($"error: invalid label spec \"{change}\": use KEY=VALUE to set or KEY- to remove");
                }
            }

            using var client = new ApiClient(ApiTarget.Resolve(parse));
            var response = await client.PostAsync<ApplyResponse>(ResourceApi.MeshgatePrefix + "/label",
                new LabelRequest(type.Resource, parse.GetValue(ns) ?? "default", parse.GetValue(name)!, set, remove, parse.GetValue(overwrite)), cancellationToken);
            var result = response.Results.Single();
            var verb = result.Action == "labeled" && set.Count == 0 ? "unlabeled" : result.Action;
            await cli.Out.WriteLineAsync($"{type.QualifiedKind}/{result.Name} {verb}");
            return 0;
        });
        return command;
    }
}

using System.CommandLine;
using Meshgate.ControlPlane.Api;

namespace Meshgate.Commands;

/// <summary><c>meshgate delete KIND NAME... [-n NS]</c> or <c>meshgate delete -f FILE</c>, as kubectl delete.</summary>
public static class DeleteCommand
{
    public static Command Create(CliContext cli)
    {
        var kind = new Argument<string?>("kind") { Arity = ArgumentArity.ZeroOrOne, Description = "Kind (se, gw, vs, dr, gtw, httproute, tlsroute, tcproute, netpol, ns...) or KIND/NAME" };
        var names = new Argument<string[]>("name") { Arity = ArgumentArity.ZeroOrMore, Description = "Names of the objects" };
        var files = CommonOptions.Files("File, directory or - (stdin) naming the objects to delete");
        var ns = CommonOptions.Namespace();
        var recursive = CommonOptions.Recursive();
        var ignoreNotFound = new Option<bool>("--ignore-not-found") { Description = "Succeed for objects that do not exist" };
        var command = new Command("delete", "Delete objects by kind and name, or those a file describes") { kind, names, files, ns, recursive, ignoreNotFound };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var namespaceOption = parse.GetValue(ns);
            var namespaceName = namespaceOption ?? "default";
            var fileArgs = parse.GetValue(files) ?? [];
            var kindArg = parse.GetValue(kind);
            var nameArgs = parse.GetValue(names) ?? [];
            var ignore = parse.GetValue(ignoreNotFound);
            using var client = new ApiClient(ApiTarget.Resolve(parse));
            var errors = new List<string>();

            if (fileArgs.Length > 0)
            {
                if (kindArg is not null)
                {
                    throw new CliException("error: name cannot be provided when a path is specified");
                }

                var sources = InputFiles.Read(fileArgs, parse.GetValue(recursive), cli.In);
                var response = await client.PostAsync<ApplyResponse>(ResourceApi.MeshgatePrefix + "/delete",
                    new DeleteRequest(sources, namespaceName, namespaceOption is not null), cancellationToken);
                foreach (var result in response.Results)
                {
                    if (result.Action == "deleted")
                    {
                        await cli.Out.WriteLineAsync($"{result.QualifiedKind} \"{result.Name}\" deleted");
                    }
                    else if (!ignore)
                    {
                        var type = ResourcePaths.Resolve($"{result.QualifiedKind}");
                        errors.Add($"Error from server (NotFound): {type.Resource} \"{result.Name}\" not found");
                    }
                }
            }
            else
            {
                if (kindArg is null)
                {
                    throw new CliException("error: you must provide one or more resources by argument or filename (-f)");
                }

                var targets = new List<(Core.Resources.ResourceType Type, string Name)>();
                if (kindArg.Contains('/'))
                {
                    foreach (var target in nameArgs.Prepend(kindArg))
                    {
                        var slash = target.IndexOf('/');
                        targets.Add((ResourcePaths.Resolve(target[..slash]), target[(slash + 1)..]));
                    }
                }
                else
                {
                    var type = ResourcePaths.Resolve(kindArg);
                    if (nameArgs.Length == 0)
                    {
                        throw new CliException("error: resource(s) were provided, but no name was specified");
                    }

                    targets.AddRange(nameArgs.Select(n => (type, n)));
                }

                foreach (var (type, name) in targets)
                {
                    try
                    {
                        await client.DeleteAsync(ResourcePaths.For(type, namespaceName, name), cancellationToken);
                        await cli.Out.WriteLineAsync($"{type.QualifiedKind} \"{name}\" deleted");
                    }
                    catch (CliException e) when (ignore && e.Message.StartsWith("Error from server (NotFound)", StringComparison.Ordinal))
                    {
                    }
                    catch (CliException e) when (e.Message.StartsWith("Error from server", StringComparison.Ordinal))
                    {
                        errors.Add(e.Message);
                    }
                }
            }

            if (errors.Count > 0)
            {
                throw new CliException(string.Join('\n', errors));
            }

            return 0;
        });
        return command;
    }
}

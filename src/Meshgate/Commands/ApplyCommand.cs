using System.CommandLine;
using System.Text;
using Meshgate.ControlPlane.Api;

namespace Meshgate.Commands;

/// <summary><c>meshgate apply -f FILE|DIR|-</c>: create or update objects, all or nothing.</summary>
public static class ApplyCommand
{
    public static Command Create(CliContext cli)
    {
        var files = CommonOptions.Files("File, directory or - (stdin) with the objects to apply");
        var ns = CommonOptions.Namespace();
        var recursive = CommonOptions.Recursive();
        var dryRun = new Option<string>("--dry-run")
        {
            Description = "none, client or server: validate and report without storing",
            DefaultValueFactory = _ => "none",
            Arity = ArgumentArity.ZeroOrOne,
        };
        dryRun.AcceptOnlyFromAmong("none", "client", "server");
        var command = new Command("apply", "Create or update objects from YAML or JSON, like kubectl apply (one transaction)") { files, ns, recursive, dryRun };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var sources = InputFiles.Read(parse.GetValue(files) ?? [], parse.GetValue(recursive), cli.In);
            var isDryRun = parse.GetValue(dryRun) is "client" or "server";
            var namespaceOption = parse.GetValue(ns);
            using var client = new ApiClient(ApiTarget.Resolve(parse));
            var response = await client.PostAsync<ApplyResponse>(ResourceApi.MeshgatePrefix + "/apply",
                new ApplyRequest(sources, namespaceOption ?? "default", namespaceOption is not null, isDryRun), cancellationToken);
            foreach (var warning in response.Warnings)
            {
                await cli.Error.WriteLineAsync("Warning: " + warning);
            }

            // One write for all the lines: the console writes through, and a large apply has a line per object.
            var suffix = isDryRun ? " (dry run)" : "";
            var lines = new StringBuilder();
            foreach (var result in response.Results)
            {
                lines.Append(result.QualifiedKind).Append('/').Append(result.Name).Append(' ').Append(result.Action).Append(suffix).Append(cli.Out.NewLine);
            }

            await cli.Out.WriteAsync(lines.ToString());
            await cli.Out.FlushAsync(cancellationToken);

            return 0;
        });
        return command;
    }
}

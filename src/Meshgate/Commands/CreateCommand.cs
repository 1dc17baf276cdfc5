using System.CommandLine;
using System.Text.Json.Nodes;
using Meshgate.ControlPlane.Api;
using Meshgate.Core.Validation;

namespace Meshgate.Commands;

/// <summary>
/// <c>meshgate create namespace NAME</c>, <c>meshgate create secret generic|tls NAME</c> and <c>meshgate create configmap
/// NAME</c>, as kubectl create (<c>-n</c> anywhere: <c>create -n NS secret tls ...</c> as Istio's pages write it).
/// </summary>
public static class CreateCommand
{
    public static Command Create(CliContext cli)
    {
        var name = new Argument<string>("name") { Description = "Name of the namespace" };
        var createNamespace = new Command("namespace", "Create a namespace") { name };
        createNamespace.Aliases.Add("ns");
        createNamespace.SetAction(async (parse, cancellationToken) =>
        {
            var value = parse.GetValue(name)!;
            if (Names.CheckDns1123Label(value) is { } error)
            {
                throw new CliException($"error: namespace name {error}");
            }

            using var client = new ApiClient(ApiTarget.Resolve(parse));
            try
            {
                await client.GetAsync($"/api/v1/namespaces/{value}", cancellationToken);
                throw new CliException($"Error from server (AlreadyExists): namespaces \"{value}\" already exists");
            }
            catch (CliException e) when (e.Message.StartsWith("Error from server (NotFound)", StringComparison.Ordinal))
            {
                // as expected
            }

            var json = new JsonObject { ["apiVersion"] = "v1", ["kind"] = "Namespace", ["metadata"] = new JsonObject { ["name"] = value } };
            await client.PostAsync<ApplyResponse>(ResourceApi.MeshgatePrefix + "/apply",
                new ApplyRequest([new SourceFile("create namespace", json.ToJsonString())]), cancellationToken);
            await cli.Out.WriteLineAsync($"namespace/{value} created");
            return 0;
        });
        var ns = CommonOptions.Namespace();
        ns.Recursive = true;
        return new Command("create", "Create an object from the command line") { ns, createNamespace, CreateSecretCommand.Create(cli, ns), CreateConfigMapCommand.Create(cli, ns) };
    }
}

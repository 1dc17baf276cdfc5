using System.CommandLine;
using System.Text;
using System.Text.Json.Nodes;
using Meshgate.ControlPlane.Api;
using Meshgate.Core.Validation;

namespace Meshgate.Commands;

/// <summary>
/// <c>meshgate create configmap NAME [-n NS] [--from-file=[KEY=]PATH] [--from-literal=KEY=VALUE]</c>, as <c>kubectl
/// create configmap</c>: each key's text under <c>data</c>, or its bytes (base64) under <c>binaryData</c> when they are
/// not UTF-8, as kubectl decides; keys checked as Kubernetes checks them.
/// </summary>
public static class CreateConfigMapCommand
{
    public static Command Create(CliContext cli, Option<string?> ns)
    {
        var name = new Argument<string>("name") { Description = "Name of the config map" };
        var fromFile = new Option<string[]>("--from-file")
        {
            Description = "[KEY=]PATH: a file under KEY (default: its base name), or each file of a directory; repeatable",
            Arity = ArgumentArity.ZeroOrMore,
            AllowMultipleArgumentsPerToken = false,
        };
        var fromLiteral = new Option<string[]>("--from-literal")
        {
            Description = "KEY=VALUE; repeatable",
            Arity = ArgumentArity.ZeroOrMore,
            AllowMultipleArgumentsPerToken = false,
        };
        var command = new Command("configmap", "Create a config map from local files, directories or literal values") { name, fromFile, fromLiteral };
        command.Aliases.Add("cm");
        command.SetAction(async (parse, cancellationToken) =>
        {
            var configMapName = parse.GetValue(name)!;
            if (Names.CheckDns1123Subdomain(configMapName) is { } invalid)
            {
                throw new CliException($"error: configmap name {invalid}");
            }

            var data = new SecretData("ConfigMap");
            var literals = parse.GetValue(fromLiteral) ?? [];
            for (var i = 0; i < literals.Length; i++)
            {
                data.AddLiteralSource(literals[i], i + 1);
            }

            foreach (var source in (parse.GetValue(fromFile) ?? []).SelectMany(s => s.Split(',')))
            {
                data.AddFileSource(source);
            }

            var text = new JsonObject();
            var binary = new JsonObject();
            var utf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
            foreach (var (key, value) in data.Data)
            {
                try
                {
                    text[key] = utf8.GetString(value);
                }
                catch (DecoderFallbackException)
                {
                    binary[key] = Convert.ToBase64String(value);
                }
            }

            var namespaceName = parse.GetValue(ns) ?? "default";
            using var client = new ApiClient(ApiTarget.Resolve(parse));
            try
            {
                await client.GetAsync($"/api/v1/namespaces/{Uri.EscapeDataString(namespaceName)}/configmaps/{Uri.EscapeDataString(configMapName)}", cancellationToken);
                throw new CliException($"Error from server (AlreadyExists): configmaps \"{configMapName}\" already exists");
            }
            catch (CliException e) when (e.Message.StartsWith("Error from server (NotFound)", StringComparison.Ordinal))
            {
                // as expected
            }

            var json = new JsonObject
            {
                ["apiVersion"] = "v1",
                ["kind"] = "ConfigMap",
                ["metadata"] = new JsonObject { ["name"] = configMapName, ["namespace"] = namespaceName },
            };
            if (text.Count > 0)
            {
                json["data"] = text;
            }

            if (binary.Count > 0)
            {
                json["binaryData"] = binary;
            }

            await client.PostAsync<ApplyResponse>(ResourceApi.MeshgatePrefix + "/apply",
                new ApplyRequest([new SourceFile("create configmap", json.ToJsonString())], namespaceName, EnforceNamespace: true), cancellationToken);
            await cli.Out.WriteLineAsync($"configmap/{configMapName} created");
            return 0;
        });
        return command;
    }
}

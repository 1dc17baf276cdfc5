using System.CommandLine;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using Meshgate.ControlPlane.Api;
using Meshgate.Core.Validation;

namespace Meshgate.Commands;

/// <summary>
/// <c>meshgate create secret generic|tls NAME [-n NS] ...</c>, as <c>kubectl create secret</c>: a v1 Secret whose
/// <c>data</c> is the files' bytes (base64, as Kubernetes stores it), stored through the apply endpoint. Gateways and
/// DestinationRules read it by <c>credentialName</c>.
/// </summary>
public static class CreateSecretCommand
{
    private const string TlsType = "kubernetes.io/tls";

    /// <param name="ns">The namespace option of <c>create</c> (recursive, so <c>-n</c> may come anywhere, as kubectl takes it).</param>
    public static Command Create(CliContext cli, Option<string?> ns)
    {
        return new Command("secret", "Create a secret from files or literal values (generic) or a certificate and key (tls)")
        {
            Generic(cli, ns),
            Tls(cli, ns),
        };
    }

    private static Command Generic(CliContext cli, Option<string?> ns)
    {
        var name = new Argument<string>("name") { Description = "Name of the secret" };
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
        var type = new Option<string?>("--type") { Description = "The secret's type (default Opaque)" };
        var command = new Command("generic", "Create a secret from local files, directories or literal values") { name, fromFile, fromLiteral, type };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var secretName = CheckName(parse.GetValue(name)!);
            var data = new SecretData();
            // kubectl's order: literals, then files; its --from-file is a string slice, so commas separate paths too.
            var literals = parse.GetValue(fromLiteral) ?? [];
            for (var i = 0; i < literals.Length; i++)
            {
                data.AddLiteralSource(literals[i], i + 1);
            }

            foreach (var source in (parse.GetValue(fromFile) ?? []).SelectMany(s => s.Split(',')))
            {
                data.AddFileSource(source);
            }

            var secretType = parse.GetValue(type) is { Length: > 0 } given ? given : "Opaque";
            if (secretType == TlsType)
            {
                // What the API server requires of this type (core/v1 validation of kubernetes.io/tls).
                var missing = new[] { "tls.crt", "tls.key" }.Where(k => !data.Data.ContainsKey(k)).ToList();
                if (missing.Count > 0)
                {
                    throw new CliException($"error: --type {TlsType} needs keys tls.crt and tls.key; missing {string.Join(", ", missing)} (add --from-file=tls.crt=PATH --from-file=tls.key=PATH, or use 'meshgate create secret tls')");
                }
            }

            await StoreAsync(cli, parse, ns, secretName, secretType, data.Data, cancellationToken);
            return 0;
        });
        return command;
    }

    private static Command Tls(CliContext cli, Option<string?> ns)
    {
        var name = new Argument<string>("name") { Description = "Name of the secret" };
        var cert = new Option<string?>("--cert") { Description = "Path to the PEM certificate (chain, leaf first)" };
        var key = new Option<string?>("--key") { Description = "Path to the PEM private key of the certificate" };
        var command = new Command("tls", "Create a TLS secret (type kubernetes.io/tls, keys tls.crt and tls.key) from a certificate and its key") { name, cert, key };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var secretName = CheckName(parse.GetValue(name)!);
            if (parse.GetValue(cert) is not { Length: > 0 } certPath || parse.GetValue(key) is not { Length: > 0 } keyPath)
            {
                throw new CliException("error: key and cert must be specified: meshgate create secret tls NAME --cert=PATH --key=PATH");
            }

            var certAt = $"--cert={certPath}";
            var keyAt = $"--key={keyPath}";
            var data = new SecretData();
            data.Add("tls.crt", SecretData.ReadFile(certPath, certAt), certAt);
            data.Add("tls.key", SecretData.ReadFile(keyPath, keyAt), keyAt);
            CheckPair(data.Data["tls.crt"], data.Data["tls.key"], certAt, keyAt);
            await StoreAsync(cli, parse, ns, secretName, TlsType, data.Data, cancellationToken);
            return 0;
        });
        return command;
    }

    private static string CheckName(string name) =>
        Names.CheckDns1123Subdomain(name) is { } error ? throw new CliException($"error: secret name {error}") : name;

    /// <summary>
    /// kubectl checks the pair with Go's tls.X509KeyPair: the certificate parses, the key parses, and the key is the
    /// certificate's. Errors say which file and never show either's content.
    /// </summary>
    private static void CheckPair(byte[] cert, byte[] key, string certAt, string keyAt)
    {
        var certPem = Encoding.UTF8.GetString(cert);
        var keyPem = Encoding.UTF8.GetString(key);
        try
        {
            using var alone = X509Certificate2.CreateFromPem(certPem);
        }
        catch (CryptographicException)
        {
            throw new CliException($"error: {certAt}: no certificate found: expected PEM text with a \"-----BEGIN CERTIFICATE-----\" block");
        }

        var labels = new List<string>();
        var rest = keyPem.AsSpan();
        while (PemEncoding.TryFind(rest, out var fields))
        {
            labels.Add(rest[fields.Label].ToString());
            rest = rest[fields.Location.End..];
        }

        if (labels.Contains("ENCRYPTED PRIVATE KEY"))
        {
            throw new CliException($"error: {keyAt}: the private key is encrypted; decrypt it first (openssl pkey -in KEY -out KEY.plain)");
        }

        if (!labels.Any(l => l.EndsWith("PRIVATE KEY", StringComparison.Ordinal)))
        {
            throw new CliException($"error: {keyAt}: no private key found: expected PEM text with a \"-----BEGIN PRIVATE KEY-----\" (or RSA/EC PRIVATE KEY) block");
        }

        try
        {
            using var pair = X509Certificate2.CreateFromPem(certPem, keyPem);
        }
        catch (ArgumentException)
        {
            throw new CliException($"error: {keyAt} does not match {certAt}: tls: private key does not match public key");
        }
        catch (CryptographicException)
        {
            throw new CliException($"error: {keyAt} does not match {certAt}: tls: private key type does not match public key type (or the key is malformed)");
        }
    }

    private static async Task StoreAsync(CliContext cli, System.CommandLine.ParseResult parse, Option<string?> ns, string name, string type,
        IReadOnlyDictionary<string, byte[]> data, CancellationToken cancellationToken)
    {
        var namespaceName = parse.GetValue(ns) ?? "default";
        using var client = new ApiClient(ApiTarget.Resolve(parse));
        try
        {
            await client.GetAsync($"/api/v1/namespaces/{Uri.EscapeDataString(namespaceName)}/secrets/{Uri.EscapeDataString(name)}", cancellationToken);
            throw new CliException($"Error from server (AlreadyExists): secrets \"{name}\" already exists");
        }
        catch (CliException e) when (e.Message.StartsWith("Error from server (NotFound)", StringComparison.Ordinal))
        {
            // as expected
        }

        var encoded = new JsonObject();
        foreach (var (key, value) in data)
        {
            encoded[key] = Convert.ToBase64String(value);
        }

        var json = new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Secret",
            ["metadata"] = new JsonObject { ["name"] = name, ["namespace"] = namespaceName },
            ["type"] = type,
            ["data"] = encoded,
        };
        var response = await client.PostAsync<ApplyResponse>(ResourceApi.MeshgatePrefix + "/apply",
            new ApplyRequest([new SourceFile("create secret", json.ToJsonString())], namespaceName, EnforceNamespace: true), cancellationToken);
        var action = response.Results.FirstOrDefault()?.Action ?? "created";
        await cli.Out.WriteLineAsync($"secret/{name} {action}");
    }
}

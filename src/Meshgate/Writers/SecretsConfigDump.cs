using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Meshgate.Core.ProxyConfiguration;

namespace Meshgate.Writers;

/// <summary>
/// A proxy's secrets as Envoy's admin shows them (<c>envoy.admin.v3.SecretsConfigDump</c>, proto3 JSON names), which is
/// what <c>istioctl proxy-config secret -o json</c> prints: one <c>dynamicActiveSecrets</c> entry per SDS resource, PEM
/// as base64 <c>inlineBytes</c>, private keys as Envoy redacts them. Istio's resource names: the workload's
/// <c>default</c> and <c>ROOTCA</c>, and <c>kubernetes://NAME</c> for a credentialName (pilot's SDS).
/// </summary>
public static class SecretsConfigDump
{
    public const string TypeUrl = "type.googleapis.com/envoy.admin.v3.SecretsConfigDump";

    public const string SecretTypeUrl = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret";

    /// <summary>Istio's prefix for secrets read from Kubernetes (credentialName).</summary>
    public const string KubernetesPrefix = "kubernetes://";

    /// <summary>Istio's suffix for a credential's CA served as its own resource (security.SdsCaSuffix).</summary>
    public const string CaSuffix = "-cacert";

    /// <summary>What Envoy prints in place of a private key: <c>[redacted]</c> (its <c>MessageUtil::redact</c>).</summary>
    public const string RedactedText = "[redacted]";

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>Base64 of <see cref="RedactedText"/>, as <c>inlineBytes</c> shows it: <c>W3JlZGFjdGVkXQ==</c>.</summary>
    public static string RedactedInlineBytes { get; } = Convert.ToBase64String(Encoding.UTF8.GetBytes(RedactedText));

    /// <summary>The resource name Istio's SDS gives a snapshot secret.</summary>
    public static string ResourceName(string secretName) =>
        secretName is Secret.Default or Secret.RootCa || secretName.Contains("://", StringComparison.Ordinal)
            ? secretName
            : KubernetesPrefix + secretName;

    /// <summary>
    /// One resource per kind a secret holds, in istioctl's order: <c>default</c>, <c>ROOTCA</c>, then by name. A secret
    /// with both a chain and a CA gives the CA as <c>NAME-cacert</c>, as Istio serves it, unless a secret of that name
    /// exists. Private keys are not carried over.
    /// </summary>
    public static IReadOnlyList<SecretResource> Resources(IEnumerable<Secret> secrets)
    {
        var named = new Dictionary<string, SecretResource>(StringComparer.Ordinal);
        var derived = new List<SecretResource>();
        foreach (var secret in secrets)
        {
            if (secret.CertificateChain is { } chain)
            {
                named.TryAdd(ResourceName(secret.Name), new SecretResource(ResourceName(secret.Name), chain, secret.PrivateKey is not null, null));
                if (secret.TrustedCa is { } ca)
                {
                    derived.Add(new SecretResource(ResourceName(secret.Name + CaSuffix), null, false, ca));
                }
            }
            else if (secret.TrustedCa is { } ca)
            {
                named.TryAdd(ResourceName(secret.Name), new SecretResource(ResourceName(secret.Name), null, false, ca));
            }
        }

        foreach (var resource in derived)
        {
            named.TryAdd(resource.Name, resource);
        }

        return [.. named.Values.OrderBy(Rank).ThenBy(r => r.Name, StringComparer.Ordinal)];
    }

    /// <summary>The dump as a JSON object.</summary>
    /// <param name="versionInfo">The proxy's configuration version (Envoy: the SDS response's version_info).</param>
    /// <param name="lastUpdated">When the proxy took this configuration, or when it was read if unknown.</param>
    public static JsonObject Build(IEnumerable<Secret> secrets, string versionInfo, DateTimeOffset lastUpdated)
    {
        var updated = lastUpdated.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
        var active = new JsonArray();
        foreach (var resource in Resources(secrets))
        {
            var secret = new JsonObject { ["@type"] = SecretTypeUrl, ["name"] = resource.Name };
            if (resource.CertificateChain is { } chain)
            {
                var certificate = new JsonObject { ["certificateChain"] = InlineBytes(chain) };
                if (resource.HasPrivateKey)
                {
                    // Never the key itself, whatever the admin page held: Envoy prints the same.
                    certificate["privateKey"] = new JsonObject { ["inlineBytes"] = RedactedInlineBytes };
                }

                secret["tlsCertificate"] = certificate;
            }
            else
            {
                secret["validationContext"] = new JsonObject { ["trustedCa"] = InlineBytes(resource.Pem) };
            }

            active.Add(new JsonObject
            {
                ["name"] = resource.Name,
                ["versionInfo"] = versionInfo,
                ["lastUpdated"] = updated,
                ["secret"] = secret,
            });
        }

        return new JsonObject { ["@type"] = TypeUrl, ["dynamicActiveSecrets"] = active };
    }

    /// <summary>The dump as indented JSON text.</summary>
    public static string ToJson(IEnumerable<Secret> secrets, string versionInfo, DateTimeOffset lastUpdated) =>
        Build(secrets, versionInfo, lastUpdated).ToJsonString(Indented);

    // Envoy's DataSource: proto3 JSON writes bytes as standard base64.
    private static JsonObject InlineBytes(string pem) => new() { ["inlineBytes"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(pem)) };

    private static int Rank(SecretResource resource) => resource.Name switch
    {
        Secret.Default => 0,
        Secret.RootCa => 1,
        _ => 2,
    };
}

using System.Text;

using k8s.Models;
using Meshgate.Core.Resources;

namespace Meshgate.Core.Translation;

/// <summary>
/// Kubernetes Secrets named by <c>credentialName</c>, turned into snapshot <see cref="ProxyConfiguration.Secret"/>s as
/// Istio's SDS serves them: from the proxy's own namespace, keys <c>tls.crt</c>/<c>tls.key</c>/<c>ca.crt</c> or
/// <c>cert</c>/<c>key</c>/<c>cacert</c>, the CA possibly in <c>&lt;name&gt;-cacert</c> (DestinationRule and Gateway
/// reference: credentialName). Collects the secrets a snapshot uses.
/// </summary>
internal sealed class SecretSource(ResourceSet resources, string ns)
{
    private readonly SortedDictionary<string, ProxyConfiguration.Secret> _used = new(StringComparer.Ordinal);

    public IEnumerable<ProxyConfiguration.Secret> Used => _used.Values;

    /// <summary>The certificate chain and key of <paramref name="credentialName"/>, and its CA when it has one.</summary>
    public (string? Certificate, string? Ca) Resolve(string credentialName)
    {
        var main = Read(credentialName);
        string? certificate = null;
        string? ca = null;
        if (main is { CertificateChain: not null, PrivateKey: not null })
        {
            certificate = credentialName;
            Use(main with { TrustedCa = null });
        }

        if (main?.TrustedCa is { } trusted)
        {
            ca = credentialName + "-cacert";
            Use(new ProxyConfiguration.Secret { Name = ca, TrustedCa = trusted });
        }
        else if (Read(credentialName + "-cacert") is { } separate && (separate.TrustedCa ?? separate.CertificateChain) is { } separateCa)
        {
            ca = credentialName + "-cacert";
            Use(new ProxyConfiguration.Secret { Name = ca, TrustedCa = separateCa });
        }

        return (certificate, ca);
    }

    private void Use(ProxyConfiguration.Secret secret) => _used[secret.Name] = secret;

    private ProxyConfiguration.Secret? Read(string name)
    {
        if (resources.Get(new ObjectKey(ResourceTypes.Secret, ns, name)) is not { } resource
            || ParsedSpecs.Model<V1Secret>(resource) is not { } secret)
        {
            return null;
        }

        // The API server folds stringData into data on write; a store that keeps it as given is read the same way.
        var data = new Dictionary<string, byte[]>(secret.Data ?? new Dictionary<string, byte[]>(), StringComparer.Ordinal);
        foreach (var (key, value) in secret.StringData ?? new Dictionary<string, string>())
        {
            data[key] = Encoding.UTF8.GetBytes(value);
        }

        return new ProxyConfiguration.Secret
        {
            Name = name,
            CertificateChain = Text(data, "tls.crt") ?? Text(data, "cert"),
            PrivateKey = Text(data, "tls.key") ?? Text(data, "key"),
            TrustedCa = Text(data, "ca.crt") ?? Text(data, "cacert"),
        };
    }

    private static string? Text(IDictionary<string, byte[]> data, string key) =>
        data.TryGetValue(key, out var bytes) && bytes is { Length: > 0 } ? Encoding.UTF8.GetString(bytes) : null;
}

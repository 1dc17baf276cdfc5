using Meshgate.Core.Validation;

namespace Meshgate.Core.ProxyConfiguration;

/// <summary>The named objects a snapshot's references resolve to, with the messages for references that do not.</summary>
internal sealed class References(Dictionary<string, Secret> secrets, Dictionary<string, Cluster> clusters, Dictionary<string, RouteTable> routeTables)
{
    /// <summary>Secrets by name, the first of each.</summary>
    public Dictionary<string, Secret> Secrets => secrets;

    /// <summary>Clusters by name, the first of each.</summary>
    public Dictionary<string, Cluster> Clusters => clusters;

    /// <summary>Route tables by name, the first of each.</summary>
    public Dictionary<string, RouteTable> RouteTables => routeTables;

    public void Cluster(ConsistencyScope scope, string path, string? name) => scope.Check(path, MissingCluster(name));

    /// <summary>Why <paramref name="name"/> does not resolve to a cluster, or null when it does (or is absent).</summary>
    public string? MissingCluster(string? name) =>
        name is not null && !clusters.ContainsKey(name) ? $"cluster \"{name}\" is not defined{Suggestion(name, clusters.Keys)}" : null;

    public void RouteTable(ConsistencyScope scope, string path, string? name)
    {
        if (name is not null && !routeTables.ContainsKey(name))
        {
            scope.Error(path, $"route table \"{name}\" is not defined{Suggestion(name, routeTables.Keys)}");
        }
    }

    /// <summary>A secret presented as a certificate: it must exist and hold a chain and key.</summary>
    public void CertificateSecret(ConsistencyScope scope, string path, string? name, bool defaulted) =>
        Secret(scope, path, name, defaulted, s => s.CertificateChain is not null && s.PrivateKey is not null, "holds no certificateChain and privateKey");

    /// <summary>A secret that verifies peers: it must exist and hold a trusted CA.</summary>
    public void CaSecret(ConsistencyScope scope, string path, string? name, bool defaulted) =>
        Secret(scope, path, name, defaulted, s => s.TrustedCa is not null, "holds no trustedCa");

    private void Secret(ConsistencyScope scope, string path, string? name, bool defaulted, Func<Secret, bool> usable, string lacking)
    {
        if (name is null)
        {
            return;
        }

        // A defaulted name (ISTIO_MUTUAL's "default" and "ROOTCA") is reported at the tls block that implies it.
        var (at, subject) = defaulted ? (path[..path.LastIndexOf('.')], $"mode ISTIO_MUTUAL uses secret \"{name}\", which") : (path, $"secret \"{name}\"");
        if (!secrets.TryGetValue(name, out var secret))
        {
            // ISTIO_MUTUAL's defaulted "default" and "ROOTCA" are the proxy's own certificate and the mesh root, which its
            // identity agent supplies (Envoy's SDS); a snapshot need not carry them.
            if (!defaulted)
            {
                scope.Error(at, $"{subject} is not defined{Suggestion(name, secrets.Keys)}");
            }
        }
        else if (!usable(secret))
        {
            scope.Error(at, $"{subject} {lacking}");
        }
    }

    private static string Suggestion(string name, IEnumerable<string> candidates) =>
        SchemaValidator.Suggest(name, candidates) is { } suggestion ? $"; did you mean \"{suggestion}\"?" : "";
}

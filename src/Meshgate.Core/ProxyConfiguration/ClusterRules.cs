using Meshgate.Core.Validation;

namespace Meshgate.Core.ProxyConfiguration;

/// <summary>A cluster's endpoints fit its discovery type, its TLS names secrets that exist, and the special clusters are what Istio makes them.</summary>
internal static class ClusterRules
{
    public static void Check(Cluster cluster, ConsistencyScope scope, References references)
    {
        var discovery = Name(cluster.Discovery);
        switch (cluster.Discovery)
        {
            case ClusterDiscovery.StrictDns or ClusterDiscovery.LogicalDns when cluster.Endpoints.IsEmpty:
                scope.Error("endpoints", $"a {discovery} cluster needs at least one endpoint to resolve");
                break;
            case ClusterDiscovery.LogicalDns when cluster.Endpoints.Count > 1:
                scope.Error("endpoints", $"a LOGICAL_DNS cluster has exactly one endpoint, not {cluster.Endpoints.Count}; use STRICT_DNS for several");
                break;
            case ClusterDiscovery.OriginalDestination when !cluster.Endpoints.IsEmpty:
                scope.Error("endpoints", "an ORIGINAL_DST cluster has no endpoints; each connection goes to its original destination");
                break;
        }

        for (var i = 0; i < cluster.Endpoints.Count; i++)
        {
            Endpoint(cluster.Endpoints[i], cluster.Discovery, scope, i);
        }

        if (cluster.ConnectTimeout is { } timeout && timeout <= TimeSpan.Zero)
        {
            scope.Error("connectTimeout", "must be more than 0");
        }

        if (cluster.MaxPendingConnects is < 1)
        {
            scope.Error("maxPendingConnects", "must be at least 1");
        }

        if (cluster.Name == Cluster.BlackHole && (cluster.Discovery != ClusterDiscovery.Static || !cluster.Endpoints.IsEmpty))
        {
            scope.Error("", $"{Cluster.BlackHole} must be STATIC with no endpoints; it drops what it is sent");
        }
        else if (cluster.Name == Cluster.Passthrough && cluster.Discovery != ClusterDiscovery.OriginalDestination)
        {
            scope.Error("discovery", $"{Cluster.Passthrough} must be ORIGINAL_DST; it forwards to each connection's original destination");
        }

        if (cluster.Http2 && cluster.Name is Cluster.BlackHole or Cluster.Passthrough)
        {
            // Istio's PassthroughCluster forwards whatever the client asked for, and BlackHoleCluster nothing at all.
            scope.Error("http2", $"{cluster.Name} cannot be HTTP/2; it is what Istio makes it, with no protocol options");
        }

        if (cluster.Tls is { } tls)
        {
            Tls(tls, scope, references);
        }
    }

    private static void Endpoint(Endpoint endpoint, ClusterDiscovery discovery, ConsistencyScope scope, int index)
    {
        string At(string field) => $"endpoints[{index}].{field}"; // formatted only for an error

        if (string.IsNullOrEmpty(endpoint.Address))
        {
            scope.Error(At("address"), "must not be empty");
        }
        else if (discovery is ClusterDiscovery.Static or ClusterDiscovery.Eds && !Names.IsIpAddress(endpoint.Address))
        {
            scope.Error(At("address"), $"\"{endpoint.Address}\" is not an IP address; a {(discovery == ClusterDiscovery.Eds ? "EDS" : "STATIC")} cluster needs IP addresses (use STRICT_DNS or LOGICAL_DNS for host names)");
        }
        else if (!Names.IsIpAddress(endpoint.Address) && Names.CheckFqdn(endpoint.Address) is { } fqdnError)
        {
            scope.Error(At("address"), fqdnError);
        }

        if (Names.CheckPort(endpoint.Port) is { } portError)
        {
            scope.Error(At("port"), portError);
        }

        if (endpoint.Weight < 1)
        {
            scope.Error(At("weight"), $"{endpoint.Weight} is not a weight; use 1 or more");
        }
    }

    private static void Tls(UpstreamTls tls, ConsistencyScope scope, References references)
    {
        if (tls.Mode == TlsMode.Mutual && tls.CertificateSecret is null)
        {
            scope.Error("tls.certificateSecret", "required for mode MUTUAL (the client certificate to present)");
        }

        if (tls.Tunnel && tls.Mode != TlsMode.IstioMutual)
        {
            scope.Error("tls.tunnel", "only with mode ISTIO_MUTUAL (the mesh's own transport is mutual TLS with the workload certificates)");
        }

        if (tls.Sni is not null)
        {
            scope.Check("tls.sni", Names.CheckFqdn(tls.Sni));
        }

        Secrets(tls, scope, references);
    }

    /// <summary>
    /// The rules of a cluster that other objects can break: its TLS names secrets that exist and hold what it needs.
    /// For a cluster already found consistent whose secrets may have changed since; the rest of it cannot fail again.
    /// </summary>
    public static void CheckSecrets(Cluster cluster, ConsistencyScope scope, References references)
    {
        if (cluster.Tls is { } tls)
        {
            Secrets(tls, scope, references);
        }
    }

    private static void Secrets(UpstreamTls tls, ConsistencyScope scope, References references)
    {
        references.CertificateSecret(scope, "tls.certificateSecret", tls.EffectiveCertificateSecret, defaulted: tls.CertificateSecret is null);
        references.CaSecret(scope, "tls.caSecret", tls.EffectiveCaSecret, defaulted: tls.CaSecret is null);
    }

    private static string Name(ClusterDiscovery discovery) => discovery switch
    {
        ClusterDiscovery.Static => "STATIC",
        ClusterDiscovery.StrictDns => "STRICT_DNS",
        ClusterDiscovery.LogicalDns => "LOGICAL_DNS",
        ClusterDiscovery.OriginalDestination => "ORIGINAL_DST",
        _ => "EDS",
    };
}

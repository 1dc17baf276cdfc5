using System.Net;

using Meshgate.Core.ProxyConfiguration;
using Meshgate.Core.Resources.Istio;
using Meshgate.Core.Validation;

namespace Meshgate.Core.Translation;

/// <summary>
/// The clusters of the services a proxy sees: one per service port, <c>outbound|port||host</c>, plus one per subset of
/// the DestinationRule the proxy finds for the host, <c>outbound|port|subset|host</c> (istio/istio
/// <c>pilot/pkg/networking/core/cluster_builder.go</c>). Always <see cref="Cluster.BlackHoleCluster"/> and
/// <see cref="Cluster.PassthroughCluster"/>.
/// </summary>
internal sealed class ClusterBuilder(TranslationContext context)
{
    /// <summary>Clusters by name, for the route and listener builders to check references against.</summary>
    public SortedDictionary<string, Cluster> Build(IReadOnlyList<MeshService> services)
    {
        var clusters = new SortedDictionary<string, Cluster>(StringComparer.Ordinal)
        {
            [Cluster.BlackHole] = Cluster.BlackHoleCluster,
            [Cluster.Passthrough] = Cluster.PassthroughCluster,
        };

        foreach (var service in services)
        {
            var rule = context.DestinationRules.Find(service.Hostname, service.Namespace);
            foreach (var port in service.Ports)
            {
                if (Build(service, port, null, rule) is { } cluster)
                {
                    clusters.TryAdd(cluster.Name, cluster);
                }

                foreach (var subset in rule?.Subsets ?? [])
                {
                    if (Build(service, port, subset, rule) is { } subsetCluster)
                    {
                        clusters.TryAdd(subsetCluster.Name, subsetCluster);
                    }
                }
            }
        }

        return clusters;
    }

    /// <summary>
    /// Istio's <c>MergeTrafficPolicy</c>: the top-level policy, replaced (not merged) by its <c>portLevelSettings</c> for
    /// the port; then the subset's fields where set, replaced by the subset's port-level settings for the port.
    /// </summary>
    internal static (ClientTlsSettings? Tls, ConnectionPoolSettings? Pool) EffectivePolicy(TrafficPolicy? top, TrafficPolicy? subset, int port)
    {
        var tls = top?.Tls;
        var pool = top?.ConnectionPool;
        if (PortLevel(top, port) is { } topPort)
        {
            tls = topPort.Tls;
            pool = topPort.ConnectionPool;
        }

        if (subset is not null)
        {
            tls = subset.Tls ?? tls;
            pool = subset.ConnectionPool ?? pool;
            if (PortLevel(subset, port) is { } subsetPort)
            {
                tls = subsetPort.Tls;
                pool = subsetPort.ConnectionPool;
            }
        }

        return (tls, pool);
    }

    /// <summary>
    /// <c>connectionPool.http.http1MaxPendingRequests</c> (Envoy's circuit breaker <c>max_pending_requests</c>) as the
    /// cluster's cap on connection attempts in flight; 0 or absent leaves the proxy's default.
    /// </summary>
    private static int? MaxPendingConnects(ConnectionPoolSettings? pool) =>
        pool?.Http?.Http1MaxPendingRequests is > 0 and var pending ? (int)Math.Min(pending, int.MaxValue) : null;

    private static PortTrafficPolicy? PortLevel(TrafficPolicy? policy, int port)
    {
        foreach (var setting in policy?.PortLevelSettings ?? [])
        {
            if (setting.Port?.Number == port)
            {
                return setting;
            }
        }

        return null;
    }

    private Cluster? Build(MeshService service, MeshPort port, Subset? subset, MergedDestinationRule? rule)
    {
        var name = ClusterName.Outbound(port.Number, subset?.Name ?? "", service.Hostname);
        var (tlsSettings, pool) = EffectivePolicy(rule?.TrafficPolicy, subset?.TrafficPolicy, port.Number);
        var connectTimeout = pool?.Tcp?.ConnectTimeout;
        var workloads = service.Selector is { Count: > 0 }
            ? context.Services.Workloads(service.Namespace, service.Selector, subset?.Labels)
            : null;

        ClusterDiscovery discovery;
        List<Endpoint> endpoints;
        if (workloads is not null || service.IsKubernetes)
        {
            discovery = ClusterDiscovery.Eds;
            endpoints = [];
            foreach (var workload in workloads ?? [])
            {
                endpoints.Add(new Endpoint { Address = workload.Address, Port = port.TargetPort });
            }
        }
        else
        {
            endpoints = EntryEndpoints(service, port, subset);
            switch (service.Resolution)
            {
                case ServiceEntryResolution.Dns or ServiceEntryResolution.DnsRoundRobin:
                    if (service.Endpoints.Count == 0)
                    {
                        if (service.IsWildcard)
                        {
                            // "DNS resolution cannot be used for wildcard hosts": nothing to resolve.
                            return null;
                        }

                        endpoints = [new Endpoint { Address = service.Hostname, Port = port.TargetPort }];
                    }

                    discovery = endpoints.Count == 0 ? ClusterDiscovery.Eds
                        : service.Resolution == ServiceEntryResolution.Dns ? ClusterDiscovery.StrictDns : ClusterDiscovery.LogicalDns;
                    if (discovery == ClusterDiscovery.LogicalDns)
                    {
                        endpoints = [endpoints[0]];
                    }

                    break;
                case ServiceEntryResolution.Static:
                    endpoints.RemoveAll(e => !IPAddress.TryParse(e.Address, out _));
                    discovery = ClusterDiscovery.Static;
                    break;
                case ServiceEntryResolution.None when !context.IsGateway:
                    endpoints = [];
                    discovery = ClusterDiscovery.OriginalDestination;
                    break;
                case ServiceEntryResolution.None:
                    // "Gateways cannot use passthrough clusters" (istio/istio cluster.go convertResolution): EDS instead.
                    endpoints.RemoveAll(e => !IPAddress.TryParse(e.Address, out _));
                    discovery = ClusterDiscovery.Eds;
                    break;
                default:
                    // DYNAMIC_DNS needs a dynamic forward proxy, which Meshgate's proxy does not have.
                    return null;
            }
        }

        var tls = UpstreamTls(tlsSettings, service, workloads, out var usable);
        if (!usable)
        {
            return null;
        }

        return new Cluster
        {
            Name = name,
            Discovery = discovery,
            Endpoints = [.. endpoints],
            ConnectTimeout = connectTimeout is not null && Durations.TryParse(connectTimeout, out var timeout) && timeout > TimeSpan.Zero ? timeout : null,
            MaxPendingConnects = MaxPendingConnects(pool),
            Tls = tls,

            // Istio's setH2Options: HTTP2, GRPC and GRPC-WEB ports are HTTP/2 to the upstream.
            Http2 = port.Protocol is PortProtocol.Http2 or PortProtocol.Grpc,
        };
    }

    /// <summary>A ServiceEntry's own endpoints that the subset's labels pick, on the port's name (else its target port).</summary>
    private static List<Endpoint> EntryEndpoints(MeshService service, MeshPort port, Subset? subset)
    {
        var endpoints = new List<Endpoint>();
        foreach (var entry in service.Endpoints)
        {
            if (entry.Address is not { Length: > 0 } address || address.StartsWith("unix://", StringComparison.Ordinal)
                || !new Workload("", "", entry.Labels ?? [], "", "").Matches(subset?.Labels))
            {
                continue;
            }

            var target = entry.Ports is { } ports && ports.TryGetValue(port.Name, out var p) ? (int)p : port.TargetPort;
            endpoints.Add(new Endpoint { Address = address, Port = target, Weight = (int)Math.Max(1, entry.Weight ?? 1) });
        }

        return endpoints;
    }

    /// <summary>
    /// DestinationRule <c>tls</c> as the proxy originates it. <paramref name="usable"/> is false when the mode needs a
    /// client certificate Meshgate cannot find (MUTUAL without a readable <c>credentialName</c>): Istio's cluster would
    /// never warm, so the cluster is left out and routes to it fail closed.
    /// </summary>
    private UpstreamTls? UpstreamTls(ClientTlsSettings? settings, MeshService service, List<Workload>? workloads, out bool usable)
    {
        usable = true;
        if (settings?.Mode is not { } mode)
        {
            return MeshTunnel(service, workloads);
        }

        if (mode == ClientTlsMode.Disable)
        {
            return null; // said explicitly: plaintext, even to a gateway (meshgate analyze reports the hop, MG0016)
        }

        var sans = settings.SubjectAltNames is { Count: > 0 } given ? given : null;
        switch (mode)
        {
            case ClientTlsMode.IstioMutual:
                return new UpstreamTls
                {
                    Mode = TlsMode.IstioMutual,
                    Sni = UsableSni(settings.Sni),
                    SubjectAltNames = [.. sans ?? Identities(service, workloads)],
                };
            case ClientTlsMode.Simple:
                {
                    var ca = settings.CredentialName is { } credential ? context.Secrets.Resolve(credential).Ca : null;
                    return new UpstreamTls
                    {
                        Mode = TlsMode.Simple,
                        // Istio's auto SNI sends the request's host; the service host is what routes to this cluster.
                        Sni = UsableSni(settings.Sni) ?? (service.IsWildcard ? null : service.Hostname),
                        SubjectAltNames = [.. sans ?? []],
                        CaSecret = ca,
                    };
                }

            default:
                {
                    var (certificate, ca) = settings.CredentialName is { } credential ? context.Secrets.Resolve(credential) : (null, null);
                    if (certificate is null)
                    {
                        usable = false;
                        return null;
                    }

                    return new UpstreamTls
                    {
                        Mode = TlsMode.Mutual,
                        Sni = UsableSni(settings.Sni) ?? (service.IsWildcard ? null : service.Hostname),
                        SubjectAltNames = [.. sans ?? []],
                        CertificateSecret = certificate,
                        CaSecret = ca,
                    };
                }
        }
    }

    /// <summary>An SNI the proxy can send (a DNS name); anything else is not sent.</summary>
    private static string? UsableSni(string? sni) => sni is not null && Names.CheckFqdn(sni) is null ? sni : null;

    /// <summary>The SPIFFE identities the service's workloads run as (its ServiceEntry's subjectAltNames when it lists them).</summary>
    /// <summary>
    /// Identity on every hop (docs/identity.md): with no TLS set for it, a sidecar's traffic to Meshgate gateways is
    /// wrapped in the mesh's mutual TLS, marked so the gateway unwraps it and handles what is inside as it would the
    /// plaintext (an application's own TLS stays end to end). Istio's auto mTLS, extended to gateways, which Istio leaves
    /// in plaintext. Only when every endpoint is a Meshgate gateway; DestinationRule <c>tls.mode: DISABLE</c> opts out.
    /// </summary>
    private UpstreamTls? MeshTunnel(MeshService service, List<Workload>? workloads)
    {
        if (context.IsGateway || !context.Node.HasWorkloadCertificate || workloads is not { Count: > 0 })
        {
            return null; // only a sidecar that has a certificate itself can wrap
        }

        foreach (var workload in workloads)
        {
            if (!workload.IsMeshGateway)
            {
                return null;
            }
        }

        return new UpstreamTls { Mode = TlsMode.IstioMutual, Tunnel = true, SubjectAltNames = [.. Identities(service, workloads)] };
    }

    private List<string> Identities(MeshService service, List<Workload>? workloads)
    {
        if (service.SubjectAltNames.Count > 0)
        {
            return [.. service.SubjectAltNames];
        }

        var identities = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var workload in workloads ?? [])
        {
            identities.Add(context.Identity(workload.Namespace, workload.ServiceAccount));
        }

        foreach (var entry in service.Endpoints)
        {
            if (entry.ServiceAccount is { Length: > 0 } account)
            {
                identities.Add(context.Identity(service.Namespace, account));
            }
        }

        return [.. identities];
    }
}

using Meshgate.Core.Resources;
using Meshgate.Core.Resources.GatewayApi;
using Meshgate.Core.Resources.Istio;

using IstioHttpRoute = Meshgate.Core.Resources.Istio.HttpRoute;

namespace Meshgate.Core.Translation;

/// <summary>
/// Gateway API lowered to the Istio shapes the builders already read, in one step (as istio/istio
/// <c>pilot/pkg/config/kube/gateway/conversion.go</c> does): a Gateway becomes Istio Gateway servers for the workload
/// deployed for it (label <c>gateway.networking.k8s.io/gateway-name</c>, in its namespace); an HTTPRoute or TLSRoute
/// becomes a VirtualService per parent. A parent of kind ServiceEntry or Service binds the route to <c>mesh</c> for
/// that registry host (istio/istio PR #48301); a parent Gateway binds it to that Gateway. Rules are named
/// <c>&lt;namespace&gt;.&lt;route&gt;.&lt;rule index&gt;</c>, Istio's Gateway API route names.
/// </summary>
internal static class GatewayApiLowering
{
    public const string GatewayNameLabel = "gateway.networking.k8s.io/gateway-name";
    private const string IstioGroup = "networking.istio.io";

    /// <summary>
    /// The listener protocols Meshgate programs. Gateway API allows others (UDP, HBONE, <c>example.com/proto</c>); a
    /// listener with one is stored but not programmed: its status says Accepted False, reason UnsupportedProtocol
    /// (Gateway API <c>ProtocolType</c>), and analyze reports it (MG0019).
    /// </summary>
    public static readonly IReadOnlyList<string> ImplementedProtocols = ["HTTP", "HTTPS", "TLS", "TCP"];

    /// <summary>
    /// Whether Meshgate programs a listener of <paramref name="protocol"/>. Exact, as Istio's <c>listenerProtocolToIstio</c>
    /// and the API's own CEL rules compare it: <c>http</c> is not <c>HTTP</c> (the status hints at the upper-case name).
    /// </summary>
    public static bool Implements(string? protocol) => protocol is not null && ImplementedProtocols.Contains(protocol);

    /// <summary>The gateway key a lowered route binds to: never equal to an Istio Gateway's <c>ns/name</c>.</summary>
    public static string GatewayKey(string ns, string name) => $"{ResourceTypes.GatewayApiGroup}:{ns}/{name}";

    /// <summary>The servers of the Gateway API Gateways deployed as this workload, with their keys.</summary>
    public static IEnumerable<(string Key, string Name, string Namespace, Server Server)> Servers(Registry registry, ProxyNode node)
    {
        if (!node.Labels.TryGetValue(GatewayNameLabel, out var gatewayName))
        {
            yield break;
        }

        foreach (var resource in registry.Of(ResourceTypes.KubernetesGateway))
        {
            if (resource.Namespace != node.Namespace || resource.Name != gatewayName
                || ParsedSpecs.Spec<GatewayApiGatewaySpec>(resource) is not { } spec)
            {
                continue;
            }

            foreach (var listener in spec.Listeners ?? [])
            {
                // A protocol Meshgate does not implement would otherwise be served as opaque TCP: skip the listener.
                if (listener.Port is not { } port || !Implements(listener.Protocol))
                {
                    continue;
                }

                var from = listener.AllowedRoutes?.Namespaces?.From ?? "Same";
                var ns = from == "All" ? "*" : resource.Namespace;
                var host = listener.Hostname is { Length: > 0 } h ? h : "*";
                yield return (GatewayKey(resource.Namespace, resource.Name), resource.Name, resource.Namespace, new Server
                {
                    Name = listener.Name,
                    Port = new Port { Number = port, Name = listener.Name, Protocol = listener.Protocol },
                    Hosts = [$"{ns}/{host}"],
                    Tls = ServerTls(listener.Tls),
                });
            }
        }
    }

    private static ServerTlsSettings? ServerTls(GatewayTlsConfig? tls)
    {
        if (tls is null)
        {
            return null;
        }

        if (tls.Mode == "Passthrough")
        {
            return new ServerTlsSettings { Mode = ServerTlsMode.Passthrough };
        }

        // Istio's option for the sidecar → gateway hop (the egress TLS origination page).
        if (tls.Options is { } options && options.TryGetValue("gateway.istio.io/tls-terminate-mode", out var mode))
        {
            return mode == "ISTIO_MUTUAL" ? new ServerTlsSettings { Mode = ServerTlsMode.IstioMutual }
                : new ServerTlsSettings { Mode = ServerTlsMode.Mutual, CredentialName = tls.CertificateRefs?.FirstOrDefault()?.Name };
        }

        return new ServerTlsSettings { Mode = ServerTlsMode.Simple, CredentialName = tls.CertificateRefs?.FirstOrDefault()?.Name };
    }

    /// <summary>The VirtualServices the HTTPRoutes and TLSRoutes lower to, one per route and parent.</summary>
    public static IEnumerable<(Resource Resource, BoundVirtualService Vs)> VirtualServices(Registry registry)
    {
        foreach (var resource in registry.Of(ResourceTypes.HttpRoute))
        {
            if (ParsedSpecs.Spec<HttpRouteSpec>(resource) is not { } spec)
            {
                continue;
            }

            foreach (var parent in spec.ParentRefs ?? [])
            {
                if (Parent(registry, resource, parent, spec.Hostnames) is { } bound)
                {
                    yield return (resource, Bound(resource, bound, new VirtualServiceSpec { Http = HttpRules(resource, spec, parent.Port) }));
                }
            }
        }

        foreach (var resource in registry.Of(ResourceTypes.TlsRoute))
        {
            if (ParsedSpecs.Spec<TlsRouteSpec>(resource) is not { } spec)
            {
                continue;
            }

            foreach (var parent in spec.ParentRefs ?? [])
            {
                if (Parent(registry, resource, parent, spec.Hostnames) is { } bound)
                {
                    yield return (resource, Bound(resource, bound, new VirtualServiceSpec { Tls = TlsRules(resource, spec, bound.Hosts, parent.Port) }));
                }
            }
        }
    }

    private static BoundVirtualService Bound(Resource resource, (List<string> Hosts, string Gateway) bound, VirtualServiceSpec spec) => new()
    {
        Name = resource.Name,
        Namespace = resource.Namespace,
        Spec = spec with { Hosts = bound.Hosts, Gateways = [bound.Gateway] },
        Hosts = bound.Hosts,
        Gateways = [bound.Gateway],
        ExportTo = ExportTo.From(null, resource.Namespace),
    };

    /// <summary>The hosts and gateway key a parent reference binds the route to, or null when it cannot attach.</summary>
    private static (List<string> Hosts, string Gateway)? Parent(Registry registry, Resource route, ParentReference parent, List<string>? hostnames)
    {
        var ns = parent.Namespace ?? route.Namespace;
        var name = parent.Name ?? "";
        switch (parent.Group ?? ResourceTypes.GatewayApiGroup, parent.Kind ?? "Gateway")
        {
            case (IstioGroup, "ServiceEntry"):
                return registry.Get(new ObjectKey(ResourceTypes.ServiceEntry, ns, name)) is { } entry
                    && ParsedSpecs.Spec<ServiceEntrySpec>(entry)?.Hosts is { Count: > 0 } seHosts
                    ? ([.. seHosts.Select(h => h.ToLowerInvariant())], VirtualServiceIndex.Mesh)
                    : null;
            case ("" or "core", "Service"):
                return ([HostNames.ServiceHost(name, ns)], VirtualServiceIndex.Mesh);
            case (ResourceTypes.GatewayApiGroup, "Gateway"):
                if (registry.Get(new ObjectKey(ResourceTypes.KubernetesGateway, ns, name)) is not { } gateway
                    || ParsedSpecs.Spec<GatewayApiGatewaySpec>(gateway) is not { } spec || !Allowed(spec, parent, ns, route.Namespace))
                {
                    return null;
                }

                return (hostnames is { Count: > 0 } ? [.. hostnames.Select(h => h.ToLowerInvariant())] : ["*"], GatewayKey(ns, name));
            default:
                return null;
        }
    }

    /// <summary><c>allowedRoutes.namespaces.from</c>: Same (the default) admits routes of the Gateway's namespace, All any.</summary>
    private static bool Allowed(GatewayApiGatewaySpec gateway, ParentReference parent, string gatewayNamespace, string routeNamespace)
    {
        foreach (var listener in gateway.Listeners ?? [])
        {
            if ((parent.SectionName is null || parent.SectionName == listener.Name) && (parent.Port is null || parent.Port == listener.Port)
                && ((listener.AllowedRoutes?.Namespaces?.From ?? "Same") == "All" || gatewayNamespace == routeNamespace))
            {
                return true;
            }
        }

        return false;
    }

    private static List<IstioHttpRoute> HttpRules(Resource resource, HttpRouteSpec spec, long? port)
    {
        var rules = new List<IstioHttpRoute>();
        var rulesSpec = spec.Rules is { Count: > 0 } given ? given : [new HttpRouteRule()];
        for (var i = 0; i < rulesSpec.Count; i++)
        {
            var rule = rulesSpec[i];
            var matches = new List<HttpMatchRequest>();
            foreach (var match in rule.Matches ?? [])
            {
                matches.Add(new HttpMatchRequest
                {
                    Uri = match.Path is { } path ? path.Type switch
                    {
                        "Exact" => new StringMatch { Exact = path.Value },
                        "RegularExpression" => new StringMatch { Regex = path.Value },
                        _ => path.Value is null or "/" ? null : new StringMatch { Prefix = path.Value },
                    } : null,
                    Headers = match.Headers?.ToDictionary(
                        h => h.Name!.ToLowerInvariant(),
                        h => h.Type == "RegularExpression" ? new StringMatch { Regex = h.Value } : new StringMatch { Exact = h.Value }),
                    QueryParams = match.QueryParams is { Count: > 0 } query ? query.ToDictionary(q => q.Name!, q => new StringMatch { Exact = q.Value }) : null,
                    Method = match.Method is { } method ? new StringMatch { Exact = method } : null,
                    Port = port,
                });
            }

            if (matches.Count == 0 && port is not null)
            {
                matches.Add(new HttpMatchRequest { Port = port });
            }

            var backends = rule.BackendRefs ?? [];
            rules.Add(new IstioHttpRoute
            {
                Name = $"{resource.Namespace}.{resource.Name}.{i}",
                Match = matches.Count == 0 ? null : matches,
                // A rule without backends answers 500 (Gateway API: HTTPRouteRule.backendRefs).
                DirectResponse = backends.Count == 0 ? new HttpDirectResponse { Status = 500 } : null,
                Route = backends.Count == 0 ? null : [.. backends.Select(b => new HttpRouteDestination
                {
                    Destination = Destination(b.Group, b.Kind, b.Name, b.Namespace, b.Port, resource.Namespace),
                    Weight = b.Weight ?? 1,
                })],
                Timeout = rule.Timeouts?.Request,
            });
        }

        return rules;
    }

    private static List<Resources.Istio.TlsRoute> TlsRules(Resource resource, TlsRouteSpec spec, List<string> hosts, long? port)
    {
        var rules = new List<Resources.Istio.TlsRoute>();
        foreach (var rule in spec.Rules ?? [])
        {
            rules.Add(new Resources.Istio.TlsRoute
            {
                Match = [new TlsMatchAttributes { SniHosts = hosts, Port = port }],
                Route = [.. (rule.BackendRefs ?? []).Select(b => new RouteDestination
                {
                    Destination = Destination(b.Group, b.Kind, b.Name, b.Namespace, b.Port, resource.Namespace),
                    Weight = b.Weight ?? 1,
                })],
            });
        }

        return rules;
    }

    /// <summary>A backendRef as a destination: a Service (<c>name.ns.svc.cluster.local</c>) or an Istio <c>Hostname</c>.</summary>
    private static Destination Destination(string? group, string? kind, string? name, string? ns, long? port, string routeNamespace) => new()
    {
        Host = group == IstioGroup && kind == "Hostname" ? name : HostNames.ServiceHost(name ?? "", ns ?? routeNamespace),
        Port = port is { } p ? new PortSelector { Number = p } : null,
    };
}

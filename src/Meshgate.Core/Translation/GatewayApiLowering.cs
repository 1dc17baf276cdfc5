using Meshgate.Core.Resources;
using Meshgate.Core.Resources.GatewayApi;
using Meshgate.Core.Resources.Istio;

using IstioHttpRoute = Meshgate.Core.Resources.Istio.HttpRoute;

namespace Meshgate.Core.Translation;

/// <summary>
/// Gateway API lowered to the Istio shapes the builders already read, in one step (as istio/istio
/// <c>pilot/pkg/config/kube/gateway/conversion.go</c> does): a Gateway becomes Istio Gateway servers for the workload
/// deployed for it (label <c>gateway.networking.k8s.io/gateway-name</c>, in its namespace); an HTTPRoute, TLSRoute or
/// TCPRoute becomes a VirtualService per parent. A parent of kind ServiceEntry or Service binds the route to <c>mesh</c> for
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

                var host = listener.Hostname is { Length: > 0 } h ? h : "*";
                yield return (GatewayKey(resource.Namespace, resource.Name), resource.Name, resource.Namespace, new Server
                {
                    Name = listener.Name,
                    Port = new Port { Number = port, Name = listener.Name, Protocol = listener.Protocol },
                    Hosts = [.. AdmittedNamespaces(registry, listener, resource.Namespace).Select(ns => $"{ns}/{host}")],
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

    /// <summary>The VirtualServices the HTTPRoutes, TLSRoutes and TCPRoutes lower to, one per route and parent.</summary>
    public static IEnumerable<(Resource Resource, BoundVirtualService Vs)> VirtualServices(Registry registry)
    {
        var backends = new GatewayApiBackends(registry);
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
                    yield return (resource, Bound(resource, bound, new VirtualServiceSpec { Http = HttpRules(resource, spec, parent.Port, backends) }));
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
                    yield return (resource, Bound(resource, bound, new VirtualServiceSpec { Tls = TlsRules(resource, spec, bound.Hosts, parent.Port, backends) }));
                }
            }
        }

        foreach (var resource in registry.Of(ResourceTypes.TcpRoute))
        {
            if (ParsedSpecs.Spec<TcpRouteSpec>(resource) is not { } spec)
            {
                continue;
            }

            foreach (var parent in spec.ParentRefs ?? [])
            {
                if (Parent(registry, resource, parent, null) is not { } bound
                    || TcpPorts(registry, resource, parent) is not { } ports)
                {
                    continue;
                }

                yield return (resource, Bound(resource, bound, new VirtualServiceSpec { Tcp = TcpRules(resource, spec, ports, backends) }));
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
                    || ParsedSpecs.Spec<GatewayApiGatewaySpec>(gateway) is not { } spec || !Allowed(registry, spec, parent, ns, route))
                {
                    return null;
                }

                return (hostnames is { Count: > 0 } ? [.. hostnames.Select(h => h.ToLowerInvariant())] : ["*"], GatewayKey(ns, name));
            default:
                return null;
        }
    }

    /// <summary>
    /// A listener the parent reference selects (sectionName, port) admits the route: its namespace by
    /// <c>allowedRoutes.namespaces</c>, its kind by <c>allowedRoutes.kinds</c> (else the listener protocol's kinds).
    /// </summary>
    private static bool Allowed(Registry registry, GatewayApiGatewaySpec gateway, ParentReference parent, string gatewayNamespace, Resource route)
    {
        foreach (var listener in gateway.Listeners ?? [])
        {
            if ((parent.SectionName is null || parent.SectionName == listener.Name) && (parent.Port is null || parent.Port == listener.Port)
                && AdmitsKind(listener, route.Type.Kind))
            {
                foreach (var ns in AdmittedNamespaces(registry, listener, gatewayNamespace))
                {
                    if (ns == "*" || ns == route.Namespace)
                    {
                        return true;
                    }
                }
            }
        }

        return false;
    }

    /// <summary>
    /// The listener takes routes of <paramref name="kind"/>: its protocol's kinds narrowed by <c>allowedRoutes.kinds</c>,
    /// the same list the status reports as its supportedKinds.
    /// </summary>
    private static bool AdmitsKind(Resources.GatewayApi.Listener listener, string kind)
    {
        foreach (var supported in GatewayStatus.ListenerEvaluation.SupportedKinds(listener, Implements(listener.Protocol)).Kinds)
        {
            if (supported.Kind == kind)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// The namespaces a listener's <c>allowedRoutes.namespaces</c> admits routes from (upstream's buildHostnameMatch, as
    /// the status controller reads it): <c>*</c> for All, the Gateway's for Same (the default), the namespaces whose
    /// labels the selector matches for Selector (<c>~</c>, which is no namespace, when none does; a Selector without a
    /// selector admits all, as upstream).
    /// </summary>
    internal static IEnumerable<string> AdmittedNamespaces(Registry registry, Resources.GatewayApi.Listener listener, string gatewayNamespace)
    {
        var from = listener.AllowedRoutes?.Namespaces;
        switch (from?.From ?? "Same")
        {
            case "All":
                return ["*"];
            case "Selector" when from!.Selector is { } selector:
                var matched = registry.Of(ResourceTypes.Namespace).Where(ns => LabelSelectors.Matches(selector, ns.Labels)).Select(ns => ns.Name).ToList();
                return matched.Count > 0 ? matched : ["~"];
            case "Selector":
                return ["*"];
            default:
                return [gatewayNamespace];
        }
    }

    private static List<IstioHttpRoute> HttpRules(Resource resource, HttpRouteSpec spec, long? port, GatewayApiBackends backends)
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
                    QueryParams = match.QueryParams is { Count: > 0 } query
                        ? query.ToDictionary(q => q.Name!, q => q.Type == "RegularExpression" ? new StringMatch { Regex = q.Value } : new StringMatch { Exact = q.Value })
                        : null,
                    Method = match.Method is { } method ? new StringMatch { Exact = method } : null,
                    Port = port,
                });
            }

            if (matches.Count == 0 && port is not null)
            {
                matches.Add(new HttpMatchRequest { Port = port });
            }

            rules.Add(HttpRule($"{resource.Namespace}.{resource.Name}.{i}", matches.Count == 0 ? null : matches, rule, resource, backends));
        }

        return rules;
    }

    /// <summary>
    /// One rule's actions, as Istio's <c>convertHTTPRoute</c>: its filters, then its backends. Answers 500 (Gateway API:
    /// HTTPRouteRule.backendRefs) when no backend has weight and no filter redirects, when none of its backends is
    /// valid, or when a filter cannot be carried out. Invalid backends among valid ones keep their share, which answers
    /// 500: Istio sends it to a cluster that does not exist and Envoy answers 500 for it
    /// (cluster_not_found_response_code); here the destination is <see cref="GatewayApiBackends.InvalidHost"/>.
    /// </summary>
    private static IstioHttpRoute HttpRule(string name, List<HttpMatchRequest>? matches, HttpRouteRule rule, Resource resource, GatewayApiBackends backends)
    {
        var failed = new IstioHttpRoute { Name = name, Match = matches, DirectResponse = new HttpDirectResponse { Status = 500 } };
        var filters = GatewayApiFilters.Rule(rule.Filters, resource, backends);
        if (filters.FailClosed)
        {
            return failed;
        }

        var lowered = failed with
        {
            DirectResponse = null,
            Headers = filters.Headers,
            Rewrite = filters.Rewrite,
            Mirrors = filters.Mirrors,
            CorsPolicy = filters.Cors,
            Timeout = rule.Timeouts?.Request,
        };
        if (filters.Redirect is { } redirect)
        {
            return lowered with { Redirect = redirect };
        }

        var destinations = new List<HttpRouteDestination>();
        var valid = 0;
        foreach (var backend in rule.BackendRefs ?? [])
        {
            // Weight 0 is never sent traffic (Istio drops it); the default weight is 1.
            var weight = backend.Weight ?? 1;
            if (weight <= 0)
            {
                continue;
            }

            var (headers, usable) = GatewayApiFilters.Backend(backend.Filters);
            if (!usable)
            {
                return failed;
            }

            if (backends.Resolve(resource, backend.Group, backend.Kind, backend.Name, backend.Namespace, backend.Port) is { } destination)
            {
                destinations.Add(new HttpRouteDestination { Destination = destination, Weight = weight, Headers = headers });
                valid++;
            }
            else
            {
                destinations.Add(new HttpRouteDestination { Destination = new Destination { Host = GatewayApiBackends.InvalidHost }, Weight = weight });
            }
        }

        return valid == 0 ? failed : lowered with { Route = destinations };
    }

    /// <summary>
    /// TLSRoute rules. A rule with no valid backend of weight above 0 keeps its match with no destination, so its SNI
    /// goes to BlackHoleCluster and the connection is closed. Leaving the rule out instead would let another chain
    /// take the SNI (on a sidecar, the service host's own cluster: around the egress gateway). Istio points such a
    /// rule at a destination that does not exist for the same effect.
    /// </summary>
    private static List<Resources.Istio.TlsRoute> TlsRules(Resource resource, TlsRouteSpec spec, List<string> hosts, long? port, GatewayApiBackends backends)
    {
        var rules = new List<Resources.Istio.TlsRoute>();
        foreach (var rule in spec.Rules ?? [])
        {
            var destinations = new List<RouteDestination>();
            foreach (var backend in rule.BackendRefs ?? [])
            {
                if ((backend.Weight ?? 1) > 0
                    && backends.Resolve(resource, backend.Group, backend.Kind, backend.Name, backend.Namespace, backend.Port) is { } destination)
                {
                    destinations.Add(new RouteDestination { Destination = destination, Weight = backend.Weight ?? 1 });
                }
            }

            rules.Add(new Resources.Istio.TlsRoute
            {
                Match = [new TlsMatchAttributes { SniHosts = hosts, Port = port }],
                Route = destinations,
            });
        }

        return rules;
    }

    /// <summary>
    /// The ports a TCPRoute's parent matches on: its <c>port</c>, else, for a Gateway, the ports of the TCP listeners it
    /// names (by <c>sectionName</c>, else all of them); null when a Gateway parent has no TCP listener to attach to.
    /// An empty list (a mesh parent with no port) matches every port of the parent's hosts.
    /// </summary>
    private static List<long>? TcpPorts(Registry registry, Resource route, ParentReference parent)
    {
        if ((parent.Kind ?? "Gateway") != "Gateway")
        {
            return parent.Port is { } meshPort ? [meshPort] : [];
        }

        var ns = parent.Namespace ?? route.Namespace;
        if (registry.Get(new ObjectKey(ResourceTypes.KubernetesGateway, ns, parent.Name ?? "")) is not { } gateway
            || ParsedSpecs.Spec<GatewayApiGatewaySpec>(gateway) is not { } spec)
        {
            return null;
        }

        var ports = new List<long>();
        foreach (var listener in spec.Listeners ?? [])
        {
            if (listener.Port is { } port && AdmitsKind(listener, "TCPRoute")
                && (parent.SectionName is null || parent.SectionName == listener.Name)
                && (parent.Port is null || parent.Port == port)
                && AdmittedNamespaces(registry, listener, ns).Any(admitted => admitted == "*" || admitted == route.Namespace)
                && !ports.Contains(port))
            {
                ports.Add(port);
            }
        }

        return ports.Count > 0 ? ports : null;
    }

    /// <summary>
    /// TCPRoute rules, each matching the parent's ports. As for TLSRoute, a rule with no valid backend of weight above
    /// 0 keeps its match with no destination, so its connections go to BlackHoleCluster and are closed rather than
    /// taken by another chain.
    /// </summary>
    private static List<TcpRoute> TcpRules(Resource resource, TcpRouteSpec spec, List<long> ports, GatewayApiBackends backends)
    {
        var rules = new List<TcpRoute>();
        foreach (var rule in spec.Rules ?? [])
        {
            var destinations = new List<RouteDestination>();
            foreach (var backend in rule.BackendRefs ?? [])
            {
                if ((backend.Weight ?? 1) > 0
                    && backends.Resolve(resource, backend.Group, backend.Kind, backend.Name, backend.Namespace, backend.Port) is { } destination)
                {
                    destinations.Add(new RouteDestination { Destination = destination, Weight = backend.Weight ?? 1 });
                }
            }

            rules.Add(new TcpRoute
            {
                Match = ports.Count > 0 ? [.. ports.Select(p => new L4MatchAttributes { Port = p })] : null,
                Route = destinations,
            });
        }

        return rules;
    }
}

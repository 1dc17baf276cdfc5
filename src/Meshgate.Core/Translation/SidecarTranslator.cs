using System.Globalization;

using Meshgate.Core.ProxyConfiguration;

using Route = Meshgate.Core.ProxyConfiguration.Route;

namespace Meshgate.Core.Translation;

/// <summary>
/// A sidecar's outbound configuration, shaped as Istio's (istio/istio <c>pilot/pkg/networking/core/listener.go</c>,
/// <c>httproute.go</c>): the capture listener <c>virtualOutbound</c> on 15001, one virtual listener per service port
/// (<c>0.0.0.0_&lt;port&gt;</c>, not bound), HTTP route tables named by port, and the catch-all that
/// <c>outboundTrafficPolicy</c> picks (<c>allow_any</c> → PassthroughCluster, <c>block_all</c> → BlackHoleCluster).
/// </summary>
internal sealed class SidecarTranslator(TranslationContext context)
{
    public const int CapturePort = 15001;

    public ProxyConfig Translate(ProxyConfig shell)
    {
        var node = context.Node;
        var services = context.Services.VisibleTo(node.Namespace);
        var clusters = new ClusterBuilder(context).Build(services);
        var routes = new RouteTranslator(context, clusters);
        var allowAny = context.Mesh.OutboundTrafficPolicy == OutboundTrafficPolicyMode.AllowAny;
        var fallback = allowAny ? Cluster.Passthrough : Cluster.BlackHole;

        // Every port of every visible service gets a listener of one protocol (Envoy's sniffs each connection and keeps
        // both; Meshgate's listener is one kind): HTTP when any service on the port is HTTP, since plaintext requests
        // need its route table (a Gateway API gateway's Service declares its HTTPS listener port, e.g. 80, beside a
        // ServiceEntry's HTTP port 80: Istio's TLS-origination page); otherwise the first service (by host) decides.
        var kinds = new Dictionary<int, PortKind>();
        foreach (var service in services)
        {
            foreach (var port in service.Ports)
            {
                if (port.Number != CapturePort && (!kinds.TryGetValue(port.Number, out var kind) || (port.Kind == PortKind.Http && kind != PortKind.Http)))
                {
                    kinds[port.Number] = kinds.ContainsKey(port.Number) ? PortKind.Http : port.Kind;
                }
            }
        }

        var ports = new SortedDictionary<int, (PortKind Kind, List<MeshService> Services)>();
        foreach (var service in services)
        {
            foreach (var port in service.Ports)
            {
                if (port.Number == CapturePort)
                {
                    continue; // the capture listener owns it
                }

                if (!ports.TryGetValue(port.Number, out var entry))
                {
                    entry = (kinds[port.Number], []);
                    ports[port.Number] = entry;
                }

                if (port.Kind == entry.Kind)
                {
                    entry.Services.Add(service);
                }
            }
        }

        var listeners = new List<Listener> { CaptureListener(fallback) };
        var routeTables = new List<RouteTable>();
        foreach (var (port, (kind, portServices)) in ports)
        {
            switch (kind)
            {
                case PortKind.Http:
                    var table = HttpRouteTable(port, portServices, routes, allowAny);
                    routeTables.Add(table);
                    listeners.Add(Virtual("0.0.0.0", port, ListenerProtocol.Http) with { FilterChains = [new FilterChain { RouteTable = table.Name }] });
                    break;
                case PortKind.Tls:
                    listeners.Add(TlsListener(port, portServices, routes, fallback));
                    break;
                default:
                    listeners.AddRange(TcpListeners(port, portServices, routes, clusters));
                    break;
            }
        }

        return shell with
        {
            Listeners = [.. listeners],
            RouteTables = [.. routeTables],
            Clusters = [.. clusters.Values],
            Secrets = [.. context.Secrets.Used],
        };
    }

    private Listener CaptureListener(string fallback) => context.Node.Capture == CaptureMode.Explicit
        ? new Listener
        {
            Name = "virtualOutbound",
            Address = "0.0.0.0",
            Port = CapturePort,
            Protocol = ListenerProtocol.Http,
            ExplicitHttpProxy = true,
            DefaultFilterChain = new FilterChain { Name = fallback, Cluster = fallback },
        }
        : new Listener
        {
            Name = "virtualOutbound",
            Address = "0.0.0.0",
            Port = CapturePort,
            Protocol = ListenerProtocol.Tcp,
            UseOriginalDestination = true,
            DefaultFilterChain = new FilterChain { Name = fallback, Cluster = fallback },
        };

    private static Listener Virtual(string address, int port, ListenerProtocol protocol) => new()
    {
        Name = $"{address}_{port.ToString(CultureInfo.InvariantCulture)}",
        Address = address,
        Port = port,
        Protocol = protocol,
        BindToPort = false,
    };

    /// <summary>
    /// Route table <c>&lt;port&gt;</c>: a virtual host <c>host:port</c> per service (routes from its mesh
    /// VirtualService, else the default route), one per VirtualService host outside the registry, then the catch-all.
    /// </summary>
    private RouteTable HttpRouteTable(int port, List<MeshService> services, RouteTranslator routes, bool allowAny)
    {
        var node = context.Node;
        var portText = port.ToString(CultureInfo.InvariantCulture);
        var hosts = new List<VirtualHost>();
        var domains = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var service in services)
        {
            List<Route>? vsRoutes = null;
            if (context.VirtualServices.MeshRuleFor(service.Hostname, node.Namespace) is { } vs)
            {
                vsRoutes = routes.HttpRoutes(vs, VirtualServiceIndex.Mesh, port);
            }

            // A VirtualService with no rule for this port leaves the service its default route (Istio skips it).
            var serviceRoutes = vsRoutes is { Count: > 0 } ? vsRoutes : [routes.DefaultRoute(ClusterName.Outbound(port, "", service.Hostname))];
            AddHost(hosts, domains, names, $"{service.Hostname}:{portText}", ServiceDomains(service, portText), serviceRoutes);
        }

        // VirtualService hosts the registry does not know still get routes (Istio's "virtual service hosts"). On port 80
        // so do hosts of services without port 80: Istio builds a sidecar's table from the services on the listener's
        // port only, so such a host counts as unknown, and its "HACK" builds port 80's routes for a VirtualService none
        // of whose services is HTTP on port 80 (route.BuildSidecarVirtualHostWrapper). That is how the TLS-origination
        // page's curl http://my-nginx.mesh-external.svc.cluster.local (a Service on 443 only) reaches its gateway.
        foreach (var vs in context.VirtualServices.BoundTo(VirtualServiceIndex.Mesh))
        {
            if (!vs.ExportTo.VisibleTo(node.Namespace))
            {
                continue;
            }

            foreach (var host in vs.Hosts)
            {
                if (host == "*" || (context.Services.Find(host, node.Namespace) is { } known && (port != 80 || HasPort(known, port)))
                    || context.VirtualServices.MeshRuleFor(host, node.Namespace) != vs)
                {
                    continue;
                }

                var vsRoutes = routes.HttpRoutes(vs, VirtualServiceIndex.Mesh, port);
                if (vsRoutes.Count > 0)
                {
                    AddHost(hosts, domains, names, $"{host}:{portText}", [host, $"{host}:{portText}"], vsRoutes);
                }
            }
        }

        hosts.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        var catchAll = allowAny
            ? new VirtualHost { Name = "allow_any", Domains = ["*"], Routes = [new Route { Name = "allow_any", Forward = new ForwardAction { Clusters = [new WeightedCluster { Name = Cluster.Passthrough, Weight = 100 }] } }] }
            : new VirtualHost { Name = "block_all", Domains = ["*"], Routes = [new Route { Name = "block_all", Forward = new ForwardAction { Clusters = [new WeightedCluster { Name = Cluster.BlackHole, Weight = 100 }] } }] };
        if (!domains.Contains("*"))
        {
            hosts.Add(catchAll);
        }

        return new RouteTable { Name = portText, VirtualHosts = [.. hosts] };
    }

    private static bool HasPort(MeshService service, int port)
    {
        foreach (var candidate in service.Ports)
        {
            if (candidate.Number == port)
            {
                return true;
            }
        }

        return false;
    }

    private static void AddHost(List<VirtualHost> hosts, HashSet<string> domains, HashSet<string> names, string name, List<string> candidates, List<Route> routes)
    {
        var own = new List<string>();
        foreach (var domain in candidates)
        {
            if (domains.Add(domain))
            {
                own.Add(domain);
            }
        }

        if (own.Count > 0 && names.Add(name))
        {
            hosts.Add(new VirtualHost { Name = name, Domains = [.. own], Routes = [.. routes] });
        }
    }

    /// <summary>
    /// The names a client may use for the service: the host and <c>host:port</c>; for a Kubernetes Service also
    /// <c>name.ns.svc</c> and <c>name.ns</c>, and the bare name from its own namespace (Istio's
    /// <c>generateVirtualHostDomains</c>).
    /// </summary>
    private List<string> ServiceDomains(MeshService service, string port)
    {
        var domains = new List<string> { service.Hostname, $"{service.Hostname}:{port}" };
        if (service.IsKubernetes)
        {
            var svc = $"{service.ResourceName}.{service.Namespace}.svc";
            var ns = $"{service.ResourceName}.{service.Namespace}";
            domains.AddRange([svc, $"{svc}:{port}", ns, $"{ns}:{port}"]);
            if (service.Namespace == context.Node.Namespace)
            {
                domains.AddRange([service.ResourceName, $"{service.ResourceName}:{port}"]);
            }
        }

        return domains;
    }

    /// <summary>
    /// A TLS/HTTPS port: chains by SNI from the mesh VirtualServices' <c>tls</c> rules for this port, then one per
    /// service host → its cluster, then the catch-all (PassthroughCluster or BlackHoleCluster).
    /// </summary>
    private Listener TlsListener(int port, List<MeshService> services, RouteTranslator routes, string fallback)
    {
        var node = context.Node;
        var chains = new List<FilterChain>();
        var claimed = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var seen = new HashSet<BoundVirtualService>();
        foreach (var service in services)
        {
            if (context.VirtualServices.MeshRuleFor(service.Hostname, node.Namespace) is { } vs && seen.Add(vs))
            {
                foreach (var (sniHosts, cluster) in routes.TlsRoutes(vs, VirtualServiceIndex.Mesh, port))
                {
                    AddChain(chains, claimed, sniHosts, cluster);
                }
            }
        }

        foreach (var service in services)
        {
            AddChain(chains, claimed, [service.Hostname], routes.ClusterFor(new Resources.Istio.Destination { Host = service.Hostname, Port = new Resources.Istio.PortSelector { Number = port } }, service.Namespace, port));
        }

        chains.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        return Virtual("0.0.0.0", port, ListenerProtocol.Tls) with
        {
            FilterChains = [.. chains],
            DefaultFilterChain = new FilterChain { Name = fallback, Cluster = fallback },
        };
    }

    private static void AddChain(List<FilterChain> chains, HashSet<string> claimed, IReadOnlyList<string> sniHosts, string cluster)
    {
        var names = new List<string>();
        foreach (var sni in sniHosts)
        {
            if (sni != "*" && claimed.Add(sni))
            {
                names.Add(sni.ToLowerInvariant());
            }
        }

        if (names.Count > 0)
        {
            chains.Add(new FilterChain { Name = names[0], ServerNames = [.. names], Cluster = cluster });
        }
    }

    /// <summary>
    /// A TCP port: without VIPs every connection to the port goes one way, so the first service without
    /// <c>addresses</c> owns <c>0.0.0.0_&lt;port&gt;</c> (its mesh VirtualService's <c>tcp</c> rule, else its cluster);
    /// services with IP <c>addresses</c> get exact listeners <c>&lt;ip&gt;_&lt;port&gt;</c>.
    /// </summary>
    private IEnumerable<Listener> TcpListeners(int port, List<MeshService> services, RouteTranslator routes, IReadOnlyDictionary<string, Cluster> clusters)
    {
        var node = context.Node;
        var bound = new HashSet<string>(StringComparer.Ordinal);
        foreach (var service in services)
        {
            var cluster = context.VirtualServices.MeshRuleFor(service.Hostname, node.Namespace) is { } vs
                && routes.TcpRoute(vs, VirtualServiceIndex.Mesh, port) is { } routed
                    ? routed
                    : clusters.ContainsKey(ClusterName.Outbound(port, "", service.Hostname)) ? ClusterName.Outbound(port, "", service.Hostname) : Cluster.BlackHole;
            var addresses = service.Addresses.Count > 0 ? service.Addresses : ["0.0.0.0"];
            foreach (var address in addresses)
            {
                if (bound.Add(address))
                {
                    yield return Virtual(address, port, ListenerProtocol.Tcp) with { FilterChains = [new FilterChain { Name = service.Hostname, Cluster = cluster }] };
                }
            }
        }
    }
}

using System.Globalization;
using System.Net;

using Meshgate.Core.ProxyConfiguration;
using Meshgate.Core.Resources;
using Meshgate.Core.Resources.Istio;

using Route = Meshgate.Core.ProxyConfiguration.Route;

namespace Meshgate.Core.Translation;

/// <summary>
/// A gateway's configuration, as istio/istio <c>pilot/pkg/networking/core/gateway.go</c> builds it: the servers of every
/// Istio Gateway whose selector matches the proxy's labels (any namespace), each bound to the target port of the
/// gateway Service's port (80 → 8080), with the VirtualServices bound to that Gateway. No catch-all: a host no
/// VirtualService names gets 404 (HTTP) or a closed connection (TLS).
/// </summary>
internal sealed class GatewayTranslator(TranslationContext context)
{
    public ProxyConfig Translate(ProxyConfig shell)
    {
        var node = context.Node;
        var services = context.Services.VisibleTo(node.Namespace);
        var clusters = new ClusterBuilder(context).Build(services);
        var routes = new RouteTranslator(context, clusters);

        var targetPorts = TargetPorts();
        var byPort = new SortedDictionary<(int Port, string Address), List<(GatewayServer Server, PortKind Kind)>>();
        foreach (var server in Servers())
        {
            var port = targetPorts.TryGetValue(server.Port, out var target) ? target : server.Port;
            var address = server.Spec.Bind is { } bind && IPAddress.TryParse(bind, out _) ? bind : "0.0.0.0";
            if (!byPort.TryGetValue((port, address), out var list))
            {
                list = [];
                byPort[(port, address)] = list;
            }

            list.Add((server, Kind(server)));
        }

        var listeners = new List<Listener>();
        var routeTables = new List<RouteTable>();
        foreach (var ((port, address), servers) in byPort)
        {
            // Servers of another kind than the first on a port conflict; Istio keeps the first.
            var kind = servers[0].Kind;
            var same = servers.Where(s => s.Kind == kind).Select(s => s.Server).ToList();
            var listener = new Listener
            {
                Name = $"{address}_{port.ToString(CultureInfo.InvariantCulture)}",
                Address = address,
                Port = port,
                Protocol = kind switch { PortKind.Http => ListenerProtocol.Http, PortKind.Tls => ListenerProtocol.Tls, _ => ListenerProtocol.Tcp },
            };
            switch (kind)
            {
                case PortKind.Http:
                    // Istio's name, http.<port>; a second bind address on the port needs its own table.
                    var tableName = address == "0.0.0.0" ? $"http.{port.ToString(CultureInfo.InvariantCulture)}" : $"http.{address}_{port.ToString(CultureInfo.InvariantCulture)}";
                    var table = new RouteTable { Name = tableName, VirtualHosts = [.. VirtualHosts(same, routes)] };
                    routeTables.Add(table);
                    listeners.Add(listener with { FilterChains = [new FilterChain { RouteTable = table.Name }] });
                    break;
                case PortKind.Tls:
                    var chains = TlsChains(same, routes, routeTables);
                    if (chains.Count > 0)
                    {
                        listeners.Add(listener with { FilterChains = [.. chains] });
                    }

                    break;
                default:
                    if (TcpCluster(same, routes) is { } cluster)
                    {
                        listeners.Add(listener with { FilterChains = [new FilterChain { Name = cluster, Cluster = cluster }] });
                    }

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

    /// <summary>A Gateway server with where it came from and its hosts split into namespace and host.</summary>
    private sealed record GatewayServer(string GatewayKey, string GatewayName, string GatewayNamespace, Server Spec, int Port, IReadOnlyList<(string Namespace, string Host)> Hosts);

    private static PortKind Kind(GatewayServer server)
    {
        var protocol = PortProtocols.Parse(server.Spec.Port?.Protocol, null);
        return protocol switch
        {
            PortProtocol.Http or PortProtocol.Http2 or PortProtocol.Grpc => PortKind.Http,
            PortProtocol.Https or PortProtocol.Tls => PortKind.Tls,
            _ => PortKind.Tcp,
        };
    }

    /// <summary>The servers of the Gateways that select this proxy, ordered by Gateway namespace and name.</summary>
    private IEnumerable<GatewayServer> Servers()
    {
        var node = context.Node;
        foreach (var resource in context.Registry.Of(ResourceTypes.Gateway))
        {
            if (ParsedSpecs.Spec<GatewaySpec>(resource) is not { } spec
                || !context.NodeWorkload.Matches(spec.Selector))
            {
                continue;
            }

            foreach (var server in spec.Servers ?? [])
            {
                if (server.Port?.Number is not { } number)
                {
                    continue;
                }

                yield return new GatewayServer($"{resource.Namespace}/{resource.Name}", resource.Name, resource.Namespace, server, (int)number, Hosts(server, resource.Namespace));
            }
        }

        foreach (var (key, name, ns, server) in GatewayApiLowering.Servers(context.Registry, node))
        {
            yield return new GatewayServer(key, name, ns, server, (int)server.Port!.Number!.Value, Hosts(server, ns));
        }
    }

    /// <summary>Server hosts as <c>(namespace, host)</c>: <c>ns/host</c>, <c>./host</c> (the Gateway's namespace), or <c>host</c> (any).</summary>
    private static List<(string, string)> Hosts(Server server, string gatewayNamespace)
    {
        var hosts = new List<(string, string)>();
        foreach (var host in server.Hosts ?? [])
        {
            var slash = host.IndexOf('/');
            var ns = slash < 0 ? "*" : host[..slash];
            hosts.Add((ns == "." ? gatewayNamespace : ns, (slash < 0 ? host : host[(slash + 1)..]).ToLowerInvariant()));
        }

        return hosts;
    }

    /// <summary>
    /// Service port → target port for the Services in the gateway's namespace that select it (istio/istio
    /// <c>pilot/pkg/model/gateway.go</c> <c>resolvePorts</c>); a port no Service has binds as it is.
    /// </summary>
    private Dictionary<int, int> TargetPorts()
    {
        var ports = new Dictionary<int, int>();
        foreach (var service in context.Services.ServicesSelecting(context.Node.Namespace, context.Node.Labels))
        {
            foreach (var port in service.Ports)
            {
                ports.TryAdd(port.Number, port.TargetPort);
            }
        }

        return ports;
    }

    /// <summary>
    /// The virtual hosts of HTTP servers (merged when they share a port, like Istio's <c>http.&lt;port&gt;</c>): for each
    /// VirtualService bound to the server's Gateway and exported to it, each of its hosts that a server host admits
    /// (namespace part included), named <c>host:port</c> with the narrower of the two names as its domain.
    /// </summary>
    private List<VirtualHost> VirtualHosts(IEnumerable<GatewayServer> servers, RouteTranslator routes)
    {
        var byDomain = new Dictionary<string, (string Name, List<Route> Routes)>(StringComparer.OrdinalIgnoreCase);
        var order = new List<string>();
        foreach (var server in servers)
        {
            var redirect = server.Spec.Tls?.HttpsRedirect == true;
            foreach (var (vs, domain) in BoundHosts(server))
            {
                var vsRoutes = routes.HttpRoutes(vs, server.GatewayKey, server.Port);
                if (vsRoutes.Count == 0)
                {
                    continue;
                }

                if (redirect)
                {
                    vsRoutes = [new Route { Redirect = new RedirectAction { Scheme = "https", Status = 301 } }];
                }

                if (!byDomain.TryGetValue(domain, out var entry))
                {
                    entry = ($"{domain}:{server.Port.ToString(CultureInfo.InvariantCulture)}", []);
                    byDomain[domain] = entry;
                    order.Add(domain);
                }

                // Several VirtualServices for one host on a gateway merge, oldest first (Istio).
                if (!(redirect && entry.Routes.Count > 0))
                {
                    entry.Routes.AddRange(vsRoutes);
                }
            }
        }

        var hosts = new List<VirtualHost>();
        foreach (var domain in order)
        {
            var (name, hostRoutes) = byDomain[domain];
            hosts.Add(new VirtualHost { Name = name, Domains = [domain], Routes = [.. hostRoutes] });
        }

        hosts.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        return hosts;
    }

    /// <summary>The VirtualServices bound to the server's Gateway that it admits, each with the host it serves.</summary>
    private IEnumerable<(BoundVirtualService Vs, string Host)> BoundHosts(GatewayServer server)
    {
        foreach (var vs in context.VirtualServices.BoundTo(server.GatewayKey))
        {
            if (!vs.ExportTo.VisibleTo(server.GatewayNamespace))
            {
                continue;
            }

            foreach (var host in vs.Hosts)
            {
                foreach (var (ns, serverHost) in server.Hosts)
                {
                    if ((ns == "*" || ns == vs.Namespace) && HostNames.Intersect(serverHost, host) is { } common)
                    {
                        yield return (vs, common);
                        break;
                    }
                }
            }
        }
    }

    /// <summary>
    /// TLS servers: PASSTHROUGH chains by SNI from the bound VirtualServices' <c>tls</c> rules; terminating servers
    /// (SIMPLE, MUTUAL, ISTIO_MUTUAL) a chain on the server's hosts with the route table
    /// <c>https.&lt;port&gt;.&lt;port name&gt;.&lt;gateway&gt;.&lt;namespace&gt;</c> (Istio's <c>gatewayRDSRouteName</c>).
    /// </summary>
    private List<FilterChain> TlsChains(List<GatewayServer> servers, RouteTranslator routes, List<RouteTable> routeTables)
    {
        var chains = new List<FilterChain>();
        var claimed = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var catchAll = false;
        foreach (var server in servers)
        {
            var mode = server.Spec.Tls?.Mode ?? ServerTlsMode.Passthrough;
            if (mode == ServerTlsMode.Passthrough)
            {
                foreach (var vs in context.VirtualServices.BoundTo(server.GatewayKey))
                {
                    if (!vs.ExportTo.VisibleTo(server.GatewayNamespace))
                    {
                        continue;
                    }

                    foreach (var (sniHosts, cluster) in routes.TlsRoutes(vs, server.GatewayKey, server.Port))
                    {
                        var names = new List<string>();
                        foreach (var sni in sniHosts)
                        {
                            foreach (var (ns, serverHost) in server.Hosts)
                            {
                                if ((ns == "*" || ns == vs.Namespace) && HostNames.Intersect(serverHost, sni.ToLowerInvariant()) is { } common
                                    && common != "*" && claimed.Add(common))
                                {
                                    names.Add(common);
                                }
                            }
                        }

                        if (names.Count > 0)
                        {
                            chains.Add(new FilterChain { Name = names[0], ServerNames = [.. names], Cluster = cluster });
                        }
                    }
                }

                continue;
            }

            if (DownstreamTls(server.Spec.Tls!, mode) is not { } tls)
            {
                continue; // AUTO_PASSTHROUGH, or a certificate Meshgate cannot find: the server is left out
            }

            var serverNames = new List<string>();
            var any = false;
            foreach (var (_, host) in server.Hosts)
            {
                if (host == "*")
                {
                    any = true;
                }
                else if (claimed.Add(host))
                {
                    serverNames.Add(host);
                }
            }

            if (any)
            {
                if (catchAll)
                {
                    continue;
                }

                catchAll = true;
                serverNames.Clear();
            }
            else if (serverNames.Count == 0)
            {
                continue;
            }

            var chain = new FilterChain { Name = server.Spec.Name ?? server.Spec.Port?.Name, ServerNames = [.. serverNames], Tls = tls };
            if (PortProtocols.Parse(server.Spec.Port?.Protocol, null) == PortProtocol.Https)
            {
                var table = new RouteTable
                {
                    Name = $"https.{server.Port.ToString(CultureInfo.InvariantCulture)}.{server.Spec.Port?.Name}.{server.GatewayName}.{server.GatewayNamespace}",
                    VirtualHosts = [.. VirtualHosts([server], routes)],
                };
                if (routeTables.All(t => t.Name != table.Name))
                {
                    routeTables.Add(table);
                }

                chains.Add(chain with { RouteTable = table.Name });
            }
            else if (TcpCluster([server], routes) is { } cluster)
            {
                chains.Add(chain with { Cluster = cluster }); // TLS terminated, then relayed (tcp rules)
            }
        }

        return chains;
    }

    /// <summary>A terminating server's TLS: ISTIO_MUTUAL with the mesh certificates, SIMPLE/MUTUAL from <c>credentialName</c>.</summary>
    private DownstreamTls? DownstreamTls(ServerTlsSettings settings, ServerTlsMode mode)
    {
        var sans = settings.SubjectAltNames ?? [];
        if (mode == ServerTlsMode.IstioMutual)
        {
            return new DownstreamTls { Mode = TlsMode.IstioMutual, SubjectAltNames = [.. sans] };
        }

        if (mode is not (ServerTlsMode.Simple or ServerTlsMode.Mutual or ServerTlsMode.OptionalMutual)
            || settings.CredentialName is not { } credential)
        {
            return null;
        }

        var (certificate, ca) = context.Secrets.Resolve(credential);
        if (certificate is null || (mode != ServerTlsMode.Simple && ca is null))
        {
            return null;
        }

        return mode == ServerTlsMode.Simple
            ? new DownstreamTls { Mode = TlsMode.Simple, CertificateSecret = certificate }
            : new DownstreamTls { Mode = TlsMode.Mutual, CertificateSecret = certificate, CaSecret = ca, SubjectAltNames = [.. sans] };
    }

    /// <summary>The first <c>tcp</c> rule bound to one of the servers' Gateways that applies to its port.</summary>
    private string? TcpCluster(IEnumerable<GatewayServer> servers, RouteTranslator routes)
    {
        foreach (var server in servers)
        {
            foreach (var vs in context.VirtualServices.BoundTo(server.GatewayKey))
            {
                if (vs.ExportTo.VisibleTo(server.GatewayNamespace) && routes.TcpRoute(vs, server.GatewayKey, server.Port) is { } cluster)
                {
                    return cluster;
                }
            }
        }

        return null;
    }
}

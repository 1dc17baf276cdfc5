using Meshgate.Core.Hosts;
using Meshgate.Core.Resources;
using Meshgate.Core.Resources.Istio;

namespace Meshgate.Core.Translation;

/// <summary>
/// Gateway API backendRefs as destinations, or null for an invalid one, as Istio's <c>buildDestination</c>
/// (pilot/pkg/config/kube/gateway/conversion.go) judges them and with the status controller's rules
/// (GatewayStatus/BackendResolution), so that a backend the route's ResolvedRefs condition reports is never routed to:
/// <list type="bullet">
/// <item>a reference into another namespace needs a ReferenceGrant there (RefNotPermitted);</item>
/// <item>a Service must exist, a <c>Hostname</c> (group <c>networking.istio.io</c>) must be a host of the registry and a
/// ServiceEntry must exist (BackendNotFound);</item>
/// <item>any other group and kind is InvalidKind.</item>
/// </list>
/// Built once per resource set, with the lowered routes.
/// </summary>
internal sealed class GatewayApiBackends
{
    private const string IstioGroup = ResourceTypes.IstioNetworking;
    private readonly Registry _registry;
    private readonly ReferenceGrantIndex _grants;
    private readonly HashSet<string> _exactHosts = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<string> _wildcardHosts = [];

    public GatewayApiBackends(Registry registry)
    {
        _registry = registry;
        _grants = new ReferenceGrantIndex(registry);
        foreach (var entry in registry.Of(ResourceTypes.ServiceEntry))
        {
            foreach (var host in ParsedSpecs.Spec<ServiceEntrySpec>(entry)?.Hosts ?? [])
            {
                if (host.StartsWith('*'))
                {
                    _wildcardHosts.Add(host);
                }
                else
                {
                    _exactHosts.Add(host);
                }
            }
        }

        foreach (var service in registry.Of(ResourceTypes.Service))
        {
            _exactHosts.Add(HostNames.ServiceHost(service.Name, service.Namespace));
        }
    }

    /// <summary>
    /// The destination a backendRef of <paramref name="route"/> names, or null when it is invalid. A Service is
    /// <c>name.ns.svc.cluster.local</c>, a <c>Hostname</c> is its name, a ServiceEntry is its first host.
    /// </summary>
    public Destination? Resolve(Resource route, string? group, string? kind, string? name, string? ns, long? port)
    {
        name ??= "";
        group = ReferenceGrantIndex.Group(group);
        kind ??= "Service";

        // ReferenceGrant: only a reference into another namespace needs one. A parentRef to a Gateway elsewhere is
        // governed by the listener's allowedRoutes instead (GatewayApiLowering.Allowed).
        if (ns is { } target && target != route.Namespace
            && !_grants.Allows(ResourceTypes.GatewayApiGroup, route.Type.Kind, route.Namespace, group, kind, target, name))
        {
            return null;
        }

        ns ??= route.Namespace;
        var portSelector = port is { } p ? new PortSelector { Number = p } : null;
        switch (group, kind)
        {
            case ("", "Service"):
                return _registry.Get(new ObjectKey(ResourceTypes.Service, ns, name)) is null
                    ? null
                    : new Destination { Host = HostNames.ServiceHost(name, ns), Port = portSelector };
            case (IstioGroup, "Hostname"):
                return HostKnown(name) ? new Destination { Host = name, Port = portSelector } : null;
            case (IstioGroup, "ServiceEntry"):
                return _registry.Get(new ObjectKey(ResourceTypes.ServiceEntry, ns, name)) is { } entry
                    && ParsedSpecs.Spec<ServiceEntrySpec>(entry)?.Hosts is [var first, ..]
                    ? new Destination { Host = first.ToLowerInvariant(), Port = portSelector }
                    : null;
            default:
                return null;
        }
    }

    /// <summary>A host some ServiceEntry declares (exactly or by a wildcard that covers it), or a Service's host.</summary>
    private bool HostKnown(string host)
    {
        if (_exactHosts.Contains(host))
        {
            return true;
        }

        foreach (var pattern in _wildcardHosts)
        {
            if (HostMatch.Covers(pattern, host))
            {
                return true;
            }
        }

        return false;
    }
}

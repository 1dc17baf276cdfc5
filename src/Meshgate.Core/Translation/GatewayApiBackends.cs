using Meshgate.Core.Hosts;
using Meshgate.Core.Resources;
using Meshgate.Core.Resources.Istio;

namespace Meshgate.Core.Translation;

/// <summary>
/// Gateway API backendRefs as destinations, or null for an invalid one, as Istio's <c>buildDestination</c>
/// (pilot/pkg/config/kube/gateway/conversion.go) judges them. The status controller reports the same verdicts
/// (GatewayStatus/BackendResolution asks <see cref="Problem"/>), so a backend ResolvedRefs reports is never routed to:
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
    /// <summary>
    /// The destination host of an invalid backendRef beside valid ones: its share of the requests answers 500 (the
    /// route's cluster <see cref="ProxyConfiguration.Cluster.InvalidBackend"/>), as Gateway API requires.
    /// </summary>
    public const string InvalidHost = "invalid-backend.meshgate.internal";

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
    /// The destination a backendRef of <paramref name="route"/> names, or null when it is invalid (<see cref="Problem"/>).
    /// A Service is <c>name.ns.svc.cluster.local</c>, a <c>Hostname</c> is its name, a ServiceEntry is its first host.
    /// </summary>
    public Destination? Resolve(Resource route, string? group, string? kind, string? name, string? ns, long? port)
    {
        if (Problem(route, group, kind, name, ns) is not null)
        {
            return null;
        }

        name ??= "";
        ns ??= route.Namespace;
        var portSelector = port is { } p ? new PortSelector { Number = p } : null;
        return (ReferenceGrantIndex.Group(group), kind ?? "Service") switch
        {
            ("", "Service") => new Destination { Host = HostNames.ServiceHost(name, ns), Port = portSelector },
            (IstioGroup, "ServiceEntry") => new Destination
            {
                Host = ParsedSpecs.Spec<ServiceEntrySpec>(_registry.Get(new ObjectKey(ResourceTypes.ServiceEntry, ns, name))!)!.Hosts![0].ToLowerInvariant(),
                Port = portSelector,
            },
            _ => new Destination { Host = name, Port = portSelector }, // a Hostname
        };
    }

    /// <summary>Why a backendRef of <paramref name="route"/> is invalid, or null when it is valid.</summary>
    public BackendProblem? Problem(Resource route, string? group, string? kind, string? name, string? ns)
    {
        name ??= "";
        group = ReferenceGrantIndex.Group(group);
        kind ??= "Service";

        // ReferenceGrant: only a reference into another namespace needs one. A parentRef to a Gateway elsewhere is
        // governed by the listener's allowedRoutes instead (GatewayApiLowering.Allowed).
        if (ns is { } target && target != route.Namespace
            && !_grants.Allows(ResourceTypes.GatewayApiGroup, route.Type.Kind, route.Namespace, group, kind, target, name))
        {
            return BackendProblem.RefNotPermitted;
        }

        ns ??= route.Namespace;
        return (group, kind) switch
        {
            ("", "Service") => _registry.Get(new ObjectKey(ResourceTypes.Service, ns, name)) is null ? BackendProblem.NotFound : null,
            (IstioGroup, "Hostname") => HostKnown(name) ? null : BackendProblem.NotFound,
            (IstioGroup, "ServiceEntry") => _registry.Get(new ObjectKey(ResourceTypes.ServiceEntry, ns, name)) is { } entry
                && ParsedSpecs.Spec<ServiceEntrySpec>(entry)?.Hosts is [_, ..] ? null : BackendProblem.NotFound,
            _ => BackendProblem.InvalidKind,
        };
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

/// <summary>Why a backendRef is not routed to (the route's ResolvedRefs reason).</summary>
internal enum BackendProblem
{
    /// <summary>Into another namespace without a ReferenceGrant there (RefNotPermitted).</summary>
    RefNotPermitted,

    /// <summary>The Service or ServiceEntry does not exist, or the Hostname is no host of the registry (BackendNotFound).</summary>
    NotFound,

    /// <summary>A group and kind Meshgate does not route to (InvalidKind).</summary>
    InvalidKind,
}

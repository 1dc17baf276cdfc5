using Meshgate.Core.Hosts;
using Meshgate.Core.Resources;
using Meshgate.Core.Resources.Istio;
using Meshgate.Core.Translation;
using static Meshgate.Core.GatewayStatus.GatewayApiConditions;

namespace Meshgate.Core.GatewayStatus;

/// <summary>
/// A route's ResolvedRefs condition, as Istio's <c>buildDestination</c> checks each backendRef
/// (pilot/pkg/config/kube/gateway/conversion.go): a reference into another namespace needs a ReferenceGrant there
/// (RefNotPermitted), a Service must exist and a <c>Hostname</c> must be a host of the registry (BackendNotFound), and
/// only Service, Hostname and ServiceEntry are kinds Meshgate routes to (InvalidKind). Backends of weight 0 are never
/// sent traffic and are not checked. The first problem is reported.
/// </summary>
internal sealed class BackendResolution
{
    private const string IstioGroup = ResourceTypes.IstioNetworking;
    private readonly ResourceSet _resources;
    private readonly ReferenceGrants _grants;
    private readonly HashSet<string> _exactHosts = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<string> _wildcardHosts = [];

    public BackendResolution(ResourceSet resources, ReferenceGrants grants)
    {
        _resources = resources;
        _grants = grants;
        foreach (var entry in resources.List(ResourceTypes.ServiceEntry))
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

        foreach (var service in resources.List(ResourceTypes.Service))
        {
            _exactHosts.Add(HostNames.ServiceHost(service.Name, service.Namespace));
        }
    }

    public StatusCondition Resolve(Resource route, IReadOnlyList<BackendRefView> backends)
    {
        foreach (var backend in backends)
        {
            if (backend.Weight == 0 || Problem(route, backend) is not { } problem)
            {
                continue;
            }

            return StatusCondition.False(ResolvedRefs, problem.Reason, problem.Message);
        }

        return StatusCondition.True(ResolvedRefs, ReasonResolvedRefs, "All references resolved");
    }

    private (string Reason, string Message)? Problem(Resource route, BackendRefView backend)
    {
        var name = backend.Name ?? "";
        var group = backend.Group is null or "core" ? "" : backend.Group;
        var kind = backend.Kind ?? "Service";
        if (backend.Namespace is { } target && target != route.Namespace
            && !_grants.Allows(ResourceTypes.GatewayApiGroup, route.Type.Kind, route.Namespace, group, kind, target, name))
        {
            return (ReasonRefNotPermitted, $"backendRef {name}/{target} not accessible to a {route.Type.Kind} in namespace \"{route.Namespace}\" (missing a ReferenceGrant?)");
        }

        var ns = backend.Namespace ?? route.Namespace;
        switch (group, kind)
        {
            case ("", "Service"):
                return _resources.Get(new ObjectKey(ResourceTypes.Service, ns, name)) is null
                    ? (ReasonBackendNotFound, $"backend({HostNames.ServiceHost(name, ns)}) not found")
                    : null;
            case (IstioGroup, "Hostname"):
                return HostKnown(name) ? null : (ReasonBackendNotFound, $"backend({name}) not found");
            case (IstioGroup, "ServiceEntry"):
                return _resources.Get(new ObjectKey(ResourceTypes.ServiceEntry, ns, name)) is null
                    ? (ReasonBackendNotFound, $"backend(ServiceEntry {ns}/{name}) not found")
                    : null;
            default:
                return (ReasonInvalidKind, $"referencing unsupported backendRef: group \"{group}\" kind \"{kind}\"");
        }
    }

    /// <summary>A host some ServiceEntry declares (exactly or by a wildcard that covers it), or a Service's name.</summary>
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

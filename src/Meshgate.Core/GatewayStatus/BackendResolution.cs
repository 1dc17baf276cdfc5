using Meshgate.Core.Resources;
using Meshgate.Core.Translation;
using static Meshgate.Core.GatewayStatus.GatewayApiConditions;

namespace Meshgate.Core.GatewayStatus;

/// <summary>
/// A route's ResolvedRefs condition, as Istio's <c>buildDestination</c> checks each backendRef
/// (pilot/pkg/config/kube/gateway/conversion.go): a reference into another namespace needs a ReferenceGrant there
/// (RefNotPermitted), a Service must exist and a <c>Hostname</c> must be a host of the registry (BackendNotFound), and
/// only Service, Hostname and ServiceEntry are kinds Meshgate routes to (InvalidKind). The verdicts are translation's own
/// (<see cref="GatewayApiBackends.Problem"/>), so a backend reported here is never routed to. Backends of weight 0 are
/// never sent traffic and are not checked. The first problem is reported.
/// </summary>
internal sealed class BackendResolution(GatewayApiBackends backends)
{
    public StatusCondition Resolve(Resource route, IReadOnlyList<BackendRefView> refs)
    {
        foreach (var backend in refs)
        {
            if (backend.Weight == 0 || backends.Problem(route, backend.Group, backend.Kind, backend.Name, backend.Namespace) is not { } problem)
            {
                continue;
            }

            var (reason, message) = Describe(route, backend, problem);
            return StatusCondition.False(ResolvedRefs, reason, message);
        }

        return StatusCondition.True(ResolvedRefs, ReasonResolvedRefs, "All references resolved");
    }

    /// <summary>Istio's reasons and messages for each problem.</summary>
    private static (string Reason, string Message) Describe(Resource route, BackendRefView backend, BackendProblem problem)
    {
        var name = backend.Name ?? "";
        var ns = backend.Namespace ?? route.Namespace;
        return problem switch
        {
            BackendProblem.RefNotPermitted => (ReasonRefNotPermitted, $"backendRef {name}/{ns} not accessible to a {route.Type.Kind} in namespace \"{route.Namespace}\" (missing a ReferenceGrant?)"),
            BackendProblem.InvalidKind => (ReasonInvalidKind, $"referencing unsupported backendRef: group \"{ReferenceGrantIndex.Group(backend.Group)}\" kind \"{backend.Kind ?? "Service"}\""),
            _ => (ReasonBackendNotFound, (ReferenceGrantIndex.Group(backend.Group), backend.Kind ?? "Service") switch
            {
                ("", "Service") => $"backend({HostNames.ServiceHost(name, ns)}) not found",
                (_, "ServiceEntry") => $"backend(ServiceEntry {ns}/{name}) not found",
                _ => $"backend({name}) not found",
            }),
        };
    }
}

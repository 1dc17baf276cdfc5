using Meshgate.Core.Translation;

namespace Meshgate.Core.Analysis;

/// <summary>
/// What the control plane wrote in the status of Gateway API objects, which a files-only analysis cannot know: a
/// route attached to a Gateway whose <c>Programmed</c> condition is False (MG0017: no gateway proxy serves it yet),
/// and a route whose <c>ResolvedRefs</c> condition is False for a parent (MG0018). Only conditions that are present
/// are read: no status says nothing (the files-only case, or a control plane that has not written it yet).
/// </summary>
internal sealed class GatewayApiStatusAnalyzer : IAnalyzer
{
    private const string Programmed = "Programmed";
    private const string ResolvedRefs = "ResolvedRefs";

    public void Analyze(AnalysisIndex index, List<Finding> findings)
    {
        foreach (var route in index.GatewayApiRoutes)
        {
            CheckProgrammed(index, route, findings);
            CheckResolvedRefs(route, findings);
        }
    }

    private static void CheckProgrammed(AnalysisIndex index, GatewayApiRouteView route, List<Finding> findings)
    {
        var reported = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < route.ParentRefs.Count; i++)
        {
            if (route.GatewayReference(route.ParentRefs[i]) is not { } reference
                || !index.GatewayApiGateways.TryGetValue(reference, out var gateway)
                || ConditionView.FalseOf(gateway.Conditions, Programmed) is not { } condition
                || !reported.Add(reference))
            {
                continue;
            }

            var field = $"spec.parentRefs[{i}]";
            var deployment = gateway.IsIstioClass
                ? $"check Deployment {gateway.DeployedName} and its pods ('meshgate get deployment,pods -n {gateway.Resource.Namespace} -l {GatewayApiLowering.GatewayNameLabel}={gateway.Resource.Name}')"
                : $"check the gateway deployment of class \"{gateway.Spec.GatewayClassName}\" (Meshgate deploys only class istio)";
            findings.Add(new Finding(Codes.GatewayNotProgrammed, route.Resource.Key, field,
                $"Gateway {reference} ({field}) is not programmed: its status.conditions say Programmed False ({condition.Quote()}): "
                + "no gateway proxy serves it yet, so the traffic this route handles there is refused",
                $"{deployment}, and read the Gateway's status.conditions ('meshgate get gateway {gateway.Resource.Name} -n {gateway.Resource.Namespace} -o yaml'); "
                + "the finding clears once the control plane marks the Gateway Programmed"));
        }
    }

    private static void CheckResolvedRefs(GatewayApiRouteView route, List<Finding> findings)
    {
        foreach (var parent in route.ParentStatuses)
        {
            if (ConditionView.FalseOf(parent.Conditions, ResolvedRefs) is not { } condition)
            {
                continue;
            }

            var field = $"status.parents[{parent.Index}].conditions[{condition.Index}]";
            var effect = route.Kind == "HTTPRoute"
                ? "requests its rules send to an unresolved backend fail (5xx)"
                : "connections its rules send to an unresolved backend are closed";
            findings.Add(new Finding(Codes.BackendNotResolved, route.Resource.Key, field,
                $"Backend not resolved: for parent {parent.Kind} {parent.Namespace}/{parent.Name}, the status says ResolvedRefs False ({field}, {condition.Quote()}): {effect}",
                condition.Reason switch
                {
                    "BackendNotFound" => "create the backend the message names, or correct spec.rules[].backendRefs (a Service is looked up in the route's namespace unless namespace is set; a Hostname needs a ServiceEntry)",
                    "RefNotPermitted" => $"create a ReferenceGrant in the backend's namespace that allows {route.Kind} from namespace {route.Namespace} to refer to it, or use a backend in {route.Namespace}",
                    "InvalidKind" => "use a backend kind Meshgate routes to: a Service, or a Hostname (group networking.istio.io)",
                    _ => "correct spec.rules[].backendRefs as the condition's message says",
                }));
        }
    }
}

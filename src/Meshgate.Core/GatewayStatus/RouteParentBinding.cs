using Meshgate.Core.Hosts;
using Meshgate.Core.Resources.GatewayApi;
using static Meshgate.Core.GatewayStatus.GatewayApiConditions;

namespace Meshgate.Core.GatewayStatus;

/// <summary>
/// Whether a route's parentRef binds to a Gateway's listeners, as Istio's <c>referenceAllowed</c> decides per listener
/// (pilot/pkg/config/kube/gateway/conversion.go), and how the per-listener verdicts collapse into the one Accepted
/// condition of the parentRef (<c>createRouteStatus</c> in conditions.go): bound to any listener is Accepted; otherwise
/// the most telling reason wins, NotAllowedByListeners before NoMatchingListenerHostname before NoMatchingParent.
/// </summary>
internal static class RouteParentBinding
{
    private static readonly string[] Ranking = [ReasonNotAllowedByListeners, ReasonNoMatchingListenerHostname, ReasonNoMatchingParent];

    /// <param name="routeKind">The route's group/version and kind, as upstream prints it: <c>gateway.networking.k8s.io/v1, Kind=HTTPRoute</c>.</param>
    public static ParentVerdict Judge(ListenerView listener, ParentReference parent, IReadOnlyList<string> routeHostnames, string routeNamespace, string routeGroup, string routeKind, string routeKindText)
    {
        // Port and section first: a reference to another listener says nothing about this one.
        if (parent.Port is { } port && port != listener.Spec.Port)
        {
            return new ParentVerdict(ReasonNoMatchingParent, $"port {port} not found");
        }

        if (parent.SectionName is { Length: > 0 } section && section != listener.Name)
        {
            return new ParentVerdict(ReasonNoMatchingParent, $"sectionName \"{section}\" not found");
        }

        // Bidirectional wildcard match; one route hostname matching is enough (the others are filtered when routing).
        var matched = false;
        var hostMatched = false;
        foreach (var routeHost in routeHostnames.Count == 0 ? ["*"] : routeHostnames)
        {
            foreach (var (ns, host) in listener.Hostnames)
            {
                var hostnameMatch = HostMatch.Covers(host, routeHost) || HostMatch.Covers(routeHost, host);
                hostMatched |= hostnameMatch;
                if (hostnameMatch && (ns == "*" || ns == routeNamespace))
                {
                    matched = true;
                    break;
                }
            }

            if (matched)
            {
                break;
            }
        }

        if (!matched)
        {
            return hostMatched
                ? new ParentVerdict(ReasonNotAllowedByListeners, $"hostnames matched parent hostname \"{listener.OriginalHostname}\", but namespace \"{routeNamespace}\" is not allowed by the parent")
                : new ParentVerdict(ReasonNoMatchingListenerHostname, $"no hostnames matched parent hostname \"{listener.OriginalHostname}\"");
        }

        foreach (var (group, kind) in listener.SupportedKinds)
        {
            if (group == routeGroup && kind == routeKind)
            {
                return ParentVerdict.Bound;
            }
        }

        return new ParentVerdict(ReasonNotAllowedByListeners, $"kind {routeKindText} is not allowed");
    }

    /// <summary>The parentRef's Accepted condition from its verdicts (one per listener, or one for a mesh parent).</summary>
    public static StatusCondition Accepted(IReadOnlyList<ParentVerdict> verdicts)
    {
        var bound = 0;
        foreach (var verdict in verdicts)
        {
            bound += verdict.IsBound ? 1 : 0;
        }

        if (bound > 0)
        {
            return StatusCondition.True(GatewayApiConditions.Accepted, ReasonAccepted, bound > 1 ? $"Route was valid, bound to {bound} parents" : "Route was valid");
        }

        foreach (var reason in Ranking)
        {
            var messages = new List<string>();
            foreach (var verdict in verdicts)
            {
                if (verdict.Reason == reason && !messages.Contains(verdict.Message))
                {
                    messages.Add(verdict.Message);
                }
            }

            if (messages.Count > 0)
            {
                return StatusCondition.False(GatewayApiConditions.Accepted, reason, string.Join("; ", messages));
            }
        }

        return StatusCondition.False(GatewayApiConditions.Accepted, ReasonNoMatchingParent, "the parent has no listeners");
    }
}

using Meshgate.Core.Resources;
using Meshgate.Core.Resources.GatewayApi;
using Meshgate.Core.Translation;
using static Meshgate.Core.GatewayStatus.GatewayApiConditions;

namespace Meshgate.Core.GatewayStatus;

/// <summary>
/// A Gateway's listeners as Istio's <c>buildListener</c> judges them (pilot/pkg/config/kube/gateway/conversion.go):
/// Accepted unless the protocol is one Meshgate does not implement, ResolvedRefs unless a terminating listener's
/// certificate cannot be found (then Programmed is False too: "Bad TLS configuration"), Conflicted False (validation
/// refuses listeners that collide). The conditions keep upstream's reasons and messages. A listener whose protocol is
/// not implemented is also Programmed False: lowering skips it (Istio would still program it).
/// </summary>
internal static class ListenerEvaluation
{
    private const string GatewayGroup = ResourceTypes.GatewayApiGroup;
    private const string NoErrors = "No errors found";

    public static List<ListenerView> Evaluate(Resource gateway, GatewayApiGatewaySpec spec, ResourceSet resources, ReferenceGrantIndex grants)
    {
        var views = new List<ListenerView>();
        var listeners = spec.Listeners ?? [];
        for (var i = 0; i < listeners.Count; i++)
        {
            var listener = listeners[i];
            var accepted = StatusCondition.True(Accepted, ReasonAccepted, NoErrors);
            var programmed = StatusCondition.True(Programmed, ReasonProgrammed, NoErrors);
            var resolved = StatusCondition.True(ResolvedRefs, ReasonResolvedRefs, NoErrors);
            if (ProtocolError(listener.Protocol ?? "") is { } protocolError)
            {
                accepted = StatusCondition.False(Accepted, ReasonUnsupportedProtocol, protocolError);
                // Istio leaves Programmed alone here; Meshgate does not program the listener at all, so it says so.
                programmed = StatusCondition.False(Programmed, ReasonInvalid, "Listener not programmed: " + protocolError);
            }

            if (TlsError(gateway, listener.Tls, resources, grants) is { } tls)
            {
                resolved = StatusCondition.False(ResolvedRefs, tls.Reason, tls.Message);
                programmed = StatusCondition.False(Programmed, ReasonInvalid, "Bad TLS configuration");
            }

            var (kinds, kindsValid) = SupportedKinds(listener, accepted.Status);
            if (!kindsValid)
            {
                resolved = StatusCondition.False(ResolvedRefs, ReasonInvalidRouteKinds, "Invalid route kinds");
            }

            // Sorted by type, as upstream's setConditions writes them.
            StatusCondition[] conditions = [accepted, StatusCondition.False(Conflicted, ReasonNoConflicts, NoErrors), programmed, resolved];
            views.Add(new ListenerView(i, listener, kinds, Hostnames(gateway.Namespace, listener, resources), conditions));
        }

        return views;
    }

    /// <summary>Upstream's <c>listenerProtocolToIstio</c>, less its alpha gate (Meshgate routes TLS and TCP).</summary>
    private static string? ProtocolError(string protocol)
    {
        if (GatewayApiLowering.Implements(protocol))
        {
            return null;
        }

        if (protocol == "HBONE")
        {
            return $"protocol \"{protocol}\" is only supported for waypoint proxies";
        }

        var upper = protocol.ToUpperInvariant();
        return GatewayApiLowering.Implements(upper) || upper == "HBONE"
            ? $"protocol \"{protocol}\" is unsupported. hint: \"{upper}\" (uppercase) may be supported"
            : $"protocol \"{protocol}\" is unsupported";
    }

    /// <summary>
    /// Upstream's <c>buildTLS</c>: a Terminate listener needs at least one usable certificate: a Secret (in another
    /// namespace only with a ReferenceGrant) that exists. Istio's own terminate modes need none.
    /// </summary>
    private static (string Reason, string Message)? TlsError(Resource gateway, GatewayTlsConfig? tls, ResourceSet resources, ReferenceGrantIndex grants)
    {
        if (tls is null || (tls.Mode ?? "Terminate") != "Terminate")
        {
            return null;
        }

        if (tls.Options is { } options && options.TryGetValue("gateway.istio.io/tls-terminate-mode", out var mode) && mode is "ISTIO_MUTUAL" or "ISTIO_SIMPLE")
        {
            return null;
        }

        var refs = tls.CertificateRefs ?? [];
        if (refs.Count > 2)
        {
            return (ReasonInvalidCertificateRef, "TLS mode can only support up to 2 server certificates");
        }

        (string Reason, string Message)? error = null;
        foreach (var certificate in refs)
        {
            var name = certificate.Name ?? "";
            var ns = certificate.Namespace ?? gateway.Namespace;
            var text = $"{certificate.Group}/{certificate.Kind}/{name}.{certificate.Namespace}";
            (string, string) problem;
            if ((certificate.Group ?? "") is not ("" or "core") || (certificate.Kind ?? "Secret") != "Secret")
            {
                problem = (ReasonInvalidCertificateRef, $"invalid certificate reference {text}, only secret is allowed");
            }
            else if (resources.Get(new ObjectKey(ResourceTypes.Secret, ns, name)) is null)
            {
                problem = (ReasonInvalidCertificateRef, $"invalid certificate reference {text}, secret {ns}/{name} not found");
            }
            else if (ns != gateway.Namespace && !grants.Allows(GatewayGroup, "Gateway", gateway.Namespace, "", "Secret", ns, name))
            {
                problem = (ReasonRefNotPermitted, $"certificateRef {name}/{ns} not accessible to a Gateway in namespace \"{gateway.Namespace}\" (missing a ReferenceGrant?)");
            }
            else
            {
                return null; // one usable certificate is enough
            }

            error = error is { } before ? (before.Reason, before.Message + "; " + problem.Item2) : problem;
        }

        return error;
    }

    /// <summary>
    /// Upstream's <c>generateSupportedKinds</c> for the route kinds Meshgate serves: HTTPRoute on HTTP and HTTPS,
    /// TLSRoute on TLS, TCPRoute on TCP; none on a listener whose protocol is not accepted. <c>allowedRoutes.kinds</c>
    /// narrows them, and naming a kind the listener cannot take makes the kinds invalid.
    /// </summary>
    internal static (List<(string Group, string Kind)> Kinds, bool Valid) SupportedKinds(Listener listener, bool protocolAccepted)
    {
        List<(string Group, string Kind)> supported = !protocolAccepted ? [] : listener.Protocol switch
        {
            "HTTP" or "HTTPS" => [(GatewayGroup, "HTTPRoute")],
            "TLS" => [(GatewayGroup, "TLSRoute")],
            "TCP" => [(GatewayGroup, "TCPRoute")],
            _ => [],
        };
        if (listener.AllowedRoutes?.Kinds is not { Count: > 0 } allowed)
        {
            return (supported, true);
        }

        var intersection = new List<(string Group, string Kind)>();
        foreach (var kind in supported)
        {
            foreach (var wanted in allowed)
            {
                if (wanted.Kind == kind.Kind && (wanted.Group ?? GatewayGroup) == kind.Group)
                {
                    intersection.Add(kind);
                    break;
                }
            }
        }

        return (intersection, intersection.Count == allowed.Count);
    }

    /// <summary>Upstream's <c>buildHostnameMatch</c>: <c>ns/host</c> per namespace <c>allowedRoutes</c> admits.</summary>
    private static List<(string Namespace, string Host)> Hostnames(string gatewayNamespace, Listener listener, ResourceSet resources)
    {
        var host = listener.Hostname is { Length: > 0 } h ? h : "*";
        return [.. GatewayApiLowering.AdmittedNamespaces(Registry.For(resources), listener, gatewayNamespace).Select(ns => (ns, host))];
    }

    /// <summary>The route kinds a parent with no listeners of its own (a ServiceEntry or Service: the mesh) takes.</summary>
    public static bool MeshAllows(string kind) => kind is "HTTPRoute" or "TLSRoute" or "TCPRoute" or "GRPCRoute";
}

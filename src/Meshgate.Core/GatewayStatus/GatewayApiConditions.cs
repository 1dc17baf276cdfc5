namespace Meshgate.Core.GatewayStatus;

/// <summary>
/// The condition types and reasons Gateway API v1.2 defines (apis/v1/gateway_types.go, gatewayclass_types.go,
/// shared_types.go), and the controller name Istio's gateway controller writes them under
/// (istio/istio <c>pilot/pkg/config/kube/gateway/conversion.go</c>).
/// </summary>
public static class GatewayApiConditions
{
    public const string ControllerName = "istio.io/gateway-controller";

    /// <summary>The class Meshgate deploys (installed by default; a Gateway of it is ours even before the class is).</summary>
    public const string DefaultClassName = "istio";

    /// <summary>The label on a Gateway's workload (its Pods) naming the Gateway.</summary>
    public const string GatewayNameLabel = "gateway.networking.k8s.io/gateway-name";

    public const string Accepted = "Accepted";
    public const string Programmed = "Programmed";
    public const string ResolvedRefs = "ResolvedRefs";
    public const string Conflicted = "Conflicted";

    public const string ReasonAccepted = "Accepted";
    public const string ReasonProgrammed = "Programmed";
    public const string ReasonResolvedRefs = "ResolvedRefs";
    public const string ReasonNoConflicts = "NoConflicts";
    public const string ReasonPending = "Pending";
    public const string ReasonInvalid = "Invalid";
    public const string ReasonInvalidParameters = "InvalidParameters";
    public const string ReasonUnsupportedProtocol = "UnsupportedProtocol";
    public const string ReasonInvalidCertificateRef = "InvalidCertificateRef";
    public const string ReasonInvalidRouteKinds = "InvalidRouteKinds";
    public const string ReasonRefNotPermitted = "RefNotPermitted";
    public const string ReasonNotAllowedByListeners = "NotAllowedByListeners";
    public const string ReasonNoMatchingListenerHostname = "NoMatchingListenerHostname";
    public const string ReasonNoMatchingParent = "NoMatchingParent";
    public const string ReasonBackendNotFound = "BackendNotFound";
    public const string ReasonInvalidKind = "InvalidKind";
}

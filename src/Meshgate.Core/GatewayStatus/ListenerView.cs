using Meshgate.Core.Resources.GatewayApi;

namespace Meshgate.Core.GatewayStatus;

/// <summary>
/// One listener of a Gateway as routes bind to it: the route kinds it takes, the <c>namespace/hostname</c> pairs a
/// route must match (Istio's server hosts: <c>*</c> for any namespace, <c>~</c> for none), and its own conditions.
/// </summary>
internal sealed record ListenerView(
    int Index,
    Listener Spec,
    IReadOnlyList<(string Group, string Kind)> SupportedKinds,
    IReadOnlyList<(string Namespace, string Host)> Hostnames,
    IReadOnlyList<StatusCondition> Conditions)
{
    public string Name => Spec.Name ?? "";

    /// <summary>The hostname as the user wrote it ("" when unset), for messages.</summary>
    public string OriginalHostname => Spec.Hostname ?? "";
}

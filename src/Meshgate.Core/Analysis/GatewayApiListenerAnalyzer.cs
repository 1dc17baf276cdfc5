using Meshgate.Core.Translation;

namespace Meshgate.Core.Analysis;

/// <summary>
/// Gateway API listeners with a protocol the API allows but Meshgate does not implement (UDP, HBONE, a prefixed
/// <c>example.com/proto</c>): apply stores them, as the API server does, but the listener is not programmed (MG0019).
/// Gateway API <c>ProtocolType</c>: an implementation that does not support a protocol sets the listener's Accepted
/// condition to False with reason UnsupportedProtocol.
/// </summary>
internal sealed class GatewayApiListenerAnalyzer : IAnalyzer
{
    public void Analyze(AnalysisIndex index, List<Finding> findings)
    {
        foreach (var gateway in index.GatewayApiGateways.Values)
        {
            for (var i = 0; i < gateway.Listeners.Count; i++)
            {
                var listener = gateway.Listeners[i];
                if (listener.Protocol is not { } protocol || GatewayApiLowering.Implements(protocol))
                {
                    continue;
                }

                var field = $"spec.listeners[{i}].protocol";
                findings.Add(new Finding(Codes.UnsupportedListenerProtocol, gateway.Resource.Key, field,
                    $"Listener \"{listener.Name}\" has protocol {protocol} ({field}), which Meshgate does not implement, so the listener is not programmed "
                    + "(its status says Accepted False, reason UnsupportedProtocol): the gateway serves nothing for it"
                    + (listener.Port is { } port ? $" on port {port}" : "") + ", and a route attached only to it is attached nowhere",
                    Fix(protocol)));
            }
        }
    }

    private static string Fix(string protocol)
    {
        var upper = protocol.ToUpperInvariant();
        if (GatewayApiLowering.Implements(upper))
        {
            return $"write the protocol upper-case, {upper} (Meshgate, like Istio, compares it exactly)";
        }

        var supported = $"use protocol {string.Join(", ", GatewayApiLowering.ImplementedProtocols.SkipLast(1))} or {GatewayApiLowering.ImplementedProtocols[^1]}, or remove the listener";
        // Istio: "protocol HBONE is only supported for waypoint proxies" (a Gateway of class istio-waypoint).
        return upper == "HBONE" ? $"HBONE listeners are for ambient waypoint proxies (class istio-waypoint), which Meshgate does not run: {supported}" : supported;
    }
}

using Meshgate.Core.Resources;
using Meshgate.Core.Resources.GatewayApi;

namespace Meshgate.Core.GatewayStatus;

/// <summary>A Gateway of ours while its status is computed: its listeners, and the routes bound to each (by index).</summary>
internal sealed record GatewayState(Resource Gateway, GatewayApiGatewaySpec Spec, IReadOnlyList<ListenerView> Listeners)
{
    public HashSet<ObjectKey>[] Attached { get; } = [.. Listeners.Select(_ => new HashSet<ObjectKey>())];
}

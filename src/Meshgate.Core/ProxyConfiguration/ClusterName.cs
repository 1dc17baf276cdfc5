using System.Globalization;

namespace Meshgate.Core.ProxyConfiguration;

/// <summary>
/// Istio's cluster names, <c>direction|port|subset|host</c>: <c>outbound|80||edition.cnn.com</c> for a service port,
/// <c>outbound|80|cnn|istio-egressgateway.istio-system.svc.cluster.local</c> for a DestinationRule subset
/// (istio/istio <c>pkg/model/service.go</c> <c>BuildSubsetKey</c>).
/// </summary>
public readonly record struct ClusterName(TrafficDirection Direction, int Port, string Subset, string Host)
{
    /// <summary><c>outbound|{port}|{subset}|{host}</c>; <paramref name="subset"/> may be empty.</summary>
    public static string Outbound(int port, string subset, string host) => Format(TrafficDirection.Outbound, port, subset, host);

    /// <summary><c>inbound|{port}|{subset}|{host}</c>, for traffic a sidecar delivers to its own workload.</summary>
    public static string Inbound(int port, string subset, string host) => Format(TrafficDirection.Inbound, port, subset, host);

    /// <summary>Reads a name written by <see cref="Outbound"/> or <see cref="Inbound"/>; false for any other name.</summary>
    public static bool TryParse(string? name, out ClusterName result)
    {
        result = default;
        var parts = name?.Split('|');
        if (parts is not [var direction, var port, var subset, var host])
        {
            return false;
        }

        TrafficDirection parsedDirection;
        switch (direction)
        {
            case "outbound":
                parsedDirection = TrafficDirection.Outbound;
                break;
            case "inbound":
                parsedDirection = TrafficDirection.Inbound;
                break;
            default:
                return false;
        }

        if (port.Length is 0 or > 5 || port.AsSpan().ContainsAnyExceptInRange('0', '9')
            || !int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out var number) || number is < 1 or > 65535
            || (parsedDirection == TrafficDirection.Outbound && host.Length == 0))
        {
            return false;
        }

        result = new ClusterName(parsedDirection, number, subset, host);
        return true;
    }

    public override string ToString() => Format(Direction, Port, Subset, Host);

    private static string Format(TrafficDirection direction, int port, string subset, string host) =>
        string.Create(CultureInfo.InvariantCulture, $"{(direction == TrafficDirection.Outbound ? "outbound" : "inbound")}|{port}|{subset}|{host}");
}

/// <summary>Which way a cluster's traffic goes, from the proxy's point of view.</summary>
public enum TrafficDirection
{
    Outbound,
    Inbound,
}

using System.Text.Json;
using System.Text.Json.Nodes;
using Meshgate.Core.Resources;

namespace Meshgate.Core.Printing;

/// <summary>
/// The columns <c>get</c> prints for each kind: the additionalPrinterColumns of Istio's and Gateway API's
/// CRDs, and kubectl's built-in columns for Kubernetes kinds. <c>-o wide</c> adds the wide ones, which kubectl prints
/// after AGE.
/// </summary>
public static class PrinterColumns
{
    public sealed record Column(string Header, Func<JsonObject, string> Value, bool WideOnly = false);

    private static readonly Column[] None = [];

    /// <summary>The columns of <paramref name="type"/>; <paramref name="now"/> is when the table is printed (for ages in cells).</summary>
    public static IReadOnlyList<Column> For(ResourceType type, DateTimeOffset now) => type.Kind switch
    {
        "ServiceEntry" => [Json("HOSTS", "spec", "hosts"), Text("LOCATION", "spec", "location"), Text("RESOLUTION", "spec", "resolution")],
        "VirtualService" => [Json("GATEWAYS", "spec", "gateways"), Json("HOSTS", "spec", "hosts")],
        "DestinationRule" => [Text("HOST", "spec", "host")],
        "Gateway" when type.Group == ResourceTypes.GatewayApiGroup =>
            [Text("CLASS", "spec", "gatewayClassName"), new Column("ADDRESS", GatewayAddress), new Column("PROGRAMMED", o => Condition(o, "Programmed"))],
        "HTTPRoute" or "TLSRoute" => [Json("HOSTNAMES", "spec", "hostnames")],
        "GatewayClass" => [Text("CONTROLLER", "spec", "controllerName"), new Column("ACCEPTED", o => Condition(o, "Accepted")), Text("DESCRIPTION", "spec", "description") with { WideOnly = true }],
        "Namespace" => [new Column("STATUS", o => Get(o, "status", "phase")?.ToString() ?? "Active")],
        "ServiceAccount" => [new Column("SECRETS", o => ((Get(o, "secrets") as JsonArray)?.Count ?? 0).ToString(System.Globalization.CultureInfo.InvariantCulture))],
        "Service" =>
        [
            new Column("TYPE", o => Get(o, "spec", "type")?.ToString() ?? "ClusterIP"),
            new Column("CLUSTER-IP", o => Get(o, "spec", "clusterIP")?.ToString() ?? "<none>"),
            new Column("EXTERNAL-IP", o => Get(o, "spec", "externalName")?.ToString() ?? "<none>"),
            new Column("PORT(S)", ServicePorts),
            new Column("SELECTOR", o => Selector(Get(o, "spec", "selector") as JsonObject), WideOnly: true),
        ],
        "Pod" =>
        [
            new Column("READY", o => PodPrinter.Summarize(o, now).Ready),
            new Column("STATUS", o => PodPrinter.Summarize(o, now).Status),
            new Column("RESTARTS", o => PodPrinter.Summarize(o, now).Restarts),
            new Column("IP", PodPrinter.Ip, WideOnly: true),
            new Column("NODE", o => Get(o, "spec", "nodeName")?.ToString() is { Length: > 0 } node ? node : "<none>", WideOnly: true),
            new Column("NOMINATED NODE", o => Get(o, "status", "nominatedNodeName")?.ToString() is { Length: > 0 } node ? node : "<none>", WideOnly: true),
            new Column("READINESS GATES", PodPrinter.ReadinessGates, WideOnly: true),
        ],
        "Deployment" =>
        [
            new Column("READY", o => $"{Number(o, "status", "readyReplicas")}/{Get(o, "spec", "replicas")?.ToString() ?? "1"}"),
            new Column("UP-TO-DATE", o => Number(o, "status", "updatedReplicas")),
            new Column("AVAILABLE", o => Number(o, "status", "availableReplicas")),
            new Column("CONTAINERS", o => Containers(o, "name"), WideOnly: true),
            new Column("IMAGES", o => Containers(o, "image"), WideOnly: true),
            new Column("SELECTOR", o => Selector(Get(o, "spec", "selector", "matchLabels") as JsonObject), WideOnly: true),
        ],
        "NetworkPolicy" => [new Column("POD-SELECTOR", o => Selector(Get(o, "spec", "podSelector", "matchLabels") as JsonObject))],
        "Endpoints" => [new Column("ENDPOINTS", Endpoints)],
        "Secret" => [new Column("TYPE", o => Get(o, "type")?.ToString() ?? "Opaque"), new Column("DATA", o => Count(o, "data"))],
        "ConfigMap" => [new Column("DATA", o => Count(o, "data"))],
        "RoleBinding" or "ClusterRoleBinding" => [new Column("ROLE", o => $"{Get(o, "roleRef", "kind")}/{Get(o, "roleRef", "name")}")],
        _ => None,
    };

    private static Column Text(string header, params string[] path) => new(header, o => Get(o, path)?.ToString() ?? "");

    /// <summary>Lists print as compact JSON, as kubectl prints CRD columns of array type.</summary>
    private static Column Json(string header, params string[] path) =>
        new(header, o => Get(o, path) is { } node ? node.ToJsonString(JsonOptions) : "");

    private static readonly JsonSerializerOptions JsonOptions = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static JsonNode? Get(JsonNode? node, params string[] path)
    {
        foreach (var part in path)
        {
            node = (node as JsonObject)?[part];
        }

        return node;
    }

    private static string Number(JsonObject o, params string[] path) => Get(o, path)?.ToString() ?? "0";

    private static string Count(JsonObject o, string field) =>
        ((Get(o, field) as JsonObject)?.Count ?? 0).ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static string Condition(JsonObject o, string type)
    {
        if (Get(o, "status", "conditions") is JsonArray conditions)
        {
            foreach (var condition in conditions)
            {
                if (condition?["type"]?.ToString() == type)
                {
                    return condition["status"]?.ToString() ?? "Unknown";
                }
            }
        }

        return "Unknown";
    }

    private static string GatewayAddress(JsonObject o) =>
        Get(o, "status", "addresses") is JsonArray { Count: > 0 } a ? string.Join(",", a.Select(x => x?["value"]?.ToString())) : "";

    private static string Selector(JsonObject? labels) =>
        labels is null || labels.Count == 0 ? "<none>" : string.Join(",", labels.Select(p => $"{p.Key}={p.Value}"));

    private static string Containers(JsonObject o, string field) =>
        Get(o, "spec", "template", "spec", "containers") is JsonArray c ? string.Join(",", c.Select(x => x?[field]?.ToString())) : "";

    private static string ServicePorts(JsonObject o)
    {
        if (Get(o, "spec", "ports") is not JsonArray ports || ports.Count == 0)
        {
            return "<none>";
        }

        return string.Join(",", ports.Select(p =>
        {
            var protocol = p?["protocol"]?.ToString() ?? "TCP";
            var nodePort = p?["nodePort"] is { } np ? $":{np}" : "";
            return $"{p?["port"]}{nodePort}/{protocol}";
        }));
    }

    private static string Endpoints(JsonObject o)
    {
        var list = new List<string>();
        if (Get(o, "subsets") is JsonArray subsets)
        {
            foreach (var subset in subsets)
            {
                var addresses = (subset?["addresses"] as JsonArray)?.Select(a => a?["ip"]?.ToString()).ToList() ?? [];
                var ports = (subset?["ports"] as JsonArray)?.Select(p => p?["port"]?.ToString()).ToList() ?? [];
                foreach (var address in addresses)
                {
                    list.AddRange(ports.Count == 0 ? [address ?? ""] : ports.Select(p => $"{address}:{p}"));
                }
            }
        }

        return list.Count == 0 ? "<none>" : string.Join(",", list.Take(3)) + (list.Count > 3 ? $" + {list.Count - 3} more..." : "");
    }
}

using System.Globalization;
using System.Text.Json.Nodes;
using Meshgate.Core.ProxyConfiguration;
using Meshgate.Core.Resources;
using Meshgate.Core.Translation;

namespace Meshgate.ControlPlane.Push;

/// <summary>
/// The Pod a connected proxy stands for (contract.md "Registry"): its labels, service account and address, phase
/// Running, and annotations that tell the CLI how to reach it. A Service's endpoints are the Running pods it selects.
/// </summary>
public static class PodRegistration
{
    public const string RoleAnnotation = ProxyNode.RoleAnnotation;
    public const string AdminPortAnnotation = "meshgate.io/admin-port";
    public const string ProxyIdAnnotation = "meshgate.io/proxy-id";

    public static Resource PodFor(ProxyNode node, int adminPort)
    {
        var labels = new JsonObject();
        foreach (var (key, value) in node.Labels)
        {
            labels[key] = value;
        }

        var metadata = new JsonObject
        {
            ["name"] = node.Name,
            ["namespace"] = node.Namespace,
            ["annotations"] = new JsonObject
            {
                [RoleAnnotation] = node.Role == ProxyRole.Gateway ? "gateway" : "sidecar",
                [AdminPortAnnotation] = adminPort.ToString(CultureInfo.InvariantCulture),
                [ProxyIdAnnotation] = node.Id,
            },
        };
        if (node.HasWorkloadCertificate)
        {
            metadata["annotations"]![ProxyNode.WorkloadCertificateAnnotation] = "true";
        }

        if (labels.Count > 0)
        {
            metadata["labels"] = labels;
        }

        var status = new JsonObject { ["phase"] = "Running" };
        if (!node.Addresses.IsDefaultOrEmpty)
        {
            status["podIP"] = node.Addresses[0];
            status["podIPs"] = new JsonArray([.. node.Addresses.Select(a => (JsonNode)new JsonObject { ["ip"] = a })]);
        }

        var json = new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Pod",
            ["metadata"] = metadata,
            ["spec"] = new JsonObject
            {
                ["serviceAccountName"] = node.ServiceAccount,
                ["containers"] = new JsonArray(new JsonObject { ["name"] = "istio-proxy", ["image"] = "meshgate" }),
            },
            ["status"] = status,
        };
        return new Resource(ResourceTypes.Pod, json);
    }
}

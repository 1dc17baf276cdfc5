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
        var annotations = new JsonObject
        {
            [RoleAnnotation] = node.Role == ProxyRole.Gateway ? "gateway" : "sidecar",
            [AdminPortAnnotation] = adminPort.ToString(CultureInfo.InvariantCulture),
            [ProxyIdAnnotation] = node.Id,
        };
        if (node.HasWorkloadCertificate)
        {
            annotations[ProxyNode.WorkloadCertificateAnnotation] = "true";
        }

        var status = new JsonObject { ["phase"] = "Running" };
        if (!node.Addresses.IsDefaultOrEmpty)
        {
            status["podIP"] = node.Addresses[0];
            status["podIPs"] = new JsonArray([.. node.Addresses.Select(a => (JsonNode)new JsonObject { ["ip"] = a })]);
        }

        return Pod(node.Name, node.Namespace, node.Labels, node.ServiceAccount, annotations, status);
    }

    /// <summary>
    /// A Pod a kubelet runs (the local cluster's, <c>spec.nodeName</c> set): its spec and status are the kubelet's, so a
    /// proxy that registers only adds what the control plane learns from it (<see cref="Annotate"/>).
    /// </summary>
    public static bool IsKubeletPod(Resource pod) => pod.Json["spec"]?["nodeName"] is not null;

    /// <summary>The kubelet's Pod with the registration's annotations (role, admin port, proxy id, workload certificate).</summary>
    public static Resource Annotate(Resource kubeletPod, Resource registration)
    {
        var json = (JsonObject)kubeletPod.Json.DeepClone();
        var metadata = (JsonObject)json["metadata"]!;
        var annotations = metadata["annotations"] as JsonObject ?? new JsonObject();
        metadata["annotations"] = annotations;
        annotations.Remove(ProxyNode.WorkloadCertificateAnnotation);
        foreach (var (key, value) in registration.Metadata["annotations"]?.AsObject() ?? [])
        {
            annotations[key] = value?.DeepClone();
        }

        return new Resource(ResourceTypes.Pod, json);
    }

    /// <summary>
    /// The Pod of a proxy about to start (what kubelet has before the containers run): Pending until its proxy connects
    /// and <see cref="PodFor"/> replaces it, keeping its uid, so a token bound to it stays valid.
    /// </summary>
    public static Resource PendingPodFor(string name, string ns, IReadOnlyDictionary<string, string> labels, string serviceAccount) =>
        Pod(name, ns, labels, serviceAccount, null, new JsonObject { ["phase"] = "Pending" });

    private static Resource Pod(string name, string ns, IReadOnlyDictionary<string, string> labels, string serviceAccount, JsonObject? annotations, JsonObject status)
    {
        var metadata = new JsonObject { ["name"] = name, ["namespace"] = ns };
        if (annotations is not null)
        {
            metadata["annotations"] = annotations;
        }

        if (labels.Count > 0)
        {
            var labelObject = new JsonObject();
            foreach (var (key, value) in labels)
            {
                labelObject[key] = value;
            }

            metadata["labels"] = labelObject;
        }

        var json = new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Pod",
            ["metadata"] = metadata,
            ["spec"] = new JsonObject
            {
                ["serviceAccountName"] = serviceAccount,
                ["containers"] = new JsonArray(new JsonObject { ["name"] = "istio-proxy", ["image"] = "meshgate" }),
            },
            ["status"] = status,
        };
        return new Resource(ResourceTypes.Pod, json);
    }
}

using System.Text.Json.Nodes;
using Meshgate.Core.Resources;
using Meshgate.Core.Resources.GatewayApi;

namespace Meshgate.ControlPlane.Deploy;

/// <summary>
/// What Istio's gateway controller deploys for a Gateway API <c>Gateway</c> of class <c>istio</c> (istio/istio
/// <c>pilot/pkg/config/kube/gateway/deploymentcontroller.go</c>): ServiceAccount, Service and Deployment named
/// <c>&lt;name&gt;-istio</c> in the Gateway's namespace, labelled as Istio labels them, owned by the Gateway, with
/// <c>spec.infrastructure</c>'s labels and annotations copied on. Pure: the same Gateway and current Service give the
/// same objects.
/// </summary>
public static class GatewayWorkloadPlan
{
    public const string ClassName = "istio";
    public const string ControllerName = "istio.io/gateway-controller";
    public const string ManagedLabel = "gateway.istio.io/managed";
    public const string ManagedValue = "istio.io-gateway-controller";
    public const string GatewayNameLabel = "gateway.networking.k8s.io/gateway-name";
    public const string IstioGatewayNameLabel = "istio.io/gateway-name";
    public const string ServiceTypeAnnotation = "networking.istio.io/service-type";

    /// <summary>The name of everything deployed for Gateway <paramref name="gateway"/>.</summary>
    public static string WorkloadName(string gateway) => gateway + "-istio";

    /// <summary>True for a Gateway this controller deploys (class <c>istio</c>).</summary>
    public static bool IsManaged(Resource gateway) =>
        gateway.Type == ResourceTypes.KubernetesGateway && gateway.Spec<GatewayApiGatewaySpec>()?.GatewayClassName == ClassName;

    /// <param name="targetPort">The port the workload listens on for a listener port (the local mesh picks free ports).</param>
    public static IReadOnlyList<Resource> For(Resource gateway, Func<int, int> targetPort)
    {
        var spec = gateway.Spec<GatewayApiGatewaySpec>() ?? new GatewayApiGatewaySpec();
        var name = WorkloadName(gateway.Name);
        var ns = gateway.Namespace;
        var selector = new JsonObject { [GatewayNameLabel] = gateway.Name };

        var ports = new JsonArray();
        foreach (var port in (spec.Listeners ?? []).Where(l => l.Port is not null).Select(l => (int)l.Port!.Value).Distinct().Order())
        {
            var listener = spec.Listeners!.First(l => l.Port == port);
            ports.Add(new JsonObject
            {
                ["name"] = $"{(listener.Protocol ?? "tcp").ToLowerInvariant()}-{port}",
                ["port"] = port,
                ["protocol"] = "TCP",
                ["appProtocol"] = AppProtocol(listener.Protocol),
                ["targetPort"] = targetPort(port),
            });
        }

        var serviceType = gateway.Annotations.TryGetValue(ServiceTypeAnnotation, out var type) && type.Length > 0 ? type : "LoadBalancer";
        return
        [
            Object(ResourceTypes.ServiceAccount, "v1", gateway, name, new JsonObject()),
            Object(ResourceTypes.Service, "v1", gateway, name, new JsonObject
            {
                ["spec"] = new JsonObject { ["type"] = serviceType, ["selector"] = selector.DeepClone(), ["ports"] = ports },
            }),
            Object(ResourceTypes.Deployment, "apps/v1", gateway, name, new JsonObject
            {
                ["spec"] = new JsonObject
                {
                    ["replicas"] = 1,
                    ["selector"] = new JsonObject { ["matchLabels"] = selector.DeepClone() },
                    ["template"] = new JsonObject
                    {
                        ["metadata"] = new JsonObject { ["labels"] = PodLabels(gateway.Name, spec) },
                        ["spec"] = new JsonObject
                        {
                            ["serviceAccountName"] = name,
                            ["containers"] = new JsonArray(new JsonObject { ["name"] = "istio-proxy", ["image"] = "meshgate" }),
                        },
                    },
                },
            }),
        ];
    }

    /// <summary>The gateway pod's labels: Gateway API's and Istio's name labels, and the infrastructure's labels.</summary>
    public static JsonObject PodLabels(string gateway, GatewayApiGatewaySpec spec)
    {
        var labels = new JsonObject();
        foreach (var (key, value) in spec.Infrastructure?.Labels ?? [])
        {
            labels[key] = value;
        }

        labels[GatewayNameLabel] = gateway;
        labels[IstioGatewayNameLabel] = gateway;
        return labels;
    }

    private static string AppProtocol(string? protocol) => protocol switch
    {
        "HTTP" => "http",
        "HTTPS" => "https",
        "TLS" => "tls",
        _ => "tcp",
    };

    private static Resource Object(ResourceType type, string apiVersion, Resource gateway, string name, JsonObject body)
    {
        var spec = gateway.Spec<GatewayApiGatewaySpec>();
        var labels = new JsonObject();
        var annotations = new JsonObject();
        foreach (var (key, value) in spec?.Infrastructure?.Labels ?? [])
        {
            labels[key] = value;
        }

        foreach (var (key, value) in spec?.Infrastructure?.Annotations ?? [])
        {
            annotations[key] = value;
        }

        labels[GatewayNameLabel] = gateway.Name;
        labels[ManagedLabel] = ManagedValue;
        var metadata = new JsonObject
        {
            ["name"] = name,
            ["namespace"] = gateway.Namespace,
            ["labels"] = labels,
            ["ownerReferences"] = new JsonArray(new JsonObject
            {
                ["apiVersion"] = gateway.ApiVersion,
                ["kind"] = "Gateway",
                ["name"] = gateway.Name,
                ["uid"] = gateway.Metadata["uid"]?.GetValue<string>() ?? "",
            }),
        };
        if (annotations.Count > 0)
        {
            metadata["annotations"] = annotations;
        }

        var json = new JsonObject { ["apiVersion"] = apiVersion, ["kind"] = type.Kind, ["metadata"] = metadata };
        foreach (var (key, value) in body.ToList())
        {
            body.Remove(key);
            json[key] = value;
        }

        return new Resource(type, json);
    }
}

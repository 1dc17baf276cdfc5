using System.Text.Json;
using System.Text.Json.Nodes;

using k8s.Models;

using Meshgate.Core.Resources;
using Meshgate.Core.Resources.GatewayApi;
using Meshgate.Core.Resources.Istio;

namespace Meshgate.Core.Validation;

/// <summary>Dispatches an object that passed the schema to its kind's semantic rules.</summary>
internal static class KindRules
{
    public static void Check(ResourceType type, JsonObject root, string name, RuleContext c)
    {
        var spec = root["spec"];
        if (spec is null && !type.IsKubernetesModel)
        {
            c.Error("spec", "required field is missing");
            return;
        }

        spec ??= new JsonObject();
        switch (type)
        {
            case var t when t == ResourceTypes.ServiceEntry:
                IstioRules.ServiceEntry(Spec<ServiceEntrySpec>(spec), c);
                break;
            case var t when t == ResourceTypes.Gateway:
                IstioRules.Gateway(Spec<GatewaySpec>(spec), name, c);
                break;
            case var t when t == ResourceTypes.VirtualService:
                IstioRules.VirtualService(Spec<VirtualServiceSpec>(spec), c);
                break;
            case var t when t == ResourceTypes.DestinationRule:
                IstioRules.DestinationRule(Spec<DestinationRuleSpec>(spec), c);
                break;
            case var t when t == ResourceTypes.KubernetesGateway:
                GatewayApiRules.Gateway(Spec<GatewayApiGatewaySpec>(spec), c);
                break;
            case var t when t == ResourceTypes.HttpRoute:
                GatewayApiRules.HttpRoute(Spec<HttpRouteSpec>(spec), c);
                break;
            case var t when t == ResourceTypes.TlsRoute:
                GatewayApiRules.TlsRoute(Spec<TlsRouteSpec>(spec), c);
                break;
            case var t when t == ResourceTypes.GatewayClass:
                GatewayApiRules.GatewayClass(Spec<GatewayClassSpec>(spec), c);
                break;
            case var t when t == ResourceTypes.Service:
                KubernetesRules.Service(Model<V1Service>(root), c);
                break;
            case var t when t == ResourceTypes.Deployment:
                KubernetesRules.Deployment(Model<V1Deployment>(root), c);
                break;
            case var t when t == ResourceTypes.NetworkPolicy:
                KubernetesRules.NetworkPolicy(Model<V1NetworkPolicy>(root), c);
                break;
        }
    }

    // The schema check has passed, so deserialization cannot fail on shape.
    private static T Spec<T>(JsonNode spec)
        where T : class => spec.Deserialize<T>(ResourceJson.Options) ?? throw new InvalidOperationException("spec is null");

    private static T Model<T>(JsonObject root)
        where T : class => k8s.KubernetesJson.Deserialize<T>(root.ToJsonString());
}

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
    /// <summary>Checks <paramref name="root"/>; returns what keeps the typed spec it read on the resulting <see cref="Resource"/>, if any.</summary>
    public static Func<Resource, Resource>? Check(ResourceType type, JsonObject root, string name, RuleContext c)
    {
        var spec = root["spec"];
        if (spec is null && !type.IsKubernetesModel)
        {
            c.Error("spec", "required field is missing");
            return null;
        }

        spec ??= new JsonObject();
        switch (type)
        {
            case var t when t == ResourceTypes.ServiceEntry:
                return Checked(Spec<ServiceEntrySpec>(spec), s => IstioRules.ServiceEntry(s, c));
            case var t when t == ResourceTypes.Gateway:
                return Checked(Spec<GatewaySpec>(spec), s => IstioRules.Gateway(s, name, c));
            case var t when t == ResourceTypes.VirtualService:
                return Checked(Spec<VirtualServiceSpec>(spec), s => IstioRules.VirtualService(s, c));
            case var t when t == ResourceTypes.DestinationRule:
                return Checked(Spec<DestinationRuleSpec>(spec), s => IstioRules.DestinationRule(s, c));
            case var t when t == ResourceTypes.KubernetesGateway:
                return Checked(Spec<GatewayApiGatewaySpec>(spec), s => GatewayApiRules.Gateway(s, c));
            case var t when t == ResourceTypes.HttpRoute:
                return Checked(Spec<HttpRouteSpec>(spec), s => GatewayApiRules.HttpRoute(s, c));
            case var t when t == ResourceTypes.TlsRoute:
                return Checked(Spec<TlsRouteSpec>(spec), s => GatewayApiRules.TlsRoute(s, c));
            case var t when t == ResourceTypes.TcpRoute:
                return Checked(Spec<TcpRouteSpec>(spec), s => GatewayApiRules.TcpRoute(s, c));
            case var t when t == ResourceTypes.GatewayClass:
                return Checked(Spec<GatewayClassSpec>(spec), s => GatewayApiRules.GatewayClass(s, c));
            case var t when t == ResourceTypes.Service:
                KubernetesRules.Service(Model<V1Service>(root), c);
                break;
            case var t when t == ResourceTypes.Deployment:
                KubernetesRules.Deployment(Model<V1Deployment>(root), c);
                break;
            case var t when t == ResourceTypes.NetworkPolicy:
                KubernetesRules.NetworkPolicy(Model<V1NetworkPolicy>(root), c);
                break;
            case var t when t == ResourceTypes.CustomResourceDefinition:
                CustomResourceDefinitionRules.Check(root, name, c);
                break;
        }

        return null;
    }

    /// <summary>Runs <paramref name="rules"/> on <paramref name="spec"/>, and hands the spec on for the stored object.</summary>
    private static Func<Resource, Resource> Checked<T>(T spec, Action<T> rules)
        where T : class
    {
        rules(spec);
        return resource => resource.WithParsedSpec(spec);
    }

    // The schema check has passed, so deserialization cannot fail on shape.
    private static T Spec<T>(JsonNode spec)
        where T : class => spec.Deserialize<T>(ResourceJson.Options) ?? throw new InvalidOperationException("spec is null");

    private static T Model<T>(JsonObject root)
        where T : class => k8s.KubernetesJson.Deserialize<T>(root.ToJsonString());
}

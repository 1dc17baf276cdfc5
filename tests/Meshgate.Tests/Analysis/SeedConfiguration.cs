using System.Collections.Immutable;
using System.Text.Json.Nodes;
using Meshgate.Core.Resources;
using Meshgate.Core.Validation;
using Meshgate.Core.Yaml;
using Xunit;

namespace Meshgate.Tests.Analysis;

/// <summary>
/// The seed's HTTP configuration as the control plane holds it once <c>meshgate up</c> runs and the sidecar connected:
/// the egress gateway's Service and Pod, the sleep Pod, and the seed's ServiceEntry, Gateway, DestinationRule and
/// VirtualService. Variants replace one document by its key.
/// </summary>
internal static class SeedConfiguration
{
    public const string GatewayService = """
        apiVersion: v1
        kind: Service
        metadata:
          name: istio-egressgateway
          namespace: istio-system
          labels: {istio: egressgateway, app: istio-egressgateway}
        spec:
          selector: {istio: egressgateway, app: istio-egressgateway}
          ports:
          - {name: http2, port: 80, targetPort: 8080}
          - {name: https, port: 443, targetPort: 8443}
        """;

    public const string GatewayPod = """
        apiVersion: v1
        kind: Pod
        metadata:
          name: istio-egressgateway-0
          namespace: istio-system
          labels: {istio: egressgateway, app: istio-egressgateway}
          annotations: {meshgate.io/role: gateway}
        spec:
          serviceAccountName: istio-egressgateway-service-account
          containers:
          - {name: istio-proxy, image: meshgate}
        """;

    public const string SleepPod = """
        apiVersion: v1
        kind: Pod
        metadata:
          name: sleep-0
          namespace: default
          labels: {app: sleep}
          annotations: {meshgate.io/role: sidecar}
        spec:
          serviceAccountName: sleep
          containers:
          - {name: sleep, image: curl}
        """;

    public const string ServiceEntry = """
        apiVersion: networking.istio.io/v1alpha3
        kind: ServiceEntry
        metadata:
          name: cnn
        spec:
          hosts:
          - edition.cnn.com
          ports:
          - number: 80
            name: http-port
            protocol: HTTP
          - number: 443
            name: https
            protocol: HTTPS
          resolution: DNS
        """;

    public const string Gateway = """
        apiVersion: networking.istio.io/v1alpha3
        kind: Gateway
        metadata:
          name: istio-egressgateway
        spec:
          selector:
            istio: egressgateway
          servers:
          - port:
              number: 80
              name: http
              protocol: HTTP
            hosts:
            - edition.cnn.com
        """;

    public const string DestinationRule = """
        apiVersion: networking.istio.io/v1alpha3
        kind: DestinationRule
        metadata:
          name: egressgateway-for-cnn
        spec:
          host: istio-egressgateway.istio-system.svc.cluster.local
          subsets:
          - name: cnn
        """;

    public const string VirtualService = """
        apiVersion: networking.istio.io/v1alpha3
        kind: VirtualService
        metadata:
          name: direct-cnn-through-egress-gateway
        spec:
          hosts:
          - edition.cnn.com
          gateways:
          - istio-egressgateway
          - mesh
          http:
          - match:
            - gateways:
              - mesh
              port: 80
            route:
            - destination:
                host: istio-egressgateway.istio-system.svc.cluster.local
                subset: cnn
                port:
                  number: 80
              weight: 100
          - match:
            - gateways:
              - istio-egressgateway
              port: 80
            route:
            - destination:
                host: edition.cnn.com
                port:
                  number: 80
              weight: 100
        """;

    public const string HttpsServiceEntry = """
        apiVersion: networking.istio.io/v1alpha3
        kind: ServiceEntry
        metadata:
          name: cnn
        spec:
          hosts:
          - edition.cnn.com
          ports:
          - number: 443
            name: tls
            protocol: TLS
          resolution: DNS
        """;

    public const string HttpsGateway = """
        apiVersion: networking.istio.io/v1alpha3
        kind: Gateway
        metadata:
          name: istio-egressgateway
        spec:
          selector:
            istio: egressgateway
          servers:
          - port:
              number: 443
              name: tls
              protocol: TLS
            hosts:
            - edition.cnn.com
            tls:
              mode: PASSTHROUGH
        """;

    public const string HttpsVirtualService = """
        apiVersion: networking.istio.io/v1alpha3
        kind: VirtualService
        metadata:
          name: direct-cnn-through-egress-gateway
        spec:
          hosts:
          - edition.cnn.com
          gateways:
          - mesh
          - istio-egressgateway
          tls:
          - match:
            - gateways:
              - mesh
              port: 443
              sniHosts:
              - edition.cnn.com
            route:
            - destination:
                host: istio-egressgateway.istio-system.svc.cluster.local
                subset: cnn
                port:
                  number: 443
          - match:
            - gateways:
              - istio-egressgateway
              port: 443
              sniHosts:
              - edition.cnn.com
            route:
            - destination:
                host: edition.cnn.com
                port:
                  number: 443
              weight: 100
        """;

    public static readonly IReadOnlyList<string> Http = [GatewayService, GatewayPod, SleepPod, ServiceEntry, Gateway, DestinationRule, VirtualService];

    public static readonly IReadOnlyList<string> Https = [GatewayService, GatewayPod, SleepPod, HttpsServiceEntry, HttpsGateway, DestinationRule, HttpsVirtualService];

    /// <summary>
    /// Parses and validates every document (as apply does), later documents replacing earlier ones with the same key.
    /// Apply drops <c>status</c> (the control plane's to write); a document's status is put back, standing for what the
    /// control plane wrote on the stored object.
    /// </summary>
    public static ResourceSet Build(IEnumerable<string> documents)
    {
        var objects = ImmutableDictionary.CreateBuilder<ObjectKey, Resource>();
        foreach (var document in documents)
        {
            var parsed = ResourceParser.ParseText(document, "test.yaml");
            Assert.True(parsed.Ok, string.Join("\n", parsed.Errors));
            var statuses = YamlReader.Read(document, "test.yaml")
                .Select(d => d.Root as JsonObject)
                .Where(root => root?["status"] is not null)
                .ToDictionary(root => (root!["kind"]!.GetValue<string>(), root["metadata"]!["name"]!.GetValue<string>()), root => root!["status"]!);
            foreach (var resource in parsed.Resources)
            {
                var stored = resource;
                if (statuses.TryGetValue((resource.Type.Kind, resource.Name), out var status))
                {
                    var json = (JsonObject)resource.Json.DeepClone();
                    json["status"] = status.DeepClone();
                    stored = new Resource(resource.Type, json);
                }

                objects[stored.Key] = stored;
            }
        }

        return new ResourceSet(1, objects.ToImmutable());
    }
}

using Meshgate.Core.Translation;

namespace Meshgate.Tests.Analysis;

/// <summary>Minimal broken variants of the seed configuration, each meant to trigger one finding (or the ones it must imply).</summary>
internal static class AnalyzerCases
{
    private static IReadOnlyList<string> With(params string[] replacements) => [.. SeedConfiguration.Http, .. replacements];

    private static string Replace(string document, string from, string to) =>
        document.Contains(from, StringComparison.Ordinal) ? document.Replace(from, to, StringComparison.Ordinal) : throw new ArgumentException($"'{from}' is not in the document");

    private static string SeedFile(string name) => File.ReadAllText(Path.Combine(TestPaths.TestData, "Seed", name));

    private static readonly IReadOnlyList<string> GatewayApiHttp =
        [SeedConfiguration.SleepPod, SeedConfiguration.ServiceEntry, SeedFile("http-gatewayapi-gateway.yaml"), SeedFile("http-gatewayapi-httproutes.yaml")];

    private static readonly IReadOnlyList<string> GatewayApiHttps =
        [SeedConfiguration.SleepPod, SeedConfiguration.HttpsServiceEntry, SeedFile("https-gatewayapi-gateway-tlsroutes.yaml")];

    private static readonly string GatewayApiGateway = SeedFile("http-gatewayapi-gateway.yaml");

    private static readonly string GatewayApiRoutes = SeedFile("http-gatewayapi-httproutes.yaml");

    /// <summary>Hop 1 as the mutual TLS origination page writes it for Gateway API: a mesh VirtualService to the Gateway's deployed Service.</summary>
    private const string MeshToDeployedGateway = """
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata:
          name: direct-cnn-to-egress-gateway
        spec:
          hosts: [edition.cnn.com]
          gateways: [mesh]
          http:
          - match: [{port: 80}]
            route:
            - destination: {host: cnn-egress-gateway-istio.default.svc.cluster.local, port: {number: 80}}
        """;

    /// <summary>Hop 2 written as a VirtualService bound by name to the Gateway API Gateway, which Istio does not bind.</summary>
    private const string VirtualServiceOnGatewayApiGateway = """
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata:
          name: forward-cnn-from-egress-gateway
        spec:
          hosts: [edition.cnn.com]
          gateways: [cnn-egress-gateway]
          http:
          - match: [{port: 80}]
            route:
            - destination: {host: edition.cnn.com, port: {number: 80}}
        """;

    /// <summary>The fix MG0002 suggests: an Istio Gateway selecting the pods deployed for the Gateway API Gateway.</summary>
    private const string IstioGatewayOnDeployedPods = """
        apiVersion: networking.istio.io/v1
        kind: Gateway
        metadata:
          name: cnn-egress-gateway
        spec:
          selector: {gateway.networking.k8s.io/gateway-name: cnn-egress-gateway}
          servers:
          - port: {number: 80, name: http, protocol: HTTP}
            hosts: [edition.cnn.com]
        """;

    /// <summary>What the control plane writes while the Gateway's proxy has not connected.</summary>
    private const string NotProgrammedStatus = """

        status:
          conditions:
          - {type: Accepted, status: "True", reason: Accepted, message: Resource accepted}
          - type: Programmed
            status: "False"
            reason: Pending
            message: waiting for the gateway's proxy (deployment default/cnn-egress-gateway-istio) to connect and apply the configuration
        """;

    /// <summary>What the control plane writes on a route whose Hostname backend no ServiceEntry declares.</summary>
    private const string BackendNotFoundStatus = """

        status:
          parents:
          - parentRef: {group: gateway.networking.k8s.io, kind: Gateway, name: cnn-egress-gateway}
            controllerName: istio.io/gateway-controller
            conditions:
            - {type: Accepted, status: "True", reason: Accepted, message: Route was valid}
            - {type: ResolvedRefs, status: "False", reason: BackendNotFound, message: backend(edition.cnn.co) not found}
        """;

    /// <summary>Hop 2 from another namespace, which the Gateway's listener (allowedRoutes from: Same) does not admit.</summary>
    private const string RouteFromOtherNamespace = """
        apiVersion: gateway.networking.k8s.io/v1
        kind: HTTPRoute
        metadata:
          name: forward-cnn-from-other
          namespace: other
        spec:
          parentRefs:
          - {name: cnn-egress-gateway, namespace: default}
          hostnames: [edition.cnn.com]
          rules:
          - backendRefs:
            - {kind: Hostname, group: networking.istio.io, name: edition.cnn.com, port: 80}
        """;

    private const string InjectedNamespace = """
        apiVersion: v1
        kind: Namespace
        metadata:
          name: test-egress
          labels:
            istio-injection: enabled
        """;

    /// <summary>Selects every pod for Egress, but its one rule has no <c>to</c>: it allows every destination.</summary>
    private const string AllowAllEgressPolicy = """
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata:
          name: allow-dns-anywhere
          namespace: test-egress
        spec:
          podSelector: {}
          policyTypes:
          - Egress
          egress:
          - ports:
            - protocol: UDP
              port: 53
          - {}
        """;

    private const string UdpAndHboneListeners = """
          - {name: dns, port: 53, protocol: UDP}
          - {name: hbone, port: 15008, protocol: HBONE}
        """;

    /// <summary>A mesh route for a host without ServiceEntry on a port nothing in the registry declares.</summary>
    private const string UnlistedPortVirtualService = """
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata:
          name: api-example
        spec:
          hosts: [api.example.com]
          http:
          - match: [{port: 8080}]
            route:
            - destination: {host: edition.cnn.com, port: {number: 80}}
        """;

    public static readonly MeshSettings AllowAny = new();

    public static readonly MeshSettings RegistryOnly = new() { OutboundTrafficPolicy = OutboundTrafficPolicyMode.RegistryOnly };

    public static readonly IReadOnlyDictionary<string, (IReadOnlyList<string> Documents, MeshSettings Mesh)> Variants =
        new Dictionary<string, (IReadOnlyList<string>, MeshSettings)>
        {
            ["seed http"] = (SeedConfiguration.Http, AllowAny),
            ["seed http, REGISTRY_ONLY"] = (SeedConfiguration.Http, RegistryOnly),
            ["seed https"] = (SeedConfiguration.Https, AllowAny),
            ["seed network policy section: sleep in test-egress with its own DestinationRule"] = (With(
                Replace(Replace(SeedConfiguration.SleepPod, "namespace: default", "namespace: test-egress"), "sleep-0", "sleep-1"),
                Replace(SeedConfiguration.DestinationRule, "name: egressgateway-for-cnn", "name: egressgateway-for-cnn\n  namespace: test-egress")), AllowAny),
            ["clean: Gateway in istio-system, referenced as istio-system/istio-egressgateway"] = (
                [.. SeedConfiguration.Http.Where(d => d != SeedConfiguration.Gateway && d != SeedConfiguration.VirtualService),
                    Replace(SeedConfiguration.Gateway, "name: istio-egressgateway", "name: istio-egressgateway\n  namespace: istio-system"),
                    SeedConfiguration.VirtualService.Replace("- istio-egressgateway", "- istio-system/istio-egressgateway", StringComparison.Ordinal)], AllowAny),
            ["clean: wildcard ServiceEntry with resolution NONE used directly, not through a gateway"] = (With("""
                apiVersion: networking.istio.io/v1
                kind: ServiceEntry
                metadata:
                  name: wikipedia
                spec:
                  hosts: ["*.wikipedia.org"]
                  ports: [{number: 443, name: tls, protocol: TLS}]
                  resolution: NONE
                """), AllowAny),
            ["MG0001 resolution NONE"] = (With(Replace(SeedConfiguration.ServiceEntry, "resolution: DNS", "resolution: NONE")), AllowAny),
            ["MG0001 resolution unset"] = (With(Replace(SeedConfiguration.ServiceEntry, "\n  resolution: DNS", "")), AllowAny),
            ["MG0002 gateway in another namespace"] = (
                [.. SeedConfiguration.Http.Where(d => d != SeedConfiguration.Gateway),
                    Replace(SeedConfiguration.Gateway, "name: istio-egressgateway", "name: istio-egressgateway\n  namespace: istio-system")], AllowAny),
            ["MG0002 gateway misspelled"] = (With(Replace(SeedConfiguration.VirtualService, "  - istio-egressgateway\n  - mesh", "  - istio-egresgateway\n  - mesh")), AllowAny),
            ["MG0003 subset missing"] = (With(Replace(SeedConfiguration.DestinationRule, "- name: cnn", "- name: edition")), AllowAny),
            ["MG0003 no destination rule"] = (SeedConfiguration.Http.Where(d => d != SeedConfiguration.DestinationRule).ToList(), AllowAny),
            ["MG0004 client in test-egress"] = (With(
                Replace(Replace(SeedConfiguration.SleepPod, "namespace: default", "namespace: test-egress"), "sleep-0", "sleep-1")), AllowAny),
            ["MG0004 exportTo hides it"] = (
                [.. SeedConfiguration.Http.Where(d => d != SeedConfiguration.DestinationRule),
                    Replace(Replace(SeedConfiguration.DestinationRule, "name: egressgateway-for-cnn", "name: egressgateway-for-cnn\n  namespace: istio-system"), "spec:\n", "spec:\n  exportTo: [\".\"]\n")], AllowAny),
            ["MG0005 selector matches nothing"] = (With(Replace(SeedConfiguration.Gateway, "istio: egressgateway", "istio: egress-gateway")), AllowAny),
            ["MG0006 host not in server"] = (With(Replace(SeedConfiguration.Gateway, "    - edition.cnn.com", "    - www.cnn.com")), AllowAny),
            ["MG0006 no server on the port"] = (With(Replace(SeedConfiguration.Gateway, "number: 80", "number: 8080")), AllowAny),
            ["MG0007 host not found"] = (With(Replace(SeedConfiguration.VirtualService, "        host: edition.cnn.com", "        host: edition.cnn.co")), AllowAny),
            ["MG0007 port not declared"] = (With(Replace(SeedConfiguration.VirtualService, "        host: edition.cnn.com\n        port:\n          number: 80", "        host: edition.cnn.com\n        port:\n          number: 8080")), AllowAny),
            ["MG0008 no route bound to the gateway"] = (With(SeedConfiguration.VirtualService[..SeedConfiguration.VirtualService.IndexOf("  - match:\n    - gateways:\n      - istio-egressgateway", StringComparison.Ordinal)]), AllowAny),
            ["MG0007 no service entry for the gateway hop"] = (SeedConfiguration.Http.Where(d => d != SeedConfiguration.ServiceEntry).ToList(), AllowAny),
            ["MG0009 no service entry, port no listener has"] = (With(UnlistedPortVirtualService), AllowAny),
            ["MG0010 no service entry, port no listener has, REGISTRY_ONLY"] = (With(UnlistedPortVirtualService), RegistryOnly),
            ["MG0011 two resolutions"] = (With(Replace(Replace(SeedConfiguration.ServiceEntry, "resolution: DNS", "resolution: STATIC\n  endpoints:\n  - address: 151.101.3.5"), "name: cnn", "name: cnn-static\n  namespace: other")), AllowAny),
            ["MG0012 https routes written under http"] = (
                [.. SeedConfiguration.Https.Where(d => d != SeedConfiguration.HttpsVirtualService),
                    SeedConfiguration.HttpsVirtualService.Replace("  tls:\n", "  http:\n", StringComparison.Ordinal).Replace("      sniHosts:\n      - edition.cnn.com\n", "", StringComparison.Ordinal)], AllowAny),
            ["MG0013 gateway port not on the service"] = (With(SeedConfiguration.Gateway
                + "\n  - port:\n      number: 9000\n      name: http-9000\n      protocol: HTTP\n    hosts:\n    - edition.cnn.com"), AllowAny),
            ["seed http, Gateway API"] = (GatewayApiHttp, AllowAny),
            ["seed https, Gateway API"] = (GatewayApiHttps, AllowAny),
            ["MG0001 Gateway API, resolution NONE"] = ([.. GatewayApiHttps, Replace(SeedConfiguration.HttpsServiceEntry, "resolution: DNS", "resolution: NONE")], AllowAny),
            ["MG0007 Gateway API, backend Service missing"] = ([.. GatewayApiHttp, Replace(SeedFile("http-gatewayapi-httproutes.yaml"), "- name: cnn-egress-gateway-istio", "- name: cnn-egress-gateway")], AllowAny),
            ["MG0014 Gateway API, parent misspelled"] = ([.. GatewayApiHttp, Replace(SeedFile("http-gatewayapi-httproutes.yaml"), "  - name: cnn-egress-gateway\n", "  - name: cnn-egress-gw\n")], AllowAny),
            ["clean: Gateway API, hop 1 a mesh VirtualService to the Gateway's deployed Service"] = ([.. GatewayApiHttp, MeshToDeployedGateway], AllowAny),
            ["MG0002 VirtualService bound by name to a Gateway API Gateway"] = ([.. GatewayApiHttp, VirtualServiceOnGatewayApiGateway], AllowAny),
            ["clean: VirtualService bound to an Istio Gateway on a Gateway API Gateway's deployed pods"] = (
                [.. GatewayApiHttp, IstioGatewayOnDeployedPods, VirtualServiceOnGatewayApiGateway], AllowAny),
            ["MG0008 Gateway API, no route attached for the host"] = (
                [SeedConfiguration.SleepPod, SeedConfiguration.ServiceEntry, GatewayApiGateway, MeshToDeployedGateway], AllowAny),
            ["MG0007 Gateway API, backend port the deployed Service lacks"] = ([.. GatewayApiHttp, Replace(GatewayApiRoutes, "      port: 80\n---", "      port: 8080\n---")], AllowAny),
            ["MG0014 Gateway API, sectionName names no listener"] = ([.. GatewayApiHttp, Replace(GatewayApiRoutes, "  - name: cnn-egress-gateway\n", "  - name: cnn-egress-gateway\n    sectionName: https\n")], AllowAny),
            ["MG0014 Gateway API, port no listener has"] = ([.. GatewayApiHttp, Replace(GatewayApiRoutes, "  - name: cnn-egress-gateway\n", "  - name: cnn-egress-gateway\n    port: 443\n")], AllowAny),
            ["MG0014 Gateway API, route in a namespace the listener does not admit"] = ([.. GatewayApiHttp, RouteFromOtherNamespace], AllowAny),
            ["MG0014 Gateway API, attached only to a UDP listener"] = ([.. GatewayApiHttp,
                GatewayApiGateway + UdpAndHboneListeners,
                Replace(GatewayApiRoutes, "  - name: cnn-egress-gateway\n", "  - name: cnn-egress-gateway\n    sectionName: dns\n")], AllowAny),
            ["MG0017 Gateway API Gateway not programmed"] = ([.. GatewayApiHttp, GatewayApiGateway + NotProgrammedStatus], AllowAny),
            ["MG0018 Gateway API backend not resolved"] = ([.. GatewayApiHttp,
                Replace(GatewayApiRoutes, "      name: edition.cnn.com\n", "      name: edition.cnn.co\n") + BackendNotFoundStatus], AllowAny),
            ["MG0019 UDP and HBONE listeners"] = ([.. GatewayApiHttp, GatewayApiGateway + UdpAndHboneListeners], AllowAny),
            ["MG0020 injected namespace without an egress policy"] = (With(InjectedNamespace, AllowAllEgressPolicy), AllowAny),
            ["injected namespace with the task's egress policy"] = (With(InjectedNamespace, SeedFile("netpol-istio-networkpolicy.yaml").Replace("name: allow-egress", "namespace: test-egress\n  name: allow-egress", StringComparison.Ordinal)), AllowAny),
            ["ISTIO_MUTUAL between sidecar and gateway"] = (With(Replace(SeedConfiguration.DestinationRule, "  subsets:\n", "  trafficPolicy:\n    tls:\n      mode: ISTIO_MUTUAL\n  subsets:\n")), AllowAny),
            ["MG0016 plaintext hop to the gateway"] = (With(Replace(SeedConfiguration.DestinationRule, "  subsets:\n", "  trafficPolicy:\n    tls:\n      mode: DISABLE\n  subsets:\n")), AllowAny),
        };
}

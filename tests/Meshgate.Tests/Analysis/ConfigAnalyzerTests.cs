using Meshgate.Core.Analysis;
using Xunit;

namespace Meshgate.Tests.Analysis;

/// <summary>
/// One table: the seed's configurations analyze clean, and each minimal broken variant (AnalyzerCases) gives exactly the
/// findings listed, message and fix included, as `meshgate analyze` prints them.
/// </summary>
public sealed class ConfigAnalyzerTests
{
    private static readonly Dictionary<string, string[]> Expected = new()
    {
        ["seed http"] = [],
        ["seed http, REGISTRY_ONLY"] = [],
        ["seed https"] = [],
        ["seed network policy section: sleep in test-egress with its own DestinationRule"] = [],
        ["clean: Gateway in istio-system, referenced as istio-system/istio-egressgateway"] = [],
        ["clean: wildcard ServiceEntry with resolution NONE used directly, not through a gateway"] = [],
        ["MG0001 resolution NONE"] =
        [
            """Error [MG0001] (ServiceEntry default/cnn) Host "edition.cnn.com" has resolution: NONE (spec.resolution), but VirtualService default/direct-cnn-through-egress-gateway routes it through Gateway default/istio-egressgateway (spec.http[1].route[0].destination): the gateway would forward each request to its original destination address, which is the gateway's own, in a loop (503 UH). Fix: set spec.resolution: DNS so the gateway resolves the host itself (or STATIC with spec.endpoints)""",
        ],
        ["MG0001 resolution unset"] =
        [
            """Error [MG0001] (ServiceEntry default/cnn) Host "edition.cnn.com" has resolution unset, which means NONE (spec.resolution), but VirtualService default/direct-cnn-through-egress-gateway routes it through Gateway default/istio-egressgateway (spec.http[1].route[0].destination): the gateway would forward each request to its original destination address, which is the gateway's own, in a loop (503 UH). Fix: set spec.resolution: DNS so the gateway resolves the host itself (or STATIC with spec.endpoints)""",
        ],
        ["MG0002 gateway in another namespace"] =
        [
            """Error [MG0002] (VirtualService default/direct-cnn-through-egress-gateway) Referenced gateway not found: "istio-egressgateway" (spec.gateways[0]): no Gateway default/istio-egressgateway, so the routes bound to it are not applied anywhere. Fix: the Gateway is in another namespace: write "istio-system/istio-egressgateway" (a name without "namespace/" means the VirtualService's namespace, default)""",
            """Error [MG0008] (VirtualService default/direct-cnn-through-egress-gateway) Host "edition.cnn.com" is sent to the egress gateway istio-egressgateway.istio-system.svc.cluster.local (spec.http[0].route[0].destination), but no VirtualService bound to Gateway istio-system/istio-egressgateway routes "edition.cnn.com" on port 80: the gateway answers 404 (NR) for HTTP and closes TLS connections, so the traffic never leaves the mesh. Fix: add a route for "edition.cnn.com" bound to the gateway (e.g. a route with match gateways: [istio-system/istio-egressgateway] and port: 80 and destination host: edition.cnn.com), in this VirtualService or another""",
        ],
        ["MG0002 gateway misspelled"] =
        [
            """Error [MG0002] (VirtualService default/direct-cnn-through-egress-gateway) Referenced gateway not found: "istio-egresgateway" (spec.gateways[0]): no Gateway default/istio-egresgateway, so the routes bound to it are not applied anywhere. Fix: create Gateway default/istio-egresgateway, or correct spec.gateways[0] (a name without "namespace/" means the VirtualService's namespace, default)""",
        ],
        ["MG0003 subset missing"] =
        [
            """Error [MG0003] (VirtualService default/direct-cnn-through-egress-gateway) Referenced subset not found: "cnn" (spec.http[0].route[0].destination.subset): DestinationRule default/egressgateway-for-cnn for host istio-egressgateway.istio-system.svc.cluster.local has subsets "edition"; requests to this route fail with 503 (NC). Fix: add a subset named "cnn" to DestinationRule default/egressgateway-for-cnn (spec.subsets), or route to one of its subsets""",
        ],
        ["MG0003 no destination rule"] =
        [
            """Error [MG0003] (VirtualService default/direct-cnn-through-egress-gateway) Referenced subset not found: "cnn" (spec.http[0].route[0].destination.subset): no DestinationRule for host istio-egressgateway.istio-system.svc.cluster.local defines it; requests to this route fail with 503 (NC). Fix: create a DestinationRule with host istio-egressgateway.istio-system.svc.cluster.local and subset "cnn" in namespace default (the client's) or istio-system (every namespace's), or remove the subset from the route""",
        ],
        ["MG0004 client in test-egress"] =
        [
            """Error [MG0004] (DestinationRule default/egressgateway-for-cnn) Not on the destination rule lookup path of clients in namespace test-egress, which is test-egress (the client's), then istio-system (the host's, the root namespace): VirtualService default/direct-cnn-through-egress-gateway routes them to subset "cnn" of istio-egressgateway.istio-system.svc.cluster.local (spec.http[0].route[0].destination.subset); their requests fail with 503 (NC). Fix: apply a copy of this DestinationRule in namespace test-egress, or move it to istio-system (the root namespace) so every namespace finds it""",
        ],
        ["MG0004 exportTo hides it"] =
        [
            """Error [MG0004] (DestinationRule istio-system/egressgateway-for-cnn) Hidden from clients in namespace default by spec.exportTo [.], though it is on their lookup path (default (the client's), then istio-system (the host's, the root namespace)): VirtualService default/direct-cnn-through-egress-gateway routes them to subset "cnn" of istio-egressgateway.istio-system.svc.cluster.local (spec.http[0].route[0].destination.subset); their requests fail with 503 (NC). Fix: add "default" (or "*") to spec.exportTo, or apply a copy of this DestinationRule in namespace default""",
        ],
        ["MG0005 selector matches nothing"] =
        [
            """Error [MG0005] (Gateway default/istio-egressgateway) Referenced selector not found: "istio=egress-gateway" (spec.selector): no gateway workload has these labels, so no proxy serves this Gateway's servers. Fix: start the gateway proxy ('meshgate up' runs istio-egressgateway in istio-system with labels istio=egressgateway,app=istio-egressgateway), or set spec.selector to the labels of a running gateway ('meshgate get pods -A --show-labels')""",
            """Error [MG0008] (VirtualService default/direct-cnn-through-egress-gateway) Host "edition.cnn.com" is sent to the egress gateway istio-egressgateway.istio-system.svc.cluster.local (spec.http[0].route[0].destination), but no Gateway selects its workload (app=istio-egressgateway,istio=egressgateway): the gateway answers 404 (NR) for HTTP and closes TLS connections, so the traffic never leaves the mesh. Fix: create a Gateway whose spec.selector matches the labels of istio-egressgateway.istio-system.svc.cluster.local's workload, with a server for "edition.cnn.com", and a route bound to it""",
        ],
        ["MG0006 host not in server"] =
        [
            """Warning [MG0006] (VirtualService default/direct-cnn-through-egress-gateway) Host "edition.cnn.com" is routed through Gateway default/istio-egressgateway on port 80 (spec.http[1].match[0].port), but no server of that Gateway on port 80 lists it in hosts ("www.cnn.com"): the gateway has no route for it (404 NR for HTTP, a closed connection for TLS). Fix: add "edition.cnn.com" to spec.servers[].hosts of Gateway default/istio-egressgateway for port 80, or correct the VirtualService's hosts""",
        ],
        ["MG0006 no server on the port"] =
        [
            """Warning [MG0006] (VirtualService default/direct-cnn-through-egress-gateway) Host "edition.cnn.com" is routed through Gateway default/istio-egressgateway on port 80 (spec.http[1].match[0].port), but that Gateway has no server on port 80 (its ports: 8080): the gateway drops this traffic. Fix: add a server for port 80 with host "edition.cnn.com" to Gateway default/istio-egressgateway (spec.servers), or match a port the Gateway serves""",
        ],
        ["MG0007 host not found"] =
        [
            """Error [MG0007] (VirtualService default/direct-cnn-through-egress-gateway) Referenced host not found: "edition.cnn.co" (spec.http[1].route[0].destination.host): no ServiceEntry or Service declares edition.cnn.co, so the route has no cluster (503 NC). Fix: create a ServiceEntry for "edition.cnn.co" with its ports and resolution: DNS, or correct the host""",
        ],
        ["MG0007 port not declared"] =
        [
            """Error [MG0007] (VirtualService default/direct-cnn-through-egress-gateway) Referenced host:port not found: "edition.cnn.com:8080" (spec.http[1].route[0].destination.port.number): ServiceEntry default/cnn declares ports 80, 443, so the route has no cluster (503 NC). Fix: add port 8080 to ServiceEntry default/cnn (spec.ports), or route to one of its ports""",
        ],
        ["MG0008 no route bound to the gateway"] =
        [
            """Error [MG0008] (VirtualService default/direct-cnn-through-egress-gateway) Host "edition.cnn.com" is sent to the egress gateway istio-egressgateway.istio-system.svc.cluster.local (spec.http[0].route[0].destination), but no VirtualService bound to Gateway default/istio-egressgateway routes "edition.cnn.com" on port 80: the gateway answers 404 (NR) for HTTP and closes TLS connections, so the traffic never leaves the mesh. Fix: add a route for "edition.cnn.com" bound to the gateway (e.g. a route with match gateways: [istio-egressgateway] and port: 80 and destination host: edition.cnn.com), in this VirtualService or another""",
        ],
        ["MG0011 two resolutions"] =
        [
            """Warning [MG0011] (ServiceEntry other/cnn-static) Host "edition.cnn.com" has resolution STATIC here (spec.resolution) but DNS in ServiceEntry default/cnn: proxies pick one of them, and which one can change (intermittent 503 UH, istio/istio#38996). Fix: give both ServiceEntries the same resolution, or keep only one ServiceEntry for the host""",
        ],
        ["MG0012 https routes written under http"] =
        [
            """Warning [MG0012] (VirtualService default/direct-cnn-through-egress-gateway) An http route for "edition.cnn.com" on port 443 (spec.http[0].match[0].port), but ServiceEntry default/cnn declares port 443 as TLS/HTTPS: sidecars route that port by SNI without decrypting it (tls routes), so this route never applies. Fix: move the route under spec.tls with match sniHosts: [edition.cnn.com], or declare port 443 as HTTP in ServiceEntry default/cnn if that is what the traffic is""",
            """Warning [MG0012] (VirtualService default/direct-cnn-through-egress-gateway) An http route for "edition.cnn.com" on port 443 (spec.http[1].match[0].port), but Gateway default/istio-egressgateway serves port 443 as TLS with tls.mode PASSTHROUGH: the gateway routes that port by SNI without decrypting it (tls routes), so this route never applies. Fix: move the route under spec.tls with match sniHosts: [edition.cnn.com], or terminate TLS on the server (tls.mode SIMPLE or ISTIO_MUTUAL)""",
        ],
        ["MG0013 gateway port not on the service"] =
        [
            """Warning [MG0013] (Gateway default/istio-egressgateway) Port 9000 (spec.servers[1].port.number) is not declared by the Service in front of this Gateway's workload (Service istio-system/istio-egressgateway has 80→8080, 443→8443): no sidecar can reach the server through the Service. Fix: add port 9000 to the Service's spec.ports, or serve one of the ports it declares""",
        ],
        ["seed http, Gateway API"] = [],
        ["seed https, Gateway API"] = [],
        ["MG0001 Gateway API, resolution NONE"] =
        [
            """Error [MG0001] (ServiceEntry default/cnn) Host "edition.cnn.com" has resolution: NONE (spec.resolution), but TLSRoute default/forward-cnn-from-egress-gateway routes it from Gateway default/cnn-egress-gateway (spec.rules[0].backendRefs[0]): the gateway would forward each request to its original destination address, which is the gateway's own, in a loop (503 UH). Fix: set spec.resolution: DNS so the gateway resolves the host itself (or STATIC with spec.endpoints)""",
        ],
        ["MG0007 Gateway API, backend Service missing"] =
        [
            """Error [MG0007] (HTTPRoute default/direct-cnn-to-egress-gateway) Referenced host not found: Service default/cnn-egress-gateway (spec.rules[0].backendRefs[0].name): no such Service, so the route has no cluster (503 NC). Fix: use "cnn-egress-gateway-istio": Gateway default/cnn-egress-gateway of class istio is deployed as Service cnn-egress-gateway-istio""",
        ],
        ["MG0014 Gateway API, parent misspelled"] =
        [
            """Error [MG0014] (HTTPRoute default/forward-cnn-from-egress-gateway) Referenced parent not found: Gateway default/cnn-egress-gw (spec.parentRefs[0]): the route is attached nowhere, so no proxy applies it. Fix: create Gateway default/cnn-egress-gw, or correct spec.parentRefs[0] (its namespace defaults to the route's, default)""",
        ],
        ["clean: Gateway API, hop 1 a mesh VirtualService to the Gateway's deployed Service"] = [],
        ["MG0002 VirtualService bound by name to a Gateway API Gateway"] =
        [
            """Error [MG0002] (VirtualService default/forward-cnn-from-egress-gateway) Referenced gateway not found: "cnn-egress-gateway" (spec.gateways[0]): no Istio Gateway default/cnn-egress-gateway; Gateway API Gateway default/cnn-egress-gateway exists, but a VirtualService binds only to Istio Gateways (networking.istio.io), so the routes bound to it are not applied anywhere. Fix: attach an HTTPRoute or TLSRoute to it instead (spec.parentRefs: [{name: cnn-egress-gateway}]), or create an Istio Gateway default/cnn-egress-gateway whose spec.selector is gateway.networking.k8s.io/gateway-name: cnn-egress-gateway (the pods deployed for the Gateway API Gateway)""",
        ],
        ["clean: VirtualService bound to an Istio Gateway on a Gateway API Gateway's deployed pods"] = [],
        ["MG0008 Gateway API, no route attached for the host"] =
        [
            """Error [MG0008] (VirtualService default/direct-cnn-to-egress-gateway) Host "edition.cnn.com" is sent to the egress gateway cnn-egress-gateway-istio.default.svc.cluster.local (spec.http[0].route[0].destination), but no HTTPRoute or TLSRoute attached to Gateway default/cnn-egress-gateway routes "edition.cnn.com" on port 80: the gateway answers 404 (NR) for HTTP and closes TLS connections, so the traffic never leaves the mesh. Fix: attach a route for "edition.cnn.com" to the gateway (an HTTPRoute, or a TLSRoute for TLS passed through, with parentRefs: [{name: cnn-egress-gateway}], hostnames: [edition.cnn.com] and a backendRef to the host, e.g. kind: Hostname, group: networking.istio.io)""",
        ],
        ["MG0007 Gateway API, backend port the deployed Service lacks"] =
        [
            """Error [MG0007] (HTTPRoute default/direct-cnn-to-egress-gateway) Referenced host:port not found: Service default/cnn-egress-gateway-istio port 8080 (spec.rules[0].backendRefs[0].port): the Service declares ports 80, so the route has no cluster (503 NC). Fix: use a port Gateway default/cnn-egress-gateway listens on (80), or add a listener on port 8080 to it""",
        ],
        ["MG0014 Gateway API, sectionName names no listener"] =
        [
            """Error [MG0014] (HTTPRoute default/forward-cnn-from-egress-gateway) Referenced parent listener not found: Gateway default/cnn-egress-gateway has no listener named "https" (spec.parentRefs[0].sectionName; its listeners: "http" (port 80, HTTP)): the route is attached nowhere, so no proxy applies it. Fix: set spec.parentRefs[0].sectionName to one of its listeners ("http"), or add a listener named "https" to Gateway default/cnn-egress-gateway""",
        ],
        ["MG0014 Gateway API, port no listener has"] =
        [
            """Error [MG0014] (HTTPRoute default/forward-cnn-from-egress-gateway) Referenced parent listener not found: Gateway default/cnn-egress-gateway has no listener on port 443 (spec.parentRefs[0].port; its listeners: "http" (port 80, HTTP)): the route is attached nowhere, so no proxy applies it. Fix: set spec.parentRefs[0].port to a port Gateway default/cnn-egress-gateway listens on (80), or add the listener to it""",
        ],
        ["MG0014 Gateway API, route in a namespace the listener does not admit"] =
        [
            """Error [MG0014] (HTTPRoute other/forward-cnn-from-other) Not attached to Gateway default/cnn-egress-gateway (spec.parentRefs[0]): the listeners it names admit only routes in the Gateway's namespace, default: "http" (allowedRoutes.namespaces.from: Same); so the Gateway's proxy does not apply the route. Fix: set spec.listeners[0].allowedRoutes.namespaces.from: All on Gateway default/cnn-egress-gateway, or create the route in namespace default""",
        ],
        ["MG0014 Gateway API, attached only to a UDP listener"] =
        [
            """Error [MG0014] (HTTPRoute default/forward-cnn-from-egress-gateway) Not attached to Gateway default/cnn-egress-gateway (spec.parentRefs[0]): the listeners it names are not programmed, since Meshgate does not implement their protocol: "dns" (port 53, UDP); so the Gateway's proxy does not apply the route. Fix: attach the route to a listener with protocol HTTP, HTTPS, TLS, TCP (MG0019 on the Gateway names the listeners that are not programmed)""",
            """Warning [MG0019] (Gateway default/cnn-egress-gateway) Listener "dns" has protocol UDP (spec.listeners[1].protocol), which Meshgate does not implement, so the listener is not programmed (its status says Accepted False, reason UnsupportedProtocol): the gateway serves nothing for it on port 53, and a route attached only to it is attached nowhere. Fix: use protocol HTTP, HTTPS, TLS or TCP, or remove the listener""",
            """Warning [MG0019] (Gateway default/cnn-egress-gateway) Listener "hbone" has protocol HBONE (spec.listeners[2].protocol), which Meshgate does not implement, so the listener is not programmed (its status says Accepted False, reason UnsupportedProtocol): the gateway serves nothing for it on port 15008, and a route attached only to it is attached nowhere. Fix: HBONE listeners are for ambient waypoint proxies (class istio-waypoint), which Meshgate does not run: use protocol HTTP, HTTPS, TLS or TCP, or remove the listener""",
        ],
        ["MG0017 Gateway API Gateway not programmed"] =
        [
            """Warning [MG0017] (HTTPRoute default/forward-cnn-from-egress-gateway) Gateway default/cnn-egress-gateway (spec.parentRefs[0]) is not programmed: its status.conditions say Programmed False (reason Pending: "waiting for the gateway's proxy (deployment default/cnn-egress-gateway-istio) to connect and apply the configuration"): no gateway proxy serves it yet, so the traffic this route handles there is refused. Fix: check Deployment cnn-egress-gateway-istio and its pods ('meshgate get deployment,pods -n default -l gateway.networking.k8s.io/gateway-name=cnn-egress-gateway'), and read the Gateway's status.conditions ('meshgate get gateway cnn-egress-gateway -n default -o yaml'); the finding clears once the control plane marks the Gateway Programmed""",
        ],
        ["MG0018 Gateway API backend not resolved"] =
        [
            """Error [MG0007] (HTTPRoute default/forward-cnn-from-egress-gateway) Referenced host not found: "edition.cnn.co" (spec.rules[0].backendRefs[0].name): no ServiceEntry declares it, so the route has no cluster (503 NC). Fix: create a ServiceEntry for "edition.cnn.co" with its ports and resolution: DNS, or correct the name""",
            """Error [MG0018] (HTTPRoute default/forward-cnn-from-egress-gateway) Backend not resolved: for parent Gateway default/cnn-egress-gateway, the status says ResolvedRefs False (status.parents[0].conditions[1], reason BackendNotFound: "backend(edition.cnn.co) not found"): requests its rules send to an unresolved backend fail (5xx). Fix: create the backend the message names, or correct spec.rules[].backendRefs (a Service is looked up in the route's namespace unless namespace is set; a Hostname needs a ServiceEntry)""",
        ],
        ["MG0019 UDP and HBONE listeners"] =
        [
            """Warning [MG0019] (Gateway default/cnn-egress-gateway) Listener "dns" has protocol UDP (spec.listeners[1].protocol), which Meshgate does not implement, so the listener is not programmed (its status says Accepted False, reason UnsupportedProtocol): the gateway serves nothing for it on port 53, and a route attached only to it is attached nowhere. Fix: use protocol HTTP, HTTPS, TLS or TCP, or remove the listener""",
            """Warning [MG0019] (Gateway default/cnn-egress-gateway) Listener "hbone" has protocol HBONE (spec.listeners[2].protocol), which Meshgate does not implement, so the listener is not programmed (its status says Accepted False, reason UnsupportedProtocol): the gateway serves nothing for it on port 15008, and a route attached only to it is attached nowhere. Fix: HBONE listeners are for ambient waypoint proxies (class istio-waypoint), which Meshgate does not run: use protocol HTTP, HTTPS, TLS or TCP, or remove the listener""",
        ],
        ["MG0020 injected namespace without an egress policy"] =
        [
            """Warning [MG0020] (Namespace test-egress) Namespace test-egress has sidecar injection (metadata.labels.istio-injection), but no NetworkPolicy limits its pods' egress: a pod without a sidecar, or one that gets around it, reaches external hosts directly, past the egress gateway and its log. Fix: apply in test-egress a NetworkPolicy with podSelector: {} and policyTypes: [Egress] that allows only DNS (UDP 53 to kube-system) and the namespaces of the control plane and the egress gateway, as the task's "Apply Kubernetes network policies" section does""",
        ],
        ["injected namespace with the task's egress policy"] = [],
        ["ISTIO_MUTUAL between sidecar and gateway"] = [],
        ["MG0016 plaintext hop to the gateway"] =
        [
            """Info [MG0016] (DestinationRule default/egressgateway-for-cnn) Plaintext hop to a gateway: spec.trafficPolicy.tls.mode DISABLE sends sidecars' traffic to istio-egressgateway.istio-system.svc.cluster.local without the mesh's mutual TLS, so the gateway cannot tell which workload sent it (its log and metrics show no source principal). Fix: remove the tls block (Meshgate wraps the hop in mutual TLS by default) or set mode ISTIO_MUTUAL, unless plaintext is what you want""",
        ],
        ["MG0007 no service entry for the gateway hop"] =
        [
            """Error [MG0007] (VirtualService default/direct-cnn-through-egress-gateway) Referenced host not found: "edition.cnn.com" (spec.http[1].route[0].destination.host): no ServiceEntry or Service declares edition.cnn.com, so the route has no cluster (503 NC). Fix: create a ServiceEntry for "edition.cnn.com" with its ports and resolution: DNS, or correct the host""",
        ],
        ["MG0009 no service entry, port no listener has"] =
        [
            """Warning [MG0009] (VirtualService default/api-example) Host "api.example.com" has no ServiceEntry or Service, and no ServiceEntry or Service declares port 8080 (spec.http[0].match[0].port): sidecars have no listener for that port, so this route never applies and the traffic leaves directly through PassthroughCluster (bypassing any egress gateway). Fix: create a ServiceEntry for "api.example.com" with port 8080""",
        ],
        ["MG0010 no service entry, port no listener has, REGISTRY_ONLY"] =
        [
            """Error [MG0010] (VirtualService default/api-example) Host "api.example.com" has no ServiceEntry or Service, and no ServiceEntry or Service declares port 8080 (spec.http[0].match[0].port): sidecars have no listener for that port, so this route never applies and outboundTrafficPolicy REGISTRY_ONLY blocks the traffic (BlackHoleCluster: the connection is closed). Fix: create a ServiceEntry for "api.example.com" with port 8080""",
        ],
    };

    public static TheoryData<string> Cases => new(AnalyzerCases.Variants.Keys);

    [Theory]
    [MemberData(nameof(Cases))]
    public void Analyze_Variant_ReportsExactlyTheExpectedFindings(string name)
    {
        var (documents, mesh) = AnalyzerCases.Variants[name];

        var findings = ConfigAnalyzer.Analyze(SeedConfiguration.Build(documents), mesh);

        Assert.Equal(Expected[name], findings.Select(f => f.ToString()));
    }

    [Fact]
    public void Cases_EveryCodeIsTriggeredByAVariant()
    {
        var triggered = AnalyzerCases.Variants.Values
            .SelectMany(v => ConfigAnalyzer.Analyze(SeedConfiguration.Build(v.Documents), v.Mesh))
            .Select(f => f.Code)
            .ToHashSet();

        Assert.Equal(Codes.All.Select(c => c.Code).Order(), triggered.Select(c => c.Code).Order());
    }

    [Fact]
    public void Cases_EveryVariantHasAnExpectation() =>
        Assert.Equal(AnalyzerCases.Variants.Keys.Order(), Expected.Keys.Order());
}

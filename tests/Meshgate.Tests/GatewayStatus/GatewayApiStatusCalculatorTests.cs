using System.Text.Json.Nodes;
using Meshgate.Core.GatewayStatus;
using Meshgate.Core.Resources;
using Xunit;
using static Meshgate.Tests.GatewayStatus.StatusFixtures;

namespace Meshgate.Tests.GatewayStatus;

/// <summary>
/// The status Istio's gateway controller would write, computed from stores given as YAML: the seed's Gateway API
/// configuration, then one defect per row (what is wrong, and the condition that says so).
/// </summary>
public sealed class GatewayApiStatusCalculatorTests
{
    private const string Pod = CnnGatewayPod;

    private static readonly string HttpSeed = string.Join("\n---\n",
        Seed("http-gatewayapi-gateway.yaml"), Seed("http-gatewayapi-httproutes.yaml"), Seed("http-serviceentry.yaml"), CnnGatewayService, IstioClass);

    private static readonly string HttpsSeed = string.Join("\n---\n",
        Seed("https-gatewayapi-gateway-tlsroutes.yaml"), Seed("https-serviceentry.yaml"), CnnGatewayService, IstioClass);

    /// <summary>A route in namespace <c>other</c> that sends to the gateway's Service in <c>default</c>.</summary>
    private const string CrossNamespaceRoute = """
        apiVersion: gateway.networking.k8s.io/v1
        kind: HTTPRoute
        metadata:
          name: from-other
          namespace: other
        spec:
          parentRefs:
          - kind: ServiceEntry
            group: networking.istio.io
            name: cnn
            namespace: default
          rules:
          - backendRefs:
            - name: cnn-egress-gateway-istio
              namespace: default
              port: 80
        """;

    private const string GrantToOther = """
        apiVersion: gateway.networking.k8s.io/v1beta1
        kind: ReferenceGrant
        metadata:
          name: allow-other
          namespace: default
        spec:
          from:
          - group: gateway.networking.k8s.io
            kind: HTTPRoute
            namespace: other
          to:
          - group: ""
            kind: Service
        """;

    private const string HboneGateway = """
        apiVersion: gateway.networking.k8s.io/v1
        kind: Gateway
        metadata:
          name: cnn-egress-gateway
        spec:
          gatewayClassName: istio
          listeners:
          - name: http
            hostname: edition.cnn.com
            port: 80
            protocol: HTTP
          - name: mesh
            port: 15008
            protocol: HBONE
        """;

    private static string Route(string name, string parentRef, string hostnames = "[edition.cnn.com]", string ns = "default") => $$"""
        apiVersion: gateway.networking.k8s.io/v1
        kind: HTTPRoute
        metadata:
          name: {{name}}
          namespace: {{ns}}
        spec:
          parentRefs:
          - {{parentRef}}
          hostnames: {{hostnames}}
          rules:
          - backendRefs:
            - kind: Hostname
              group: networking.istio.io
              name: edition.cnn.com
              port: 80
        """;

    private const string HttpsGatewayMissingSecret = """
        apiVersion: gateway.networking.k8s.io/v1
        kind: Gateway
        metadata:
          name: cnn-egress-gateway
        spec:
          gatewayClassName: istio
          listeners:
          - name: https
            hostname: edition.cnn.com
            port: 443
            protocol: HTTPS
            tls:
              mode: Terminate
              certificateRefs:
              - name: cnn-credential
        """;

    public static TheoryData<string, string, string, string, string, string, string, string> Cases => new()
    {
        // case, store, object, where, type, status, reason, message (contains)
        { "seed http: the class is ours", HttpSeed, "GatewayClass istio", "", "Accepted", "True", "Accepted", "Handled by Istio controller" },
        { "seed http: gateway accepted", HttpSeed, "Gateway default/cnn-egress-gateway", "", "Accepted", "True", "Accepted", "Resource accepted" },
        { "seed http: no proxy yet", HttpSeed, "Gateway default/cnn-egress-gateway", "", "Programmed", "False", "Pending", "waiting for the gateway's proxy (deployment default/cnn-egress-gateway-istio) to connect and apply the configuration" },
        { "seed http: listener", HttpSeed, "Gateway default/cnn-egress-gateway", "listener http", "Accepted", "True", "Accepted", "No errors found" },
        { "seed http: listener refs", HttpSeed, "Gateway default/cnn-egress-gateway", "listener http", "ResolvedRefs", "True", "ResolvedRefs", "No errors found" },
        { "seed http: mesh route accepted", HttpSeed, "HTTPRoute default/direct-cnn-to-egress-gateway", "parent 0", "Accepted", "True", "Accepted", "Route was valid" },
        { "seed http: mesh route backend", HttpSeed, "HTTPRoute default/direct-cnn-to-egress-gateway", "parent 0", "ResolvedRefs", "True", "ResolvedRefs", "All references resolved" },
        { "seed http: gateway route accepted", HttpSeed, "HTTPRoute default/forward-cnn-from-egress-gateway", "parent 0", "Accepted", "True", "Accepted", "Route was valid" },
        { "seed http: Hostname backend", HttpSeed, "HTTPRoute default/forward-cnn-from-egress-gateway", "parent 0", "ResolvedRefs", "True", "ResolvedRefs", "All references resolved" },
        { "seed https: TLS listener", HttpsSeed, "Gateway default/cnn-egress-gateway", "listener tls", "Accepted", "True", "Accepted", "No errors found" },
        { "seed https: TLSRoute via gateway", HttpsSeed, "TLSRoute default/forward-cnn-from-egress-gateway", "parent 0", "Accepted", "True", "Accepted", "Route was valid" },
        { "seed https: TLSRoute via mesh", HttpsSeed, "TLSRoute default/direct-cnn-to-egress-gateway", "parent 0", "ResolvedRefs", "True", "ResolvedRefs", "All references resolved" },
        {
            "missing backend Service", HttpSeed.Replace("name: cnn-egress-gateway-istio\n  labels", "name: someone-else\n  labels", StringComparison.Ordinal),
            "HTTPRoute default/direct-cnn-to-egress-gateway", "parent 0", "ResolvedRefs", "False", "BackendNotFound", "backend(cnn-egress-gateway-istio.default.svc.cluster.local) not found"
        },
        {
            "missing Hostname backend", string.Join("\n---\n", Seed("http-gatewayapi-gateway.yaml"), Seed("http-gatewayapi-httproutes.yaml"), CnnGatewayService),
            "HTTPRoute default/forward-cnn-from-egress-gateway", "parent 0", "ResolvedRefs", "False", "BackendNotFound", "backend(edition.cnn.com) not found"
        },
        {
            "backend in another namespace, no grant", HttpSeed + "\n---\n" + CrossNamespaceRoute,
            "HTTPRoute other/from-other", "parent 0", "ResolvedRefs", "False", "RefNotPermitted",
            "backendRef cnn-egress-gateway-istio/default not accessible to a HTTPRoute in namespace \"other\" (missing a ReferenceGrant?)"
        },
        { "backend in another namespace, granted", HttpSeed + "\n---\n" + CrossNamespaceRoute + "\n---\n" + GrantToOther, "HTTPRoute other/from-other", "parent 0", "ResolvedRefs", "True", "ResolvedRefs", "All references resolved" },
        { "cross-namespace mesh parent exists", HttpSeed + "\n---\n" + CrossNamespaceRoute, "HTTPRoute other/from-other", "parent 0", "Accepted", "True", "Accepted", "Route was valid" },
        { "HBONE listener", HboneGateway, "Gateway default/cnn-egress-gateway", "listener mesh", "Accepted", "False", "UnsupportedProtocol", "protocol \"HBONE\" is only supported for waypoint proxies" },
        { "HBONE listener not programmed", HboneGateway, "Gateway default/cnn-egress-gateway", "listener mesh", "Programmed", "False", "Invalid", "HBONE" },
        { "HBONE beside HTTP", HboneGateway, "Gateway default/cnn-egress-gateway", "listener http", "Accepted", "True", "Accepted", "No errors found" },
        {
            "route hostname not the listener's", HttpSeed + "\n---\n" + Route("elsewhere", "name: cnn-egress-gateway", "[www.example.com]"),
            "HTTPRoute default/elsewhere", "parent 0", "Accepted", "False", "NoMatchingListenerHostname", "no hostnames matched parent hostname \"edition.cnn.com\""
        },
        {
            "route namespace not allowed", HttpSeed + "\n---\n" + Route("intruder", "{name: cnn-egress-gateway, namespace: default}", ns: "other"),
            "HTTPRoute other/intruder", "parent 0", "Accepted", "False", "NotAllowedByListeners",
            "hostnames matched parent hostname \"edition.cnn.com\", but namespace \"other\" is not allowed by the parent"
        },
        {
            "sectionName of no listener", HttpSeed + "\n---\n" + Route("wrong-section", "{name: cnn-egress-gateway, sectionName: https}"),
            "HTTPRoute default/wrong-section", "parent 0", "Accepted", "False", "NoMatchingParent", "sectionName \"https\" not found"
        },
        {
            "port of no listener", HttpSeed + "\n---\n" + Route("wrong-port", "{name: cnn-egress-gateway, port: 8080}"),
            "HTTPRoute default/wrong-port", "parent 0", "Accepted", "False", "NoMatchingParent", "port 8080 not found"
        },
        {
            "parent gateway missing", HttpSeed + "\n---\n" + Route("orphan", "name: nowhere"),
            "HTTPRoute default/orphan", "parent 0", "Accepted", "False", "NoMatchingParent", "parent gateway \"nowhere\" not found in namespace \"default\""
        },
        {
            "parent ServiceEntry missing", Seed("http-gatewayapi-httproutes.yaml") + "\n---\n" + CnnGatewayService,
            "HTTPRoute default/direct-cnn-to-egress-gateway", "parent 0", "Accepted", "False", "NoMatchingParent", "parent service entry: \"cnn\" not found"
        },
        {
            "certificate Secret missing", HttpsGatewayMissingSecret, "Gateway default/cnn-egress-gateway", "listener https", "ResolvedRefs", "False", "InvalidCertificateRef",
            "invalid certificate reference //cnn-credential., secret default/cnn-credential not found"
        },
        { "certificate Secret missing: not programmed", HttpsGatewayMissingSecret, "Gateway default/cnn-egress-gateway", "listener https", "Programmed", "False", "Invalid", "Bad TLS configuration" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Updates_Store_ConditionAsUpstreamWritesIt(string name, string store, string target, string where, string type, string status, string reason, string message)
    {
        var resources = Settle(Store(5, store));

        var condition = Condition(StatusOf(resources, target), where, type);
        Assert.True(status == condition["status"]!.GetValue<string>() && reason == condition["reason"]!.GetValue<string>(), $"{name}: {condition.ToJsonString()}");
        Assert.Contains(message, condition["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(1, condition["observedGeneration"]!.GetValue<long>());
        Assert.Equal("2026-11-26T11:28:06Z", condition["lastTransitionTime"]!.GetValue<string>());
    }

    [Fact]
    public void Updates_SeedHttp_OneRouteAttachedAndTheServiceAsAddress()
    {
        var resources = Settle(Store(5, HttpSeed));

        var gateway = Status(resources, ResourceTypes.KubernetesGateway, "cnn-egress-gateway");
        var listener = (JsonObject)gateway["listeners"]![0]!;
        Assert.Equal(1, listener["attachedRoutes"]!.GetValue<int>()); // forward-cnn-from-egress-gateway; the other's parent is the ServiceEntry
        Assert.Equal("""[{"group":"gateway.networking.k8s.io","kind":"HTTPRoute"}]""", listener["supportedKinds"]!.ToJsonString());
        Assert.Equal("""[{"type":"Hostname","value":"cnn-egress-gateway-istio.default.svc.cluster.local"}]""", gateway["addresses"]!.ToJsonString());
        var route = Status(resources, ResourceTypes.HttpRoute, "direct-cnn-to-egress-gateway");
        Assert.Equal("""{"kind":"ServiceEntry","group":"networking.istio.io","name":"cnn"}""", route["parents"]![0]!["parentRef"]!.ToJsonString());
        Assert.Equal("istio.io/gateway-controller", route["parents"]![0]!["controllerName"]!.GetValue<string>());
        Assert.Single((JsonArray)route["parents"]!);
    }

    [Fact]
    public void Updates_SeedHttps_TlsRouteAttachedToTheTlsListener()
    {
        var resources = Settle(Store(5, HttpsSeed));

        var listener = (JsonObject)Status(resources, ResourceTypes.KubernetesGateway, "cnn-egress-gateway")["listeners"]![0]!;
        Assert.Equal(1, listener["attachedRoutes"]!.GetValue<int>());
        Assert.Equal("""[{"group":"gateway.networking.k8s.io","kind":"TLSRoute"}]""", listener["supportedKinds"]!.ToJsonString());
    }

    [Fact]
    public void Updates_TcpRoute_AttachedToTheTcpListenerOnly()
    {
        const string tcp = """
            apiVersion: gateway.networking.k8s.io/v1
            kind: Gateway
            metadata:
              name: cnn-egress-gateway
            spec:
              gatewayClassName: istio
              listeners:
              - name: http
                hostname: edition.cnn.com
                port: 80
                protocol: HTTP
              - name: tcp
                port: 9000
                protocol: TCP
            ---
            apiVersion: v1
            kind: Service
            metadata:
              name: db
            spec:
              ports:
              - name: tcp
                port: 9000
            ---
            apiVersion: gateway.networking.k8s.io/v1alpha2
            kind: TCPRoute
            metadata:
              name: db
            spec:
              parentRefs:
              - name: cnn-egress-gateway
                sectionName: tcp
              rules:
              - backendRefs:
                - name: db
                  port: 9000
            """;
        var resources = Settle(Store(5, tcp, CnnGatewayService, IstioClass));

        var listeners = (JsonArray)Status(resources, ResourceTypes.KubernetesGateway, "cnn-egress-gateway")["listeners"]!;
        Assert.Equal(0, listeners[0]!["attachedRoutes"]!.GetValue<int>());
        Assert.Equal(1, listeners[1]!["attachedRoutes"]!.GetValue<int>());
        Assert.Equal("""[{"group":"gateway.networking.k8s.io","kind":"TCPRoute"}]""", listeners[1]!["supportedKinds"]!.ToJsonString());
        var parent = Assert.Single((JsonArray)Status(resources, ResourceTypes.TcpRoute, "db")["parents"]!)!;
        Assert.All((JsonArray)parent["conditions"]!, c => Assert.Equal("True", c!["status"]!.GetValue<string>()));
    }

    [Fact]
    public void Updates_RefusedRoutes_NotCountedAsAttached()
    {
        var resources = Settle(Store(5, HttpSeed, Route("elsewhere", "name: cnn-egress-gateway", "[www.example.com]"), Route("wrong-section", "{name: cnn-egress-gateway, sectionName: https}")));

        Assert.Equal(1, Status(resources, ResourceTypes.KubernetesGateway, "cnn-egress-gateway")["listeners"]![0]!["attachedRoutes"]!.GetValue<int>());
    }

    [Fact]
    public void Updates_ProxyConnectedAndSynced_Programmed()
    {
        var store = Store(5, HttpSeed, Pod);
        var pod = "cnn-egress-gateway-istio-5b6f7d9c8-q4w2e";

        var behind = Settle(store, new ProxySyncState(pod, "default", Connected: true, SyncedRevision: 4, NackError: null));
        var pending = Condition(Status(behind, ResourceTypes.KubernetesGateway, "cnn-egress-gateway"), "", "Programmed");
        Assert.Equal("Pending", pending["reason"]!.GetValue<string>());
        Assert.Contains("to apply the configuration (store revision 5;", pending["message"]!.GetValue<string>(), StringComparison.Ordinal);

        var synced = Settle(store, new ProxySyncState(pod, "default", Connected: true, SyncedRevision: 5, NackError: null));
        var programmed = Condition(Status(synced, ResourceTypes.KubernetesGateway, "cnn-egress-gateway"), "", "Programmed");
        Assert.Equal("True", programmed["status"]!.GetValue<string>());
        Assert.Equal("Programmed", programmed["reason"]!.GetValue<string>());
        Assert.Equal("Resource programmed, assigned to service(s) cnn-egress-gateway-istio.default.svc.cluster.local:80 and cnn-egress-gateway-istio.default.svc.cluster.local:443",
            programmed["message"]!.GetValue<string>());

        // A proxy of another gateway, or one disconnected, does not count.
        var other = Settle(store, new ProxySyncState("other-pod", "default", true, 9, null), new ProxySyncState(pod, "default", Connected: false, SyncedRevision: 9, NackError: null));
        Assert.Equal("Pending", Condition(Status(other, ResourceTypes.KubernetesGateway, "cnn-egress-gateway"), "", "Programmed")["reason"]!.GetValue<string>());

        var nacked = Settle(store, new ProxySyncState(pod, "default", true, 4, "listener http: port 80 taken"));
        var invalid = Condition(Status(nacked, ResourceTypes.KubernetesGateway, "cnn-egress-gateway"), "", "Programmed");
        Assert.Equal("Invalid", invalid["reason"]!.GetValue<string>());
        Assert.EndsWith("refused its configuration: listener http: port 80 taken", invalid["message"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public void Updates_Settled_NothingMoreToWrite()
    {
        var proxy = new ProxySyncState("cnn-egress-gateway-istio-5b6f7d9c8-q4w2e", "default", true, 5, null);
        var settled = Settle(Store(5, HttpSeed, Pod), proxy);

        Assert.Empty(GatewayApiStatusCalculator.Updates(settled, [proxy], _ => 5, Now.AddMinutes(5)));
    }

    [Fact]
    public void Updates_StatusFlips_TransitionTimeMovesOnlyThen()
    {
        var store = Store(5, HttpSeed, Pod);
        var pod = "cnn-egress-gateway-istio-5b6f7d9c8-q4w2e";
        var pending = Settle(store);
        var later = Now.AddMinutes(1);

        // Still Pending with another message (now connected): the transition time stays.
        var connected = StatusFixtures.Apply(pending, GatewayApiStatusCalculator.Updates(pending, [new ProxySyncState(pod, "default", true, 4, null)], _ => 5, later));
        var stillPending = Condition(Status(connected, ResourceTypes.KubernetesGateway, "cnn-egress-gateway"), "", "Programmed");
        Assert.Contains("runs an older one", stillPending["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("2026-11-26T11:28:06Z", stillPending["lastTransitionTime"]!.GetValue<string>());

        // False → True: it moves.
        var synced = StatusFixtures.Apply(connected, GatewayApiStatusCalculator.Updates(connected, [new ProxySyncState(pod, "default", true, 5, null)], _ => 5, later));
        var programmed = Condition(Status(synced, ResourceTypes.KubernetesGateway, "cnn-egress-gateway"), "", "Programmed");
        Assert.Equal("2026-11-26T11:29:06Z", programmed["lastTransitionTime"]!.GetValue<string>());
        Assert.Equal("2026-11-26T11:28:06Z", Condition(Status(synced, ResourceTypes.KubernetesGateway, "cnn-egress-gateway"), "", "Accepted")["lastTransitionTime"]!.GetValue<string>());
    }

    [Fact]
    public void Updates_NewGeneration_ObservedGenerationFollows()
    {
        var settled = Settle(Store(5, HttpSeed));
        var route = settled.Get(new ObjectKey(ResourceTypes.HttpRoute, "default", "forward-cnn-from-egress-gateway"))!;
        var json = (JsonObject)route.Json.DeepClone();
        json["metadata"]!["generation"] = 2;
        var edited = StatusFixtures.Apply(settled, [new Resource(route.Type, json)]);

        var updates = GatewayApiStatusCalculator.Updates(edited, [], r => r.ResourceVersion, Now);

        var update = Assert.Single(updates, u => u.Type == ResourceTypes.HttpRoute);
        Assert.Equal(2, Condition((JsonObject)update.Json["status"]!, "parent 0", "Accepted")["observedGeneration"]!.GetValue<long>());
    }

    [Fact]
    public void Updates_OtherControllersParents_Kept()
    {
        var other = """
            {"parents":[{"conditions":[],"controllerName":"example.com/other","parentRef":{"name":"theirs"}}]}
            """;
        var store = Store(5, HttpSeed);
        var route = store.Get(new ObjectKey(ResourceTypes.HttpRoute, "default", "forward-cnn-from-egress-gateway"))!;
        var json = (JsonObject)route.Json.DeepClone();
        json["status"] = JsonNode.Parse(other);
        store = StatusFixtures.Apply(store, [new Resource(route.Type, json)]);

        var parents = (JsonArray)Status(Settle(store), ResourceTypes.HttpRoute, "forward-cnn-from-egress-gateway")["parents"]!;

        Assert.Equal(["example.com/other", "istio.io/gateway-controller"], parents.Select(p => p!["controllerName"]!.GetValue<string>()));
    }

    [Fact]
    public void Updates_GatewayOfAnotherClass_LeftAlone()
    {
        var store = Store(5, HttpSeed.Replace("gatewayClassName: istio", "gatewayClassName: nginx", StringComparison.Ordinal));

        var updates = GatewayApiStatusCalculator.Updates(store, [], r => r.ResourceVersion, Now);

        Assert.DoesNotContain(updates, u => u.Type == ResourceTypes.KubernetesGateway);
        Assert.DoesNotContain(updates, u => u.Name == "forward-cnn-from-egress-gateway"); // its only parent is nginx's to report on
        Assert.Contains(updates, u => u.Name == "direct-cnn-to-egress-gateway"); // a ServiceEntry parent is the mesh's: ours
    }

    private static JsonObject StatusOf(ResourceSet resources, string target)
    {
        var space = target.IndexOf(' ');
        var kind = target[..space];
        var key = target[(space + 1)..];
        var type = ResourceTypes.All.Single(t => t.Kind == kind && (t.Group == ResourceTypes.GatewayApiGroup || kind is "Service" or "Pod"));
        var slash = key.IndexOf('/');
        return slash < 0 ? Status(resources, type, key) : Status(resources, type, key[(slash + 1)..], key[..slash]);
    }
}

using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json.Nodes;
using Meshgate.Core.GatewayStatus;
using Meshgate.Core.Resources;
using Meshgate.Core.Yaml;
using Xunit;

namespace Meshgate.Tests.GatewayStatus;

/// <summary>Stores as the status computation reads them: objects from YAML, stamped with the store's metadata.</summary>
internal static class StatusFixtures
{
    public static readonly DateTimeOffset Now = new(2026, 11, 26, 11, 28, 6, TimeSpan.Zero);

    public static string Seed(string file) => File.ReadAllText(Path.Combine(TestPaths.TestData, "Seed", file));

    /// <summary>What the deployer creates for Gateway <c>cnn-egress-gateway</c>: its Service (no cluster IP).</summary>
    public const string CnnGatewayService = """
        apiVersion: v1
        kind: Service
        metadata:
          name: cnn-egress-gateway-istio
          labels:
            gateway.istio.io/managed: istio.io-gateway-controller
            gateway.networking.k8s.io/gateway-name: cnn-egress-gateway
        spec:
          type: ClusterIP
          selector:
            gateway.networking.k8s.io/gateway-name: cnn-egress-gateway
          ports:
          - name: http-80
            port: 80
          - name: tls-443
            port: 443
        """;

    public const string IstioClass = """
        apiVersion: gateway.networking.k8s.io/v1
        kind: GatewayClass
        metadata:
          name: istio
        spec:
          controllerName: istio.io/gateway-controller
        """;

    /// <summary>The gateway's proxy, registered as its Pod (what a connected <c>meshgate proxy</c> becomes).</summary>
    public const string CnnGatewayPod = """
        apiVersion: v1
        kind: Pod
        metadata:
          name: cnn-egress-gateway-istio-5b6f7d9c8-q4w2e
          labels:
            gateway.networking.k8s.io/gateway-name: cnn-egress-gateway
            istio.io/gateway-name: cnn-egress-gateway
        spec:
          serviceAccountName: cnn-egress-gateway-istio
          containers:
          - name: istio-proxy
            image: meshgate
        status:
          phase: Running
        """;

    /// <summary>
    /// Every document of <paramref name="yaml"/> as stored at <paramref name="revision"/> (generation 1), status included:
    /// read as is, not validated, so that inputs validation would warn about (an HBONE listener) are possible too.
    /// </summary>
    public static ResourceSet Store(long revision, params string[] yaml)
    {
        var objects = ImmutableDictionary.CreateBuilder<ObjectKey, Resource>();
        foreach (var text in yaml)
        {
            foreach (var document in YamlReader.Read(text, "test.yaml"))
            {
                if (document.Root is not JsonObject root)
                {
                    continue;
                }

                var apiVersion = root["apiVersion"]!.GetValue<string>();
                var group = apiVersion.Contains('/') ? apiVersion[..apiVersion.IndexOf('/')] : "";
                var type = ResourceTypes.Find(group, root["kind"]!.GetValue<string>()) ?? throw new InvalidOperationException($"no kind {root["kind"]}");
                var json = (JsonObject)root.DeepClone();
                var metadata = (JsonObject)json["metadata"]!;
                if (type.Namespaced)
                {
                    metadata["namespace"] ??= "default";
                }

                metadata["uid"] ??= Guid.NewGuid().ToString();
                metadata["generation"] ??= 1;
                metadata["resourceVersion"] = revision.ToString(CultureInfo.InvariantCulture);
                var resource = new Resource(type, (JsonObject)JsonNode.Parse(json.ToJsonString())!);
                objects[resource.Key] = resource;
            }
        }

        return new ResourceSet(revision, objects.ToImmutable());
    }

    /// <summary>The store after the updates are written (each at the next revision, generation kept), as the controller does.</summary>
    public static ResourceSet Apply(ResourceSet resources, IReadOnlyList<Resource> updates)
    {
        var objects = resources.Objects.ToBuilder();
        var revision = resources.Revision + 1;
        foreach (var update in updates)
        {
            var json = (JsonObject)update.Json.DeepClone();
            json["metadata"]!["resourceVersion"] = revision.ToString(CultureInfo.InvariantCulture);
            objects[update.Key] = new Resource(update.Type, (JsonObject)JsonNode.Parse(json.ToJsonString())!); // as stored: JSON-backed values
        }

        return new ResourceSet(revision, objects.ToImmutable());
    }

    /// <summary>Computes, writes and returns the store with every status, the proxies as given (none: no proxy connected).</summary>
    public static ResourceSet Settle(ResourceSet resources, params ProxySyncState[] proxies) =>
        Apply(resources, GatewayApiStatusCalculator.Updates(resources, proxies, r => r.ResourceVersion, Now));

    public static JsonObject Status(ResourceSet resources, ResourceType type, string name, string ns = "default") =>
        resources.Get(new ObjectKey(type, type.Namespaced ? ns : "", name))?.Json["status"] as JsonObject
        ?? throw new Xunit.Sdk.XunitException($"{type.Kind} {ns}/{name} has no status");

    /// <summary>
    /// The condition of <paramref name="type"/> at <paramref name="where"/> in the object's status: "" for the object's
    /// own, "listener NAME" for a Gateway listener's, "parent N" for a route's Nth parents entry.
    /// </summary>
    public static JsonObject Condition(JsonObject status, string where, string type)
    {
        JsonArray? conditions = where switch
        {
            "" => status["conditions"] as JsonArray,
            _ when where.StartsWith("listener ", StringComparison.Ordinal) =>
                ((JsonArray)status["listeners"]!).OfType<JsonObject>().Single(l => l["name"]!.GetValue<string>() == where[9..])["conditions"] as JsonArray,
            _ when where.StartsWith("parent ", StringComparison.Ordinal) =>
                status["parents"]![int.Parse(where[7..], CultureInfo.InvariantCulture)]!["conditions"] as JsonArray,
            _ => throw new ArgumentException(where),
        };
        var condition = conditions?.OfType<JsonObject>().SingleOrDefault(c => c["type"]!.GetValue<string>() == type);
        Assert.True(condition is not null, $"no {type} condition at \"{where}\" in {status.ToJsonString()}");
        return condition!;
    }
}

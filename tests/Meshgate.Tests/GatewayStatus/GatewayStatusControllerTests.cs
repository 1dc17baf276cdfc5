using System.Net;
using System.Text.Json.Nodes;
using Meshgate.ControlPlane;
using Meshgate.Core.ProxyConfiguration;
using Meshgate.Core.Resources;
using Meshgate.Core.Translation;
using Meshgate.Core.Validation;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;
using static Meshgate.Tests.Push.ProxyUnderTest;

namespace Meshgate.Tests.GatewayStatus;

/// <summary>
/// The status controller in a real in-process control plane: statuses appear after an apply, are written without
/// bumping <c>generation</c> and settle (no write loop); a real <c>meshgate proxy</c> registered as the Gateway's pod
/// makes it Programmed once it runs the configuration, and Pending again when it goes away.
/// </summary>
public sealed class GatewayStatusControllerTests : IAsyncLifetime
{
    private const string GatewayYaml = """
        apiVersion: gateway.networking.k8s.io/v1
        kind: GatewayClass
        metadata:
          name: istio
        spec:
          controllerName: istio.io/gateway-controller
        ---
        apiVersion: gateway.networking.k8s.io/v1beta1
        kind: Gateway
        metadata:
          name: cnn-egress-gateway
          namespace: default
        spec:
          gatewayClassName: istio
          listeners:
          - name: http
            hostname: edition.cnn.com
            port: 80
            protocol: HTTP
        """;

    private readonly string _data = Directory.CreateTempSubdirectory("meshgate-status-").FullName;
    private ControlPlaneServer _server = null!;

    public async Task InitializeAsync()
    {
        _server = ControlPlaneServer.Create(
            new ControlPlaneOptions { DataDirectory = _data, ApiEndpoint = new IPEndPoint(IPAddress.Loopback, 0), UnauthenticatedPlaintextApiForTests = true, DiscoveryEndpoint = new IPEndPoint(IPAddress.Loopback, 0) },
            NullLoggerFactory.Instance, Translate);
        await _server.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        Directory.Delete(_data, recursive: true);
    }

    /// <summary>An empty snapshot for every proxy: what is under test is that it is acknowledged, not what it holds.</summary>
    private static ProxyConfig Translate(ResourceSet resources, ProxyNode node, string version) => new()
    {
        Version = version,
        Node = new Node { Id = node.Id, Role = node.Role, Namespace = node.Namespace, ServiceAccount = node.ServiceAccount },
        Listeners = [],
        Clusters = [Cluster.BlackHoleCluster],
    };

    private Resource? Get(ResourceType type, string name, string ns = "default") =>
        _server.Store.Current.Get(new ObjectKey(type, type.Namespaced ? ns : "", name));

    private static JsonObject? ConditionOf(Resource? resource, string type) =>
        (resource?.Json["status"]?["conditions"] as JsonArray)?.OfType<JsonObject>().FirstOrDefault(c => c["type"]?.GetValue<string>() == type);

    private void Apply(string yaml)
    {
        var parsed = ResourceParser.ParseText(yaml, "test.yaml");
        Assert.True(parsed.Ok, string.Join("\n", parsed.Errors));
        _server.Store.Apply(parsed.Resources);
    }

    private async Task<JsonObject> WaitForConditionAsync(ResourceType type, string name, string condition, Func<JsonObject, bool> holds)
    {
        var deadline = DateTime.UtcNow + Deadline;
        while (true)
        {
            if (ConditionOf(Get(type, name), condition) is { } found && holds(found))
            {
                return found;
            }

            Assert.True(DateTime.UtcNow < deadline, $"{type.Kind} {name}: {condition} never held; status {Get(type, name)?.Json["status"]?.ToJsonString()}");
            await Task.Delay(50);
        }
    }

    /// <summary>Waits until the store has not moved for <paramref name="quiet"/> (longer than a status pass and a poll).</summary>
    private async Task<long> WaitForQuietAsync(TimeSpan quiet)
    {
        var deadline = DateTime.UtcNow + Deadline;
        var revision = _server.Store.Current.Revision;
        var since = DateTime.UtcNow;
        while (DateTime.UtcNow - since < quiet)
        {
            Assert.True(DateTime.UtcNow < deadline, $"the store never settled: revision {_server.Store.Current.Revision}");
            await Task.Delay(100);
            if (_server.Store.Current.Revision != revision)
            {
                revision = _server.Store.Current.Revision;
                since = DateTime.UtcNow;
            }
        }

        return revision;
    }

    private static bool Is(JsonObject condition, string status, string reason) =>
        condition["status"]?.GetValue<string>() == status && condition["reason"]?.GetValue<string>() == reason;

    [Fact]
    public async Task Apply_Gateway_StatusWrittenWithoutNewGenerationAndSettles()
    {
        Apply(GatewayYaml);

        await WaitForConditionAsync(ResourceTypes.GatewayClass, "istio", "Accepted", c => Is(c, "True", "Accepted"));
        var programmed = await WaitForConditionAsync(ResourceTypes.KubernetesGateway, "cnn-egress-gateway", "Programmed", c => Is(c, "False", "Pending"));
        Assert.Contains("waiting for the gateway's proxy (deployment default/cnn-egress-gateway-istio)", programmed["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.True(Is(ConditionOf(Get(ResourceTypes.KubernetesGateway, "cnn-egress-gateway"), "Accepted")!, "True", "Accepted"));

        var settled = await WaitForQuietAsync(TimeSpan.FromSeconds(2));
        var gateway = Get(ResourceTypes.KubernetesGateway, "cnn-egress-gateway")!;
        Assert.Equal(1, gateway.Metadata["generation"]!.GetValue<long>());
        Assert.True(gateway.ResourceVersion > 0);
        Assert.Equal(1, programmed["observedGeneration"]!.GetValue<long>());
        Assert.Equal(settled, await WaitForQuietAsync(TimeSpan.FromSeconds(1.5)));

        // A new generation: conditions follow it, generation is the user's (2), not bumped by the status write.
        Apply(GatewayYaml.Replace("hostname: edition.cnn.com", "hostname: \"*.cnn.com\"", StringComparison.Ordinal));
        await WaitForConditionAsync(ResourceTypes.KubernetesGateway, "cnn-egress-gateway", "Accepted", c => c["observedGeneration"]!.GetValue<long>() == 2);
        await WaitForQuietAsync(TimeSpan.FromSeconds(2));
        Assert.Equal(2, Get(ResourceTypes.KubernetesGateway, "cnn-egress-gateway")!.Metadata["generation"]!.GetValue<long>());
    }

    [Fact]
    public async Task Proxy_RunsTheConfiguration_GatewayProgrammedThenPendingWhenItLeaves()
    {
        Apply(GatewayYaml);
        await WaitForConditionAsync(ResourceTypes.KubernetesGateway, "cnn-egress-gateway", "Programmed", c => Is(c, "False", "Pending"));

        var pod = "cnn-egress-gateway-istio-5b6f7d9c8-q4w2e";
        await using (var proxy = Start(_server.DiscoveryEndPoint.Port, pod, "default", "gateway.networking.k8s.io/gateway-name=cnn-egress-gateway,istio.io/gateway-name=cnn-egress-gateway"))
        {
            await WaitForSyncAsync(_server.ApiAddress, pod, Synced, () => proxy.Output);
            var programmed = await WaitForConditionAsync(ResourceTypes.KubernetesGateway, "cnn-egress-gateway", "Programmed", c => Is(c, "True", "Programmed"));
            Assert.StartsWith("Resource programmed, assigned to service(s) cnn-egress-gateway-istio.default.svc.cluster.local:80", programmed["message"]!.GetValue<string>(), StringComparison.Ordinal);

            // Settles with the proxy connected: the status write moves the store, the proxy follows, nothing more is written.
            var settled = await WaitForQuietAsync(TimeSpan.FromSeconds(2));
            Assert.Equal(settled, await WaitForQuietAsync(TimeSpan.FromSeconds(1.5)));
            Assert.True(Is(ConditionOf(Get(ResourceTypes.KubernetesGateway, "cnn-egress-gateway"), "Programmed")!, "True", "Programmed"));
            Assert.Equal(1, Get(ResourceTypes.KubernetesGateway, "cnn-egress-gateway")!.Metadata["generation"]!.GetValue<long>());
        }

        var pending = await WaitForConditionAsync(ResourceTypes.KubernetesGateway, "cnn-egress-gateway", "Programmed", c => Is(c, "False", "Pending"));
        Assert.Contains("to connect", pending["message"]!.GetValue<string>(), StringComparison.Ordinal);
    }
}

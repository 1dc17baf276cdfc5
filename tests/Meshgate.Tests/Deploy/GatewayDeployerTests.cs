using System.Net;
using Meshgate.ControlPlane;
using Meshgate.ControlPlane.Deploy;
using Meshgate.Core.Resources;
using Meshgate.Core.Validation;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace Meshgate.Tests.Deploy;

/// <summary>
/// Istio's gateway deployment controller in a real in-process control plane: a Gateway of class istio gets its
/// ServiceAccount, Service and Deployment, listener changes update the Service (target ports kept), deleting the
/// Gateway deletes them, another class gets nothing.
/// </summary>
public sealed class GatewayDeployerTests : IAsyncLifetime
{
    private readonly string _data = Directory.CreateTempSubdirectory("meshgate-deploy-").FullName;
    private int _nextPort = 31000;
    private ControlPlaneServer _server = null!;

    public async Task InitializeAsync()
    {
        _server = ControlPlaneServer.Create(
            new ControlPlaneOptions { DataDirectory = _data, ApiEndpoint = new IPEndPoint(IPAddress.Loopback, 0), UnauthenticatedPlaintextApiForTests = true, GatewayTargetPort = _ => Interlocked.Increment(ref _nextPort) },
            NullLoggerFactory.Instance);
        await _server.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        Directory.Delete(_data, recursive: true);
    }

    private void Apply(string yaml)
    {
        var parsed = ResourceParser.ParseText(yaml, "test.yaml");
        Assert.True(parsed.Ok, string.Join("\n", parsed.Errors));
        _server.Store.Apply(parsed.Resources);
    }

    private const string Gateway = """
        apiVersion: gateway.networking.k8s.io/v1beta1
        kind: Gateway
        metadata:
          name: cnn-egress-gateway
          annotations:
            networking.istio.io/service-type: ClusterIP
        spec:
          gatewayClassName: istio
          infrastructure:
            labels: {team: egress}
            annotations: {owner: netops}
          listeners:
          - name: http
            hostname: edition.cnn.com
            port: 80
            protocol: HTTP
            allowedRoutes:
              namespaces:
                from: Same
        """;

    private async Task<Resource> EventuallyAsync(ResourceType type, string name, Func<Resource?, bool> done)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            var resource = _server.Store.Current.Get(new ObjectKey(type, type.Namespaced ? "default" : "", name));
            if (done(resource))
            {
                return resource!;
            }

            Assert.True(DateTime.UtcNow < deadline, $"{type.Kind} {name}: {resource?.Json.ToJsonString() ?? "absent"}");
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task GatewayOfClassIstio_DeploysServiceAccountServiceAndDeployment_LabelledAndOwned()
    {
        Apply(Gateway);
        var service = await EventuallyAsync(ResourceTypes.Service, "cnn-egress-gateway-istio", r => r is not null);
        var spec = service.Json["spec"]!;
        Assert.Equal("ClusterIP", spec["type"]!.GetValue<string>());
        Assert.Equal("cnn-egress-gateway", spec["selector"]!["gateway.networking.k8s.io/gateway-name"]!.GetValue<string>());
        var port = Assert.Single(spec["ports"]!.AsArray())!;
        Assert.Equal(80, port["port"]!.GetValue<int>());
        Assert.Equal(31001, port["targetPort"]!.GetValue<int>());
        Assert.Equal("istio.io-gateway-controller", service.Labels["gateway.istio.io/managed"]);
        Assert.Equal("egress", service.Labels["team"]);
        Assert.Equal("netops", service.Annotations["owner"]);
        Assert.Equal("cnn-egress-gateway", service.Metadata["ownerReferences"]![0]!["name"]!.GetValue<string>());

        var account = await EventuallyAsync(ResourceTypes.ServiceAccount, "cnn-egress-gateway-istio", r => r is not null);
        Assert.Equal("cnn-egress-gateway", account.Labels["gateway.networking.k8s.io/gateway-name"]);
        var deployment = await EventuallyAsync(ResourceTypes.Deployment, "cnn-egress-gateway-istio", r => r is not null);
        var template = deployment.Json["spec"]!["template"]!;
        Assert.Equal("cnn-egress-gateway-istio", template["spec"]!["serviceAccountName"]!.GetValue<string>());
        Assert.Equal("cnn-egress-gateway", template["metadata"]!["labels"]!["istio.io/gateway-name"]!.GetValue<string>());
        Assert.NotNull(_server.Store.Current.Get(new ObjectKey(ResourceTypes.GatewayClass, "", "istio")));
    }

    [Fact]
    public async Task ListenersChanged_ServicePortsFollow_ExistingTargetPortKept()
    {
        Apply(Gateway);
        await EventuallyAsync(ResourceTypes.Service, "cnn-egress-gateway-istio", r => r is not null);
        Apply(Gateway + "\n  - name: tls\n    hostname: edition.cnn.com\n    port: 443\n    protocol: TLS\n    tls:\n      mode: Passthrough\n");
        var service = await EventuallyAsync(ResourceTypes.Service, "cnn-egress-gateway-istio", r => r?.Json["spec"]!["ports"]!.AsArray().Count == 2);
        var ports = service.Json["spec"]!["ports"]!.AsArray().ToDictionary(p => p!["port"]!.GetValue<int>(), p => p!["targetPort"]!.GetValue<int>());
        Assert.Equal(31001, ports[80]);
        Assert.Equal(31002, ports[443]);
    }

    [Fact]
    public async Task GatewayDeleted_ItsObjectsDeleted()
    {
        Apply(Gateway);
        await EventuallyAsync(ResourceTypes.Deployment, "cnn-egress-gateway-istio", r => r is not null);
        _server.Store.Delete([new ObjectKey(ResourceTypes.KubernetesGateway, "default", "cnn-egress-gateway")]);
        foreach (var type in new[] { ResourceTypes.Deployment, ResourceTypes.Service, ResourceTypes.ServiceAccount })
        {
            await EventuallyAsync(type, "cnn-egress-gateway-istio", r => r is null);
        }
    }

    [Fact]
    public async Task OtherGatewayClass_NothingDeployed()
    {
        Apply(Gateway.Replace("gatewayClassName: istio", "gatewayClassName: other", StringComparison.Ordinal)
            .Replace("name: cnn-egress-gateway\n", "name: elsewhere\n", StringComparison.Ordinal));
        Apply(Gateway.Replace("name: cnn-egress-gateway\n", "name: marker\n", StringComparison.Ordinal));
        await EventuallyAsync(ResourceTypes.Service, "marker-istio", r => r is not null); // the deployer has run since
        Assert.Null(_server.Store.Current.Get(new ObjectKey(ResourceTypes.Service, "default", "elsewhere-istio")));
        Assert.Null(_server.Store.Current.Get(new ObjectKey(ResourceTypes.Deployment, "default", "elsewhere-istio")));
    }

    [Fact]
    public void Plan_NoServiceTypeAnnotation_LoadBalancerAsIstio()
    {
        var parsed = ResourceParser.ParseText(Gateway.Replace("  annotations:\n    networking.istio.io/service-type: ClusterIP\n", "", StringComparison.Ordinal), "g.yaml");
        var service = GatewayWorkloadPlan.For(parsed.Resources[0], port => port).Single(r => r.Type == ResourceTypes.Service);
        Assert.Equal("LoadBalancer", service.Json["spec"]!["type"]!.GetValue<string>());
        Assert.Equal(80, service.Json["spec"]!["ports"]![0]!["targetPort"]!.GetValue<int>());
    }
}

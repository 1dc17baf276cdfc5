using System.Text.Json.Nodes;
using k8s.Models;
using Meshgate.Core.Patching;
using Meshgate.Core.Resources;
using Xunit;

namespace Meshgate.Tests.Kubernetes;

/// <summary>JSON merge patch, JSON patch, strategic merge patch and server-side apply on JSON objects.</summary>
public sealed class PatchTests
{
    private static JsonObject Parse(string json) => (JsonObject)JsonNode.Parse(json)!;

    private static void AssertJson(string expected, JsonNode? actual) =>
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected), actual), $"expected {expected}\nactual   {actual?.ToJsonString()}");

    [Fact]
    public void MergePatch_MergesObjectsDeletesNullsReplacesTheRest()
    {
        var result = JsonMergePatch.Apply(Parse("""{"a": {"b": 1, "c": 2}, "l": [1, 2], "k": "v"}"""), Parse("""{"a": {"b": null, "d": 3}, "l": [3], "n": {"x": null}}"""));

        AssertJson("""{"a": {"c": 2, "d": 3}, "l": [3], "k": "v", "n": {}}""", result);
    }

    [Fact]
    public void JsonPatch_AppliesOperationsInOrder_AndRefusesAFailedTest()
    {
        var document = Parse("""{"spec": {"hosts": ["a"], "resolution": "DNS"}}""");

        var result = JsonPatch.Apply(document, JsonNode.Parse("""
            [{"op": "add", "path": "/spec/hosts/-", "value": "b"}, {"op": "replace", "path": "/spec/resolution", "value": "NONE"},
             {"op": "copy", "from": "/spec/hosts/0", "path": "/spec/first"}, {"op": "move", "from": "/spec/first", "path": "/first"},
             {"op": "remove", "path": "/spec/hosts/0"}, {"op": "test", "path": "/first", "value": "a"}]
            """));
        var failed = Assert.Throws<PatchException>(() => JsonPatch.Apply(document, JsonNode.Parse("""[{"op": "test", "path": "/spec/resolution", "value": "NONE"}]""")));
        var missing = Assert.Throws<PatchException>(() => JsonPatch.Apply(document, JsonNode.Parse("""[{"op": "remove", "path": "/spec/nothing"}]""")));

        AssertJson("""{"spec": {"hosts": ["b"], "resolution": "NONE"}, "first": "a"}""", result);
        Assert.False(failed.Malformed);
        Assert.Contains("/spec/nothing does not exist", missing.Message);
        AssertJson("""{"spec": {"hosts": ["a"], "resolution": "DNS"}}""", document);
    }

    [Fact]
    public void StrategicMerge_MergesListsByTheirKeyAndAppliesDirectives()
    {
        var pod = Parse("""
            {"metadata": {"finalizers": ["a"], "labels": {"x": "1"}},
             "spec": {"containers": [{"name": "app", "image": "v1", "ports": [{"containerPort": 80, "name": "http"}], "args": ["-a"]}, {"name": "side", "image": "s"}],
                      "tolerations": [{"key": "k1"}], "volumes": [{"name": "v", "emptyDir": {}}]}}
            """);
        var patch = Parse("""
            {"metadata": {"finalizers": ["b"], "labels": {"x": null, "y": "2"}},
             "spec": {"$setElementOrder/containers": [{"name": "side"}, {"name": "app"}, {"name": "new"}],
                      "containers": [{"name": "app", "image": "v2", "ports": [{"containerPort": 81}], "args": ["-b"]}, {"name": "new", "image": "n"}],
                      "tolerations": [{"key": "k2"}],
                      "volumes": [{"name": "v", "$retainKeys": ["name", "configMap"], "configMap": {"name": "c"}}]}}
            """);

        var result = StrategicMergePatch.Apply(pod, patch, typeof(V1Pod));
        var deleted = StrategicMergePatch.Apply(result, Parse("""{"spec": {"containers": [{"name": "side", "$patch": "delete"}], "$deleteFromPrimitiveList/finalizers": ["a"]}, "metadata": {"$deleteFromPrimitiveList/finalizers": ["a"]}}"""), typeof(V1Pod));
        var replaced = StrategicMergePatch.Apply(result, Parse("""{"spec": {"containers": [{"$patch": "replace"}, {"name": "only", "image": "o"}]}}"""), typeof(V1Pod));

        AssertJson("""
            {"metadata": {"finalizers": ["a", "b"], "labels": {"y": "2"}},
             "spec": {"containers": [{"name": "side", "image": "s"}, {"name": "app", "image": "v2", "ports": [{"containerPort": 80, "name": "http"}, {"containerPort": 81}], "args": ["-b"]}, {"name": "new", "image": "n"}],
                      "tolerations": [{"key": "k2"}], "volumes": [{"name": "v", "configMap": {"name": "c"}}]}}
            """, result);
        Assert.Equal(["app", "new"], ((JsonArray)deleted["spec"]!["containers"]!).Select(c => c!["name"]!.ToString()));
        Assert.Equal(["b"], ((JsonArray)deleted["metadata"]!["finalizers"]!).Select(f => f!.ToString()));
        Assert.Equal(["only"], ((JsonArray)replaced["spec"]!["containers"]!).Select(c => c!["name"]!.ToString()));
    }

    [Fact]
    public void StrategicMerge_OnACustomResourceType_ReplacesLists()
    {
        var result = StrategicMergePatch.Apply(Parse("""{"spec": {"hosts": ["a"], "ports": [{"name": "x", "number": 1}]}}"""), Parse("""{"spec": {"ports": [{"name": "y", "number": 2}]}}"""), ResourceTypes.ServiceEntry.DocumentType);

        AssertJson("""{"spec": {"hosts": ["a"], "ports": [{"name": "y", "number": 2}]}}""", result);
    }

    [Fact]
    public void ServerSideApply_OwnsAppliedFields_RemovesDroppedOnes_AndReportsConflicts()
    {
        var now = DateTimeOffset.UnixEpoch;
        var type = ResourceTypes.ServiceEntry.DocumentType;
        var first = ServerSideApply.Apply(null, Parse("""{"apiVersion": "networking.istio.io/v1", "kind": "ServiceEntry", "metadata": {"name": "cnn", "labels": {"a": "1"}}, "spec": {"hosts": ["h"], "resolution": "DNS", "exportTo": ["."]}}"""), type, "one", force: false, now);
        var second = ServerSideApply.Apply(first.Object, Parse("""{"apiVersion": "networking.istio.io/v1", "kind": "ServiceEntry", "metadata": {"name": "cnn"}, "spec": {"hosts": ["h"], "resolution": "DNS"}}"""), type, "one", force: false, now);
        var other = ServerSideApply.Apply(second.Object, Parse("""{"apiVersion": "networking.istio.io/v1", "kind": "ServiceEntry", "metadata": {"name": "cnn"}, "spec": {"resolution": "NONE", "location": "MESH_EXTERNAL"}}"""), type, "two", force: false, now);
        var forced = ServerSideApply.Apply(second.Object, Parse("""{"apiVersion": "networking.istio.io/v1", "kind": "ServiceEntry", "metadata": {"name": "cnn"}, "spec": {"resolution": "NONE"}}"""), type, "two", force: true, now);

        Assert.Empty(first.Conflicts);
        Assert.Equal("1", first.Object["metadata"]!["labels"]!["a"]!.ToString());
        Assert.Null(second.Object["metadata"]!["labels"]?["a"]);
        Assert.Null(second.Object["spec"]!["exportTo"]);
        var conflict = Assert.Single(other.Conflicts);
        Assert.Equal(("one", ".spec.resolution"), (conflict.Manager, conflict.Field));
        Assert.Equal("Apply failed with 1 conflict: conflict with \"one\" using networking.istio.io/v1: .spec.resolution", ServerSideApply.Describe(other.Conflicts));
        Assert.Equal("NONE", forced.Object["spec"]!["resolution"]!.ToString());
        var managers = (JsonArray)forced.Object["metadata"]!["managedFields"]!;
        Assert.Equal(["one", "two"], managers.Select(m => m!["manager"]!.ToString()));
        Assert.Null(managers[0]!["fieldsV1"]!["f:spec"]!["f:resolution"]);
        Assert.NotNull(managers[1]!["fieldsV1"]!["f:spec"]!["f:resolution"]);
    }

    [Fact]
    public void ServerSideApply_OwnsItemsOfKeyedListsOneByOne()
    {
        var type = typeof(V1Service);
        var first = ServerSideApply.Apply(null, Parse("""{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"}, "spec": {"ports": [{"port": 80, "name": "http"}]}}"""), type, "one", force: false, DateTimeOffset.UnixEpoch);
        var second = ServerSideApply.Apply(first.Object, Parse("""{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"}, "spec": {"ports": [{"port": 443, "name": "https"}]}}"""), type, "two", force: false, DateTimeOffset.UnixEpoch);

        Assert.Empty(second.Conflicts);
        Assert.Equal([80, 443], ((JsonArray)second.Object["spec"]!["ports"]!).Select(p => p!["port"]!.GetValue<int>()));
        Assert.NotNull(second.Object["metadata"]!["managedFields"]![1]!["fieldsV1"]!["f:spec"]!["f:ports"]!["k:{\"port\":443}"]);
    }
}

using System.Collections.Immutable;
using System.Text.Json.Nodes;
using Meshgate.Core.Resources;
using Xunit;

namespace Meshgate.Tests.Resources;

/// <summary><see cref="ResourceSet.List"/> answers from an index built once per revision: same order and filter as a scan.</summary>
public sealed class ResourceSetTests
{
    private static Resource Object(ResourceType type, string ns, string name) =>
        new(type, new JsonObject
        {
            ["apiVersion"] = type.ApiVersion(type.PreferredVersion),
            ["kind"] = type.Kind,
            ["metadata"] = type.Namespaced ? new JsonObject { ["name"] = name, ["namespace"] = ns } : new JsonObject { ["name"] = name },
        });

    private static ResourceSet Set(params Resource[] resources) =>
        new(1, resources.ToImmutableDictionary(r => r.Key, r => r));

    [Fact]
    public void List_OneKind_OrderedByNamespaceThenName()
    {
        var set = Set(
            Object(ResourceTypes.ServiceEntry, "b", "a"),
            Object(ResourceTypes.ServiceEntry, "a", "z"),
            Object(ResourceTypes.VirtualService, "a", "m"),
            Object(ResourceTypes.ServiceEntry, "a", "B"),
            Object(ResourceTypes.ServiceEntry, "a", "a"),
            Object(ResourceTypes.Namespace, "", "a"));

        Assert.Equal(["a/B", "a/a", "a/z", "b/a"], set.List(ResourceTypes.ServiceEntry).Select(r => $"{r.Namespace}/{r.Name}"));
        Assert.Equal(["a/m"], set.List(ResourceTypes.VirtualService).Select(r => $"{r.Namespace}/{r.Name}"));
        Assert.Equal(["a"], set.List(ResourceTypes.Namespace).Select(r => r.Name));
        Assert.Empty(set.List(ResourceTypes.DestinationRule));
    }

    [Fact]
    public void List_Namespace_OnlyThatNamespaceInOrder()
    {
        var set = Set(
            Object(ResourceTypes.ServiceEntry, "b", "a"),
            Object(ResourceTypes.ServiceEntry, "a", "z"),
            Object(ResourceTypes.ServiceEntry, "a", "a"));

        Assert.Equal(["a", "z"], set.List(ResourceTypes.ServiceEntry, "a").Select(r => r.Name));
        Assert.Equal(["a"], set.List(ResourceTypes.ServiceEntry, "b").Select(r => r.Name));
        Assert.Empty(set.List(ResourceTypes.ServiceEntry, "c"));
    }

    [Fact]
    public void List_ManyReadersAtOnce_SameAnswer()
    {
        var set = Set([.. Enumerable.Range(0, 2_000).Select(i => Object(ResourceTypes.ServiceEntry, $"ns-{i % 7}", $"se-{i}"))]);
        var expected = set.Objects.Values.Where(r => r.Type == ResourceTypes.ServiceEntry)
            .OrderBy(r => r.Namespace, StringComparer.Ordinal).ThenBy(r => r.Name, StringComparer.Ordinal).Select(r => r.Key).ToList();

        var answers = new List<ObjectKey>[8];
        Parallel.For(0, answers.Length, i => answers[i] = [.. set.List(ResourceTypes.ServiceEntry).Select(r => r.Key)]);

        Assert.All(answers, answer => Assert.Equal(expected, answer));
    }
}

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

    /// <summary>
    /// A revision made from the one before and the keys a change wrote derives its lists by kind from the previous
    /// ones (small changes) or rebuilds them (large ones); either way they equal a set built from scratch.
    /// </summary>
    [Theory]
    [InlineData(7)]
    [InlineData(8)]
    public void List_RevisionsMadeFromChanges_EqualAFreshSet(int seed)
    {
        var random = new Random(seed);
        ResourceType[] types = [ResourceTypes.ServiceEntry, ResourceTypes.VirtualService, ResourceTypes.DestinationRule, ResourceTypes.Namespace];
        var current = new ResourceSet(1, ImmutableDictionary<ObjectKey, Resource>.Empty);
        for (var step = 0; step < 200; step++)
        {
            if (step % 3 == 0)
            {
                _ = current.List(ResourceTypes.ServiceEntry); // lists built: the next revision derives from them
            }

            var objects = current.Objects;
            var changed = new List<ObjectKey>();
            var count = random.Next(4) == 0 ? random.Next(ResourceSet.MaxDerivedChanges, ResourceSet.MaxDerivedChanges + 40) : random.Next(1, 6);
            for (var i = 0; i < count; i++)
            {
                var type = types[random.Next(types.Length)];
                var resource = Object(type, type.Namespaced ? $"ns-{random.Next(4)}" : "", $"o-{random.Next(30)}");
                objects = random.Next(3) == 0 ? objects.Remove(resource.Key) : objects.SetItem(resource.Key, resource);
                changed.Add(resource.Key); // repeats and deletes of absent keys too
            }

            current = new ResourceSet(current.Revision + 1, objects, current, changed);
            var fresh = new ResourceSet(current.Revision, objects);
            foreach (var type in types)
            {
                Assert.Equal(fresh.List(type), current.List(type));
            }
        }
    }
}

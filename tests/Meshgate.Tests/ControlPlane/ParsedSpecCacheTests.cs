using Meshgate.ControlPlane.Store;
using Meshgate.Core.Resources;
using Meshgate.Core.Resources.Istio;
using Meshgate.Core.Translation;
using Meshgate.Core.Validation;
using Xunit;

namespace Meshgate.Tests.ControlPlane;

/// <summary>
/// Each stored object's spec is parsed once: validation's typed spec goes with the object into the store, and an
/// object a later apply leaves alone keeps its instance, so a new revision parses only what changed.
/// </summary>
public sealed class ParsedSpecCacheTests : IDisposable
{
    private readonly string _data = Directory.CreateTempSubdirectory("meshgate-specs-").FullName;

    public void Dispose() => Directory.Delete(_data, recursive: true);

    private static IReadOnlyList<Resource> Parse(string yaml)
    {
        var result = ResourceParser.ParseText(yaml, "test");
        Assert.True(result.Ok, string.Join("\n", result.Errors));
        return result.Resources;
    }

    private static string Entry(string name) => $$"""
        apiVersion: networking.istio.io/v1
        kind: ServiceEntry
        metadata:
          name: {{name}}
        spec:
          hosts: [{{name}}.example.com]
          ports: [{number: 80, name: http, protocol: HTTP}]
          resolution: DNS
        """;

    private static ObjectKey Key(string name) => new(ResourceTypes.ServiceEntry, "default", name);

    [Fact]
    public void Apply_OneMoreObject_OthersKeepTheirParsedSpec()
    {
        using var store = ResourceStore.Open(_data);
        var validated = Parse(Entry("a"));
        var validatedSpec = ParsedSpecs.Spec<ServiceEntrySpec>(validated[0]);
        store.Apply(validated);

        var a = store.Current.Get(Key("a"))!;
        var spec = ParsedSpecs.Spec<ServiceEntrySpec>(a);
        Assert.Same(validatedSpec, spec); // validation read it; the store kept it
        Assert.Equal(["a.example.com"], spec!.Hosts);
        Assert.NotNull(a.Metadata["uid"]); // with the store's metadata

        store.Apply(Parse(Entry("b")));
        store.Apply(Parse(Entry("a"))); // unchanged: the stored object stays as it is

        Assert.Same(a, store.Current.Get(Key("a")));
        Assert.Same(spec, ParsedSpecs.Spec<ServiceEntrySpec>(store.Current.Get(Key("a"))!));
        Assert.Equal(["b.example.com"], ParsedSpecs.Spec<ServiceEntrySpec>(store.Current.Get(Key("b"))!)!.Hosts);
    }

    [Fact]
    public void Apply_ChangedSpec_ParsedAfresh()
    {
        using var store = ResourceStore.Open(_data);
        store.Apply(Parse(Entry("a")));
        var before = ParsedSpecs.Spec<ServiceEntrySpec>(store.Current.Get(Key("a"))!);

        store.Apply(Parse(Entry("a").Replace("resolution: DNS", "resolution: NONE", StringComparison.Ordinal)));

        var after = ParsedSpecs.Spec<ServiceEntrySpec>(store.Current.Get(Key("a"))!);
        Assert.NotSame(before, after);
        Assert.Equal(ServiceEntryResolution.None, after!.Resolution);
    }

    [Fact]
    public void Restart_SpecsReadFromTheStoredJson()
    {
        using (var store = ResourceStore.Open(_data))
        {
            store.Apply(Parse(Entry("a")));
        }

        using var reopened = ResourceStore.Open(_data);
        var a = reopened.Current.Get(Key("a"))!;
        Assert.Equal(["a.example.com"], ParsedSpecs.Spec<ServiceEntrySpec>(a)!.Hosts);
        Assert.Same(ParsedSpecs.Spec<ServiceEntrySpec>(a), ParsedSpecs.Spec<ServiceEntrySpec>(a));
    }
}

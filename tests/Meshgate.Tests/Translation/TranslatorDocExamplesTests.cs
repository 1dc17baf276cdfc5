using Meshgate.Core.Resources;
using Meshgate.Core.Translation;
using Meshgate.Core.Validation;

using Xunit;

namespace Meshgate.Tests.Translation;

/// <summary>
/// Every example of Istio's egress pages and of the seed document, alone and all together, translated for each kind of
/// proxy: the snapshot must always validate (a NACK would leave the proxy on its last configuration).
/// </summary>
public class TranslatorDocExamplesTests
{
    public static TheoryData<string> Files()
    {
        var data = new TheoryData<string>();
        foreach (var directory in new[] { "IstioDocs", "Seed" })
        {
            foreach (var path in Directory.GetFiles(Path.Combine(TestPaths.TestData, directory), "*.yaml").Order(StringComparer.Ordinal))
            {
                data.Add($"{directory}/{Path.GetFileName(path)}");
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Translate_DocumentExample_EveryProxyGetsAValidSnapshot(string file) =>
        AssertValidForEveryProxy(With(Base(), Objects(file)));

    [Fact]
    public void Translate_EveryDocumentExampleAtOnce_EveryProxyGetsAValidSnapshot()
    {
        var set = Base();
        foreach (var file in Files())
        {
            set = With(set, Objects(file));
        }

        AssertValidForEveryProxy(set);
    }

    private static void AssertValidForEveryProxy(ResourceSet resources)
    {
        var mesh = Translator.MeshSettingsFrom(resources);
        foreach (var node in new[]
        {
            TranslationFixtures.Sleep(), TranslationFixtures.Sleep(CaptureMode.Transparent), TranslationFixtures.Sleep(ns: "test-egress"),
            TranslationFixtures.EgressGateway(), TranslationFixtures.CnnEgressGateway(),
        })
        {
            var errors = TranslationFixtures.Validate(Translator.Translate(resources, mesh, node, "1"));
            Assert.True(errors.Count == 0, $"{node.Key}:\n{string.Join("\n", errors)}");
        }
    }

    private static ResourceSet Base() => TranslationFixtures.Parse(File.ReadAllText(
        Path.Combine(TestPaths.RepositoryRoot, "tests", "Meshgate.Tests", "TestData", "Translation", "gatewayapi-http", "input.yaml")));

    /// <summary>The objects of a file that apply cleanly (some pages hold documents meant to fail).</summary>
    private static IReadOnlyList<Resource> Objects(string file) =>
        ResourceParser.ParseText(File.ReadAllText(Path.Combine(TestPaths.TestData, file)), file).Resources;

    private static ResourceSet With(ResourceSet set, IReadOnlyList<Resource> objects)
    {
        var builder = set.Objects.ToBuilder();
        foreach (var resource in objects)
        {
            builder[resource.Key] = resource;
        }

        return new ResourceSet(set.Revision + 1, builder.ToImmutable());
    }
}

using Meshgate.Core.Translation;

using Xunit;

namespace Meshgate.Tests.Translation;

/// <summary>
/// Translation, YAML in and snapshot out, for each step of the seed document and the Istio rules around it:
/// <c>TestData/Translation/&lt;case&gt;/input.yaml</c> → <c>sidecar.yaml</c> (the sleep sidecar in default) and
/// <c>gateway.yaml</c> (the egress gateway in istio-system; for Gateway API cases the workload deployed for Gateway
/// <c>cnn-egress-gateway</c> in default). <c>MESHGATE_UPDATE_GOLDEN=1</c> rewrites the expected
/// files in the source tree; review the diff by eye against Istio's behaviour before committing it.
/// </summary>
public class TranslatorGoldenTests
{
    public static TheoryData<string, CaptureMode, bool> Cases() => new()
    {
        { "http-1-serviceentry", CaptureMode.Explicit, false },
        { "http-2-gateway-destinationrule", CaptureMode.Explicit, false },
        { "http-3-virtualservice", CaptureMode.Explicit, false },
        { "http-4-cleanup", CaptureMode.Explicit, false },
        { "https-1-serviceentry", CaptureMode.Explicit, false },
        { "https-2-passthrough-gateway", CaptureMode.Explicit, false },
        { "registry-only", CaptureMode.Explicit, false },
        { "dr-root-namespace", CaptureMode.Explicit, false },
        { "dr-other-namespace", CaptureMode.Explicit, false },
        { "istio-mutual", CaptureMode.Explicit, false },
        { "exportto-dot", CaptureMode.Explicit, false },
        { "weighted", CaptureMode.Explicit, false },
        { "transparent-capture", CaptureMode.Transparent, false },
        { "gatewayapi-http", CaptureMode.Explicit, true },
        { "gatewayapi-https", CaptureMode.Explicit, true },
        { "route-actions", CaptureMode.Explicit, false },
        { "gatewayapi-filters", CaptureMode.Explicit, true },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Translate_Case_MatchesGoldenFiles(string name, CaptureMode capture, bool gatewayApi)
    {
        var directory = Path.Combine(TestPaths.RepositoryRoot, "tests", "Meshgate.Tests", "TestData", "Translation", name);
        var resources = TranslationFixtures.Parse(File.ReadAllText(Path.Combine(directory, "input.yaml")), $"{name}/input.yaml");
        var mesh = Translator.MeshSettingsFrom(resources);

        Check(directory, "sidecar.yaml", Translator.Translate(resources, mesh, TranslationFixtures.Sleep(capture), "1"));
        Check(directory, "gateway.yaml", Translator.Translate(resources, mesh, gatewayApi ? TranslationFixtures.CnnEgressGateway() : TranslationFixtures.EgressGateway(), "1"));
    }

    private static void Check(string directory, string file, Core.ProxyConfiguration.ProxyConfig config)
    {
        var errors = TranslationFixtures.Validate(config);
        Assert.True(errors.Count == 0, $"{file}: the snapshot does not validate:\n{string.Join("\n", errors)}");

        var actual = TranslationFixtures.ToYaml(config);
        var path = Path.Combine(directory, file);
        if (Environment.GetEnvironmentVariable("MESHGATE_UPDATE_GOLDEN") == "1")
        {
            File.WriteAllText(path, actual);
            return;
        }

        Assert.True(File.Exists(path), $"{path} is missing; run the tests with MESHGATE_UPDATE_GOLDEN=1 to write it, then review it");
        Assert.Equal(File.ReadAllText(path), actual);
    }
}

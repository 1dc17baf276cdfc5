using System.Text.Json.Nodes;
using Xunit;

namespace Meshgate.Tests.Commands;

/// <summary><c>meshgate analyze</c> against a real control plane, and on files alone, as a user and a CI job run it.</summary>
public sealed class AnalyzeCommandTests : IAsyncLifetime
{
    private const string Clean = "\u2714 No validation issues found when analyzing namespace: default.\n";

    private const string LoopFinding = """Error [MG0001] (ServiceEntry default/cnn) Host "edition.cnn.com" has resolution: NONE (spec.resolution), but VirtualService default/direct-cnn-through-egress-gateway routes it through Gateway default/istio-egressgateway (spec.http[1].route[0].destination): the gateway would forward each request to its original destination address, which is the gateway's own, in a loop (503 UH). Fix: set spec.resolution: DNS so the gateway resolves the host itself (or STATIC with spec.endpoints)""";

    private const string Failed = "Error: Analyzers found issues when analyzing namespace: default.\nSee docs/analyze.md for more information about causes and resolutions.\n";

    private readonly CliHarness _cli = new();

    public Task InitializeAsync() => _cli.InitializeAsync();

    public Task DisposeAsync() => _cli.DisposeAsync();

    private static string Seed(string file) => Path.Combine(TestPaths.TestData, "Seed", file);

    private static string Data(string file) => Path.Combine(TestPaths.TestData, "Analysis", file);

    private async Task ApplySeedAsync()
    {
        await _cli.OkAsync("apply", "-f", Data("mesh.yaml"));
        await _cli.OkAsync("apply", "-f", Seed("http-serviceentry.yaml"));
        await _cli.OkAsync("apply", "-f", Seed("http-istio-gateway-destinationrule.yaml"));
        await _cli.OkAsync("apply", "-f", Seed("http-istio-virtualservice.yaml"));
    }

    [Fact]
    public async Task Analyze_StoredSeedConfiguration_NoIssuesExitZero()
    {
        await ApplySeedAsync();

        var result = await _cli.RunAsync("analyze");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal("", result.Out);
        Assert.Equal(Clean, result.Error);
    }

    [Fact]
    public async Task Analyze_FileOverlaysStoredObject_ReportsLoopExit79AndStoresNothing()
    {
        await ApplySeedAsync();

        var result = await _cli.RunAsync("analyze", "-f", Data("cnn-resolution-none.yaml"));

        Assert.Equal(79, result.ExitCode);
        Assert.Equal(LoopFinding + "\n", result.Out);
        Assert.Equal("1 error found when analyzing namespace: default.\n" + Failed, result.Error);
        Assert.Equal("DNS", await _cli.OkAsync("get", "se", "cnn", "-o", "jsonpath={.spec.resolution}"));
    }

    [Fact]
    public async Task Analyze_StoredBrokenConfiguration_ReportsWithoutFiles()
    {
        await ApplySeedAsync();
        await _cli.OkAsync("apply", "-f", Data("cnn-resolution-none.yaml"));

        var result = await _cli.RunAsync("analyze");

        Assert.Equal(79, result.ExitCode);
        Assert.Equal(LoopFinding + "\n", result.Out);
    }

    [Fact]
    public async Task Analyze_UseKubeFalse_AnalyzesFilesAloneWithTheDefaultGateway()
    {
        // No object is stored: the files alone, plus the egress gateway `meshgate up` runs, are analyzed.
        var files = new[] { Seed("http-serviceentry.yaml"), Seed("http-istio-gateway-destinationrule.yaml"), Seed("http-istio-virtualservice.yaml") };

        var clean = await _cli.RunAsync(["analyze", "--use-kube=false", .. files.SelectMany(f => new[] { "-f", f })]);
        var broken = await _cli.RunAsync(["analyze", "--use-kube=false", .. files, Data("cnn-resolution-none.yaml")]);

        Assert.Equal(0, clean.ExitCode);
        Assert.Equal("", clean.Out);
        Assert.Equal($"\u2714 No validation issues found when analyzing {string.Join("\n", files)}.\n", clean.Error);
        Assert.Equal(79, broken.ExitCode);
        Assert.Equal(LoopFinding + "\n", broken.Out);
    }

    [Fact]
    public async Task Analyze_UseKubeFalseWithoutFiles_SaysWhatIsMissing()
    {
        var result = await _cli.RunAsync("analyze", "--use-kube=false");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("at least one file", result.Error);
    }

    [Fact]
    public async Task Analyze_UnreachableControlPlaneWithFiles_SuggestsUseKubeFalse()
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await Meshgate.Cli.RunAsync(
            ["analyze", "-f", Seed("http-serviceentry.yaml"), "--server", "http://127.0.0.1:1"],
            new Meshgate.Commands.CliContext(new StringReader(""), output, error));

        Assert.Equal(1, code);
        Assert.Contains("cannot reach the Meshgate control plane", error.ToString());
        Assert.Contains("--use-kube=false", error.ToString());
    }

    [Fact]
    public async Task Analyze_JsonOutput_ListsFindingsAndExitsZeroAsIstioctl()
    {
        await ApplySeedAsync();

        var result = await _cli.RunAsync("analyze", "-f", Data("cnn-resolution-none.yaml"), "-o", "json");

        Assert.Equal(0, result.ExitCode);
        var finding = Assert.Single(JsonNode.Parse(result.Out)!.AsArray())!;
        Assert.Equal("MG0001", finding["code"]!.GetValue<string>());
        Assert.Equal("Error", finding["level"]!.GetValue<string>());
        Assert.Equal("ServiceEntry default/cnn", finding["origin"]!.GetValue<string>());
        Assert.Equal("spec.resolution", finding["field"]!.GetValue<string>());
        Assert.StartsWith("set spec.resolution: DNS", finding["fix"]!.GetValue<string>());
        Assert.Equal("docs/analyze.md#mg0001", finding["documentationUrl"]!.GetValue<string>());
    }

    [Fact]
    public async Task Analyze_YamlOutputWhenClean_EmptyList()
    {
        await ApplySeedAsync();

        var result = await _cli.RunAsync("analyze", "-o", "yaml");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal("[]\n", result.Out);
        Assert.Equal(Clean, result.Error);
    }

    [Fact]
    public async Task Analyze_Thresholds_WarningPrintedButFailsOnlyAtWarningThreshold()
    {
        await ApplySeedAsync();
        await _cli.OkAsync("apply", "-f", Data("gateway-other-host.yaml"));

        var byDefault = await _cli.RunAsync("analyze");
        var failOnWarning = await _cli.RunAsync("analyze", "--failure-threshold", "warning");
        var errorsOnly = await _cli.RunAsync("analyze", "--output-threshold=Error");

        Assert.Equal(0, byDefault.ExitCode);
        Assert.StartsWith("Warning [MG0006] (VirtualService default/direct-cnn-through-egress-gateway) Host \"edition.cnn.com\" is routed through Gateway default/istio-egressgateway on port 80", byDefault.Out);
        Assert.Equal("1 warning found when analyzing namespace: default.\n", byDefault.Error);
        Assert.Equal(79, failOnWarning.ExitCode);
        Assert.Equal(byDefault.Out, failOnWarning.Out);
        Assert.Equal(0, errorsOnly.ExitCode);
        Assert.Equal("", errorsOnly.Out);
        Assert.Equal(Clean, errorsOnly.Error);
    }

    [Fact]
    public async Task Analyze_BadThreshold_IncorrectUsage()
    {
        var result = await _cli.RunAsync("analyze", "--failure-threshold", "fatal");

        Assert.Equal(64, result.ExitCode);
        Assert.Equal("error: invalid argument \"fatal\" for \"--failure-threshold\" flag: valid values are Info, Warning, Error\n", result.Error);
    }

    [Fact]
    public async Task Analyze_ClientInAnotherNamespace_DestinationRuleFindingInItsNamespaceOnly()
    {
        await ApplySeedAsync();
        await _cli.OkAsync("create", "namespace", "test-egress");
        await _cli.OkAsync("apply", "-f", Data("sleep-test-egress.yaml"));

        var inDefault = await _cli.RunAsync("analyze");
        var inTestEgress = await _cli.RunAsync("analyze", "-n", "test-egress");
        var everywhere = await _cli.RunAsync("analyze", "-A");
        // The seed's fix: the same DestinationRule in the client's namespace.
        await _cli.OkAsync("apply", "-n", "test-egress", "-f", Seed("netpol-istio-destinationrule-test-egress.yaml"));
        var fixedUp = await _cli.RunAsync("analyze", "-A");

        Assert.Equal(79, inDefault.ExitCode);
        Assert.StartsWith("Error [MG0004] (DestinationRule default/egressgateway-for-cnn) Not on the destination rule lookup path of clients in namespace test-egress", inDefault.Out);
        Assert.Equal(0, inTestEgress.ExitCode);
        Assert.Equal("\u2714 No validation issues found when analyzing namespace: test-egress.\n", inTestEgress.Error);
        Assert.Equal(inDefault.Out, everywhere.Out);
        Assert.Equal(0, fixedUp.ExitCode);
        Assert.Equal("\u2714 No validation issues found when analyzing all namespaces.\n", fixedUp.Error);
    }

    [Fact]
    public async Task Analyze_UnknownNamespace_SaysSoAsIstioctl()
    {
        var result = await _cli.RunAsync("analyze", "-n", "nope");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal("namespace \"nope\" not found\n", result.Error);
    }

    [Fact]
    public async Task Analyze_InvalidFile_ReportsTheErrorAnalyzesTheRestExit65()
    {
        await ApplySeedAsync();
        const string bad = """
            apiVersion: networking.istio.io/v1alpha3
            kind: ServiceEntry
            metadata:
              name: broken
            spec:
              hosts: [example.com]
              resolution: dns
            """;

        var result = await _cli.RunWithStdinAsync(bad, "analyze", "-f", "-");

        Assert.Equal(65, result.ExitCode);
        Assert.Equal("", result.Out);
        Assert.StartsWith("error: ServiceEntry default/broken (stdin, document 1, line 7): spec.resolution: \"dns\" is not one of", result.Error);
        Assert.EndsWith("No validation issues found when analyzing namespace: default (but 1 file could not be parsed).\nError: Some files couldn't be parsed.\n", result.Error);
    }

    [Fact]
    public async Task Analyze_Suppress_HidesTheCodeOnMatchingObjectsOnly()
    {
        await ApplySeedAsync();

        var hidden = await _cli.RunAsync("analyze", "-f", Data("cnn-resolution-none.yaml"), "-S", "MG0001=ServiceEntry default/*");
        var otherObject = await _cli.RunAsync("analyze", "-f", Data("cnn-resolution-none.yaml"), "--suppress", "MG0001=ServiceEntry other/*");
        var unknown = await _cli.RunAsync("analyze", "-S", "IST0101=Gateway *");
        var invalid = await _cli.RunAsync("analyze", "-S", "MG0001");

        Assert.Equal(0, hidden.ExitCode);
        Assert.Equal("", hidden.Out);
        Assert.Equal(79, otherObject.ExitCode);
        Assert.Equal(LoopFinding + "\n", otherObject.Out);
        Assert.Equal(0, unknown.ExitCode);
        Assert.StartsWith("Warning: Supplied message code 'IST0101' is an unknown message code and will not have any effect.\n", unknown.Error);
        Assert.Equal(64, invalid.ExitCode);
    }

    [Fact]
    public async Task Analyze_SuppressAnnotation_HidesFindingsOnThatObject()
    {
        await ApplySeedAsync();
        const string annotated = """
            apiVersion: networking.istio.io/v1alpha3
            kind: ServiceEntry
            metadata:
              name: cnn
              annotations:
                galley.istio.io/analyze-suppress: MG0011,MG0001
            spec:
              hosts: [edition.cnn.com]
              ports: [{number: 80, name: http-port, protocol: HTTP}]
              resolution: NONE
            """;

        var result = await _cli.RunWithStdinAsync(annotated, "analyze", "-f", "-");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal("", result.Out);
    }

    [Fact]
    public async Task Analyze_ListAnalyzers_PrintsTheCatalogue()
    {
        var output = await _cli.OkAsync("analyze", "-L");

        Assert.StartsWith("CODE", output);
        Assert.Contains("MG0001", output);
        Assert.Contains("MG0004", output);
    }
}

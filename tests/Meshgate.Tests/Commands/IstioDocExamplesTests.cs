using Meshgate.Core.Validation;
using Xunit;

namespace Meshgate.Tests.Commands;

/// <summary>
/// Every example of Istio's egress pages applies verbatim through the CLI, shows in <c>get</c>,
/// re-applies as unchanged, and <c>delete -f</c> removes it, as the pages' kubectl steps do.
/// </summary>
public sealed class IstioDocExamplesTests : IAsyncLifetime
{
    private readonly CliHarness _cli = new();

    public Task InitializeAsync() => _cli.InitializeAsync();

    public Task DisposeAsync() => _cli.DisposeAsync();

    public static TheoryData<string> Files()
    {
        var data = new TheoryData<string>();
        foreach (var name in Directory.GetFiles(Path.Combine(TestPaths.TestData, "IstioDocs"), "*.yaml").Select(Path.GetFileName).Order(StringComparer.Ordinal))
        {
            if (name is not ("egress-gateway--deploy_istio_egress_gateway_2.yaml"
                or "egress-control--change_to_the_blockingbydefault_policy_1.yaml"
                or "http-proxy--configure_traffic_to_external_https_proxy_1.yaml"))
            {
                data.Add(name!);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Files))]
    public async Task ApplyGetReapplyDelete_IstioEgressPageExample_BehavesLikeKubectl(string file)
    {
        var path = Path.Combine(TestPaths.TestData, "IstioDocs", file);
        var objects = ResourceParser.ParseText(await File.ReadAllTextAsync(path), file).Resources;
        foreach (var ns in objects.Select(o => o.Namespace).Where(n => n.Length > 0).Distinct())
        {
            // The pages create their namespaces (mesh-external, test-egress) with kubectl create namespace first.
            if (ns is not ("default" or "istio-system"))
            {
                await _cli.OkAsync("create", "namespace", ns);
            }
        }

        var created = await _cli.OkAsync("apply", "-f", path);
        var again = await _cli.OkAsync("apply", "-f", path);

        var expectedNames = objects.Select(o => $"{o.Type.QualifiedKind}/{o.Name}").ToList();
        Assert.Equal(expectedNames.Select(n => n + " created"), Lines(created));
        Assert.Equal(expectedNames.Select(n => n + " unchanged"), Lines(again));
        foreach (var o in objects)
        {
            var got = await _cli.OkAsync("get", o.Type.Resource, o.Name, "-n", o.Namespace.Length > 0 ? o.Namespace : "default", "-o", "name");
            Assert.Equal($"{o.Type.QualifiedKind}/{o.Name}\n", got);
        }

        var deleted = await _cli.OkAsync("delete", "-f", path);
        Assert.Equal(objects.Select(o => $"{o.Type.QualifiedKind} \"{o.Name}\" deleted"), Lines(deleted));
        var gone = await _cli.RunAsync("get", objects[0].Type.Resource, objects[0].Name, "-n", objects[0].Namespace.Length > 0 ? objects[0].Namespace : "default");
        Assert.Equal(1, gone.ExitCode);
    }

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
}

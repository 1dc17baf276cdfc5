using System.Text.Json.Nodes;

namespace Meshgate.LocalCluster;

/// <summary>What the proxies of the local cluster are started with: the program, the control plane, the mesh's files.</summary>
/// <param name="Executable">The proxy's program (<see cref="Supervision.ProxyExecutable"/>): <c>meshgate-proxy</c>, this program's apphost, or <c>dotnet</c>.</param>
/// <param name="Prefix">Arguments before <c>proxy</c> (<c>meshgate.dll</c> under <c>dotnet</c>).</param>
/// <param name="DataDirectory">The control plane's data directory, absolute: the root bundle and the pods' tokens are there.</param>
/// <param name="DiscoveryAddress">istiod's discovery and CA address as pods reach it (<c>istiod.istio-system.svc:15012</c>).</param>
/// <param name="TrustDomain">The mesh's trust domain.</param>
/// <param name="ExtraArguments">Added to every proxy (<c>--workload-cert-ttl</c>).</param>
internal sealed record ProxyTemplate(string Executable, IReadOnlyList<string> Prefix, string DataDirectory, string DiscoveryAddress, string TrustDomain, IReadOnlyList<string> ExtraArguments);

/// <summary>
/// Istio's sidecar injector, run when a pod is created (its admission step): a pod in a namespace labelled
/// <c>istio-injection=enabled</c>, or labelled <c>sidecar.istio.io/inject: "true"</c> itself (<c>"false"</c> opts out),
/// gets an <c>istio-proxy</c> container running the proxy in transparent mode; a pod that brings its own
/// <c>istio-proxy</c> container with <c>image: auto</c> (a gateway's Deployment, as Istio's gateway chart and Gateway API
/// deployments write it) gets it filled with the gateway template. Pods that exist are never changed.
/// </summary>
internal static class PodAdmission
{
    public const string ProxyContainerName = "istio-proxy";

    /// <summary>Set on every pod admitted, with what was done (<c>sidecar</c>, <c>gateway</c> or <c>none</c>).</summary>
    public const string AdmittedAnnotation = "meshgate.io/admitted";

    /// <summary>Istio's annotation naming the injected containers (<c>sidecar.istio.io/status</c>), kept for tools that read it.</summary>
    public const string StatusAnnotation = "sidecar.istio.io/status";

    public static bool IsAdmitted(JsonObject pod) => pod["metadata"]?["annotations"]?[AdmittedAnnotation] is not null;

    /// <summary>Admits <paramref name="pod"/> (changed in place) in a namespace with <paramref name="namespaceLabels"/>.</summary>
    public static void Admit(JsonObject pod, IReadOnlyDictionary<string, string> namespaceLabels, ProxyTemplate template)
    {
        var metadata = (JsonObject)pod["metadata"]!;
        var annotations = metadata["annotations"] as JsonObject ?? new JsonObject();
        metadata["annotations"] = annotations;
        var spec = pod["spec"] as JsonObject ?? new JsonObject();
        pod["spec"] = spec;
        var containers = spec["containers"] as JsonArray ?? [];
        spec["containers"] = containers;

        var own = containers.OfType<JsonObject>().FirstOrDefault(c => c["name"]?.GetValue<string>() == ProxyContainerName);
        if (own is not null)
        {
            var image = own["image"]?.GetValue<string>();
            if (image is "auto" or "meshgate" && own["command"] is null)
            {
                Fill(own, "gateway", template);
                annotations[AdmittedAnnotation] = "gateway";
                return;
            }

            annotations[AdmittedAnnotation] = "none";
            return;
        }

        if (!WantsSidecar(metadata, namespaceLabels))
        {
            annotations[AdmittedAnnotation] = "none";
            return;
        }

        var sidecar = new JsonObject { ["name"] = ProxyContainerName, ["image"] = "meshgate/proxy" };
        Fill(sidecar, "sidecar", template);
        containers.Add(sidecar);
        annotations[AdmittedAnnotation] = "sidecar";
        annotations[StatusAnnotation] = """{"initContainers":[],"containers":["istio-proxy"],"volumes":[],"imagePullSecrets":null}""";
        annotations["kubectl.kubernetes.io/default-container"] ??= containers[0]?["name"]?.GetValue<string>();
    }

    private static bool WantsSidecar(JsonObject metadata, IReadOnlyDictionary<string, string> namespaceLabels)
    {
        // As Istio's injector: a namespace labelled istio-injection=disabled is never injected, whatever the pod says.
        if (namespaceLabels.TryGetValue("istio-injection", out var disabled) && disabled == "disabled")
        {
            return false;
        }

        var label = metadata["labels"]?["sidecar.istio.io/inject"]?.GetValue<string>();
        if (label is not null)
        {
            return label == "true";
        }

        return namespaceLabels.TryGetValue("istio-injection", out var injection) && injection == "enabled";
    }

    /// <summary>
    /// The proxy container: the command line refers to the pod through <c>$(VAR)</c>s that the kubelet expands from
    /// the container's environment, whose values come from the pod (downward API <c>fieldRef</c>s), as Istio's template does.
    /// </summary>
    private static void Fill(JsonObject container, string role, ProxyTemplate template)
    {
        container["command"] = new JsonArray([.. new[] { template.Executable }.Concat(template.Prefix).Select(a => (JsonNode)a)]);
        var args = new List<string>
        {
            "proxy",
            "--role", role,
            "--discovery-address", template.DiscoveryAddress,
            "--ca-root-file", Path.Combine(template.DataDirectory, "ca", ControlPlane.Identity.TrustRollout.BundleFile),
            "--token-file", Path.Combine(template.DataDirectory, "tokens", "$(POD_NAMESPACE)", "$(POD_NAME)", "istio-token"),
            "--trust-domain", template.TrustDomain,
            "--name", "$(POD_NAME)",
            "--namespace", "$(POD_NAMESPACE)",
            "--labels", "$(POD_LABELS)",
            "--service-account", "$(SERVICE_ACCOUNT)",
            "--ip", "$(INSTANCE_IP)",
            "--admin-port", "15000",
            "--status-port", "15021",
        };
        if (role == "sidecar")
        {
            args.AddRange(["--capture", "transparent"]);
        }

        args.AddRange(template.ExtraArguments);
        container["args"] = new JsonArray([.. args.Select(a => (JsonNode)a)]);
        container["env"] = new JsonArray(
            FieldEnv("POD_NAME", "metadata.name"),
            FieldEnv("POD_NAMESPACE", "metadata.namespace"),
            FieldEnv("INSTANCE_IP", "status.podIP"),
            FieldEnv("SERVICE_ACCOUNT", "spec.serviceAccountName"),
            FieldEnv("POD_LABELS", "metadata.labels"));
        container["ports"] = new JsonArray(new JsonObject { ["containerPort"] = 15021, ["name"] = "http-envoy-prom", ["protocol"] = "TCP" });
    }

    private static JsonObject FieldEnv(string name, string path) =>
        new() { ["name"] = name, ["valueFrom"] = new JsonObject { ["fieldRef"] = new JsonObject { ["fieldPath"] = path } } };
}

using System.Globalization;
using System.Text;
using Meshgate.Core.ProxyConfiguration;
using Meshgate.Core.Resources;
using Meshgate.Core.Translation;
using Meshgate.Core.Validation;

namespace Meshgate.Install;

/// <summary>
/// The objects <c>meshgate up</c> installs before it starts proxies, as Istio's charts install them: the mesh config
/// (ConfigMap <c>istio</c>, key <c>mesh</c>), the egress gateway's Service and ServiceAccount, and the <c>sleep</c>
/// workload's ServiceAccount, Service and Deployment (Istio's sleep sample).
/// </summary>
public static class InstallResources
{
    public const string SleepName = "sleep";

    /// <summary>
    /// The mesh config's <c>meshgate.egress</c> section (docs/egress-safety.md), indented for the ConfigMap; nothing
    /// for the strict defaults.
    /// </summary>
    internal static string EgressYaml(EgressSettings egress)
    {
        if (egress.IsDefault())
        {
            return "";
        }

        static string List(EquatableArray<string> items) => "[" + string.Join(", ", items.Select(i => System.Text.Json.JsonSerializer.Serialize(i))) + "]";
        var yaml = new StringBuilder("\n    meshgate:\n      egress:");
        if (!egress.AllowedCidrs.IsEmpty)
        {
            yaml.Append("\n        allowedCidrs: ").Append(List(egress.AllowedCidrs));
        }

        if (egress.AllowDomainFronting)
        {
            yaml.Append("\n        allowDomainFronting: true");
        }

        if (!egress.DomainFrontingExceptions.IsEmpty)
        {
            yaml.Append("\n        domainFrontingExceptions: ").Append(List(egress.DomainFrontingExceptions));
        }

        return yaml.ToString();
    }

    /// <summary>The ConfigMap annotations that record how the mesh was installed (profile, <c>--set</c>s, local cluster).</summary>
    public const string ProfileAnnotation = "meshgate.io/install-profile";

    public const string SetsAnnotation = "meshgate.io/install-sets";

    public const string ClusterAnnotation = "meshgate.io/cluster";

    public static IReadOnlyList<Resource> For(InstallSettings settings, bool cluster = false) =>
        [.. Components(settings, cluster), .. Parse(SleepYaml(), "meshgate up")];

    /// <summary>
    /// What <c>meshgate install</c> manages: the mesh config (annotated with the profile and sets) and, when enabled,
    /// the egress gateway's ServiceAccount and Service; in the local cluster also its Deployment, whose pod the kubelet
    /// runs (elsewhere <c>up</c> runs the gateway's proxy itself).
    /// </summary>
    public static IReadOnlyList<Resource> Components(InstallSettings settings, bool cluster)
    {
        var sets = System.Text.Json.JsonSerializer.Serialize(settings.Sets);
        var yaml = new StringBuilder();
        yaml.Append(CultureInfo.InvariantCulture, $"""
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: istio
              namespace: {settings.Mesh.RootNamespace}
              labels:
                install.operator.istio.io/owning-resource: meshgate-up
              annotations:
                {ProfileAnnotation}: {settings.Profile}
                {SetsAnnotation}: {System.Text.Json.JsonSerializer.Serialize(sets)}
                {ClusterAnnotation}: "{(cluster ? "true" : "false")}"
            data:
              mesh: |-
                accessLogFile: {System.Text.Json.JsonSerializer.Serialize(settings.Mesh.AccessLogFile)}
                accessLogEncoding: {(settings.Mesh.AccessLogEncoding == AccessLogEncoding.Json ? "JSON" : "TEXT")}{(settings.Mesh.AccessLogFormat.Length == 0 ? "" : "\n    accessLogFormat: " + System.Text.Json.JsonSerializer.Serialize(settings.Mesh.AccessLogFormat))}
                outboundTrafficPolicy:
                  mode: {(settings.Mesh.OutboundTrafficPolicy == OutboundTrafficPolicyMode.RegistryOnly ? "REGISTRY_ONLY" : "ALLOW_ANY")}
                rootNamespace: {settings.Mesh.RootNamespace}
                trustDomain: {settings.Mesh.TrustDomain}{EgressYaml(settings.Mesh.Egress)}
            ---

            """);
        if (settings.EgressGatewayEnabled)
        {
            var name = settings.EgressGatewayName;
            yaml.Append(CultureInfo.InvariantCulture, $"""
                apiVersion: v1
                kind: ServiceAccount
                metadata:
                  name: {name}-service-account
                  namespace: {settings.Mesh.RootNamespace}
                ---
                apiVersion: v1
                kind: Service
                metadata:
                  name: {name}
                  namespace: {settings.Mesh.RootNamespace}
                  labels:
                    app: {name}
                    istio: egressgateway
                spec:
                  type: ClusterIP
                  selector:
                    app: {name}
                    istio: egressgateway
                  ports:
                  - name: http2
                    port: 80
                    targetPort: 8080
                    protocol: TCP
                  - name: https
                    port: 443
                    targetPort: 8443
                    protocol: TCP
                ---

                """);
        }

        if (cluster && settings.EgressGatewayEnabled)
        {
            yaml.Append(LocalCluster.ClusterResources.EgressGatewayDeployment(settings));
        }

        return Parse(yaml.ToString(), "meshgate install");
    }

    /// <summary>The egress gateway's objects by name, for removing them when it is disabled.</summary>
    public static IReadOnlyList<ObjectKey> EgressGatewayKeys(string ns, string name) =>
    [
        new(ResourceTypes.Deployment, ns, name),
        new(ResourceTypes.Service, ns, name),
        new(ResourceTypes.ServiceAccount, ns, name + "-service-account"),
    ];

    private static IReadOnlyList<Resource> Parse(string yaml, string source)
    {
        var parsed = ResourceParser.ParseText(yaml, source);
        return parsed.Ok
            ? parsed.Resources
            : throw new InvalidOperationException($"the objects {source} installs do not validate: " + string.Join("; ", parsed.Errors));
    }

    private static string SleepYaml()
    {
        var yaml = new StringBuilder();
        yaml.Append(CultureInfo.InvariantCulture, $"""
            apiVersion: v1
            kind: ServiceAccount
            metadata:
              name: {SleepName}
              namespace: default
            ---
            apiVersion: v1
            kind: Service
            metadata:
              name: {SleepName}
              namespace: default
              labels:
                app: {SleepName}
                service: {SleepName}
            spec:
              ports:
              - port: 80
                name: http
              selector:
                app: {SleepName}
            ---
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: {SleepName}
              namespace: default
            spec:
              replicas: 1
              selector:
                matchLabels:
                  app: {SleepName}
              template:
                metadata:
                  labels:
                    app: {SleepName}
                spec:
                  terminationGracePeriodSeconds: 0
                  serviceAccountName: {SleepName}
                  containers:
                  - name: {SleepName}
                    image: curlimages/curl:8.16.0
                    command: ["/bin/sleep", "infinity"]
                    imagePullPolicy: IfNotPresent
                    volumeMounts:
                    - mountPath: /etc/sleep/tls
                      name: secret-volume
                  volumes:
                  - name: secret-volume
                    secret:
                      secretName: sleep-secret
                      optional: true

            """);
        return yaml.ToString();
    }
}

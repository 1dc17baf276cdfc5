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

    public static IReadOnlyList<Resource> For(InstallSettings settings)
    {
        var yaml = new StringBuilder();
        yaml.Append(CultureInfo.InvariantCulture, $"""
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: istio
              namespace: {settings.Mesh.RootNamespace}
              labels:
                install.operator.istio.io/owning-resource: meshgate-up
            data:
              mesh: |-
                accessLogFile: "{settings.Mesh.AccessLogFile}"
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
        var parsed = ResourceParser.ParseText(yaml.ToString(), "meshgate up");
        return parsed.Ok
            ? parsed.Resources
            : throw new InvalidOperationException("the objects meshgate up installs do not validate: " + string.Join("; ", parsed.Errors));
    }
}

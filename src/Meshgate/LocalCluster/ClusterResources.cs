using System.Globalization;
using Meshgate.Core.Resources;
using Meshgate.Core.Validation;
using Meshgate.Install;

namespace Meshgate.LocalCluster;

/// <summary>
/// The objects the local cluster starts with, beyond what <see cref="InstallResources"/> installs for every local mesh:
/// kube-dns (dnsmasq) in <c>kube-system</c>, istiod's Service and Pod in <c>istio-system</c>, the egress gateway's
/// Deployment (its <c>istio-proxy</c> container filled by the gateway injection template, as Istio's gateway chart
/// does), and the <c>default</c> namespace labelled for sidecar injection.
/// </summary>
internal static class ClusterResources
{
    /// <summary>The egress gateway's Deployment (YAML), its pod's <c>istio-proxy</c> filled by the gateway template.</summary>
    public static string EgressGatewayDeployment(InstallSettings settings)
    {
        var root = settings.Mesh.RootNamespace;
        var name = settings.EgressGatewayName;
        return string.Create(CultureInfo.InvariantCulture, $"""
                apiVersion: apps/v1
                kind: Deployment
                metadata:
                  name: {name}
                  namespace: {root}
                  labels:
                    app: {name}
                    istio: egressgateway
                spec:
                  replicas: 1
                  selector:
                    matchLabels:
                      app: {name}
                      istio: egressgateway
                  template:
                    metadata:
                      labels:
                        app: {name}
                        istio: egressgateway
                        sidecar.istio.io/inject: "true"
                      annotations:
                        inject.istio.io/templates: gateway
                    spec:
                      serviceAccountName: {name}-service-account
                      containers:
                      - name: istio-proxy
                        image: auto

                """);
    }

    public static IReadOnlyList<Resource> For(InstallSettings settings, string istiodPod, string dnsDirectory)
    {
        var root = settings.Mesh.RootNamespace;
        var yaml = string.Create(CultureInfo.InvariantCulture, $"""
            apiVersion: v1
            kind: Namespace
            metadata:
              name: default
              labels:
                istio-injection: enabled
            ---
            apiVersion: v1
            kind: Service
            metadata:
              name: kube-dns
              namespace: kube-system
              labels:
                k8s-app: kube-dns
            spec:
              clusterIP: {ClusterLayout.DnsServiceAddress}
              selector:
                k8s-app: kube-dns
              ports:
              - name: dns
                port: 53
                protocol: UDP
              - name: dns-tcp
                port: 53
                protocol: TCP
            ---
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: coredns
              namespace: kube-system
              labels:
                k8s-app: kube-dns
            spec:
              replicas: 1
              selector:
                matchLabels:
                  k8s-app: kube-dns
              template:
                metadata:
                  labels:
                    k8s-app: kube-dns
                spec:
                  containers:
                  - name: dnsmasq
                    image: dnsmasq
                    command: ["dnsmasq", "--keep-in-foreground", "--no-resolv", "--no-hosts", "--hostsdir={dnsDirectory}", "--local=/{ClusterLayout.Domain}/", "--log-facility=-", "--user=root", "--group=root"]
                    ports:
                    - name: dns
                      containerPort: 53
                      protocol: UDP
                    - name: dns-tcp
                      containerPort: 53
                      protocol: TCP
            ---
            apiVersion: v1
            kind: Service
            metadata:
              name: istiod
              namespace: {root}
              labels:
                app: istiod
                istio: pilot
            spec:
              selector:
                app: istiod
              ports:
              - name: https-dns
                port: 15012
                protocol: TCP
            ---
            apiVersion: v1
            kind: Pod
            metadata:
              name: {istiodPod}
              namespace: {root}
              labels:
                app: istiod
                istio: pilot
              annotations:
                {Kubelet.EmbeddedAnnotation}: control-plane
                {PodAdmission.AdmittedAnnotation}: none
            spec:
              serviceAccountName: istiod
              containers:
              - name: discovery
                image: meshgate
                ports:
                - name: https-dns
                  containerPort: 15012
                  protocol: TCP

            """);
        var parsed = ResourceParser.ParseText(yaml, "meshgate up --cluster");
        return parsed.Ok
            ? [.. InstallResources.For(settings, cluster: true), .. parsed.Resources]
            : throw new InvalidOperationException("the objects meshgate up --cluster installs do not validate: " + string.Join("; ", parsed.Errors));
    }
}

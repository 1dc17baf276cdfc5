using k8s;
using Meshgate.ControlPlane;

namespace Meshgate.Tests.Kubernetes;

/// <summary>
/// How the tests of this folder that start their own control plane reach its Kubernetes API: the kubeconfig the
/// control plane writes (<c>DATA/kubeconfig</c>: HTTPS, the mesh root as the certificate authority, the admin token),
/// or, for a control plane started with <c>UnauthenticatedPlaintextApiForTests</c>, its plain address.
/// </summary>
internal static class ApiAccess
{
    /// <summary>The API's base address, without the trailing slash (<c>https://127.0.0.1:PORT</c>).</summary>
    public static string Server(ControlPlaneServer server) => server.ApiAddress.ToString().TrimEnd('/');

    /// <summary>A KubernetesClient configuration for the API (its address, trust and token).</summary>
    public static KubernetesClientConfiguration ClientConfiguration(ControlPlaneServer server) =>
        server.KubeconfigPath is { } path ? KubernetesClientConfiguration.BuildConfigFromConfigFile(path) : new() { Host = Server(server) };

    /// <summary>The text of a kubeconfig for the API, for kubectl and helm.</summary>
    public static string Kubeconfig(ControlPlaneServer server) => server.KubeconfigPath is { } path ? File.ReadAllText(path) : $"""
        apiVersion: v1
        kind: Config
        clusters:
        - name: meshgate
          cluster:
            server: {Server(server)}
        contexts:
        - name: meshgate
          context:
            cluster: meshgate
            user: meshgate
        current-context: meshgate
        users:
        - name: meshgate
          user: {"{}"}
        """;
}

using k8s;
using Meshgate.ControlPlane;

namespace Meshgate.Tests.Kubernetes;

/// <summary>
/// How the tests of this folder that start their own control plane reach its Kubernetes API: the server address, a
/// kubeconfig and a KubernetesClient configuration, all from here. When the API gets HTTPS and credentials, this is the
/// one place to change (the kubeconfig then names the CA and the token).
/// </summary>
internal static class ApiAccess
{
    /// <summary>The API's base address, without the trailing slash (<c>http://127.0.0.1:PORT</c>).</summary>
    public static string Server(ControlPlaneServer server) => server.ApiAddress.ToString().TrimEnd('/');

    /// <summary>A KubernetesClient configuration for the API.</summary>
    public static KubernetesClientConfiguration ClientConfiguration(ControlPlaneServer server) => new() { Host = Server(server) };

    /// <summary>A kubeconfig for the API, for kubectl and helm.</summary>
    public static string Kubeconfig(ControlPlaneServer server) => $"""
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

using System.Text;
using Meshgate.ControlPlane.Identity;

namespace Meshgate.ControlPlane.Api.Access;

/// <summary>
/// <c>DATA/kubeconfig</c>: how kubectl and <c>meshgate</c> reach the resource API: the HTTPS address, the mesh root
/// the server's certificate chains to (<c>certificate-authority-data</c>) and the admin token. Written 0600 at every
/// start (the port may change), in the shape kubectl writes.
/// </summary>
public static class KubeconfigFile
{
    public const string FileName = "kubeconfig";

    /// <summary>Writes the kubeconfig and returns its full path.</summary>
    public static string Write(string dataDirectory, Uri server, string rootBundle, string token)
    {
        var path = Path.GetFullPath(Path.Combine(dataDirectory, FileName));
        var authority = Convert.ToBase64String(Encoding.ASCII.GetBytes(rootBundle));
        SecretFile.Write(path, $"""
            apiVersion: v1
            kind: Config
            clusters:
            - name: meshgate
              cluster:
                server: {server.GetLeftPart(UriPartial.Authority)}
                certificate-authority-data: {authority}
            contexts:
            - name: meshgate
              context:
                cluster: meshgate
                user: meshgate-admin
                namespace: default
            current-context: meshgate
            users:
            - name: meshgate-admin
              user:
                token: {token}

            """);
        return path;
    }
}

